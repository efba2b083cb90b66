/// Runs its children in order; backward runs them in reverse.
///
/// Children are named "0", "1", … (as `torch.nn.Sequential`) unless names are given.
public final class Sequential: Module {
    public let layers: [any Module]
    public let names: [String]

    public init(_ layers: [any Module]) {
        self.layers = layers
        self.names = layers.indices.map(String.init)
    }

    public init(named: [(String, any Module)]) {
        self.layers = named.map { $0.1 }
        self.names = named.map { $0.0 }
    }

    public var children: [(String, any Module)] { Array(zip(names, layers)) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = x
        for l in layers { y = l.forward(y, training: training) }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var g = gradOutput
        for l in layers.reversed() { g = l.backward(g) }
        return g
    }
}

/// The identity (an empty residual shortcut).
public final class Identity: Module {
    public init() {}
    public func forward(_ x: Tensor, training: Bool) -> Tensor { x }
    public func backward(_ gradOutput: Tensor) -> Tensor { gradOutput }
}
