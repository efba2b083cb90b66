/// max(0, x), elementwise, any shape.
public final class ReLU: Module {
    public init() {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { s in
            y.withUnsafeMutableBufferPointer { d in
                for i in 0..<d.count { d[i] = s[i] > 0 ? s[i] : 0 }  // NaN → 0; vectorises
            }
        }
        if training { cachedOutput = y }
        return y
    }
    private var cachedOutput = Tensor(shape: [0])

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.count == cachedOutput.count, "ReLU.backward: no matching forward")
        var g = Tensor(uninitializedShape: gradOutput.shape)
        cachedOutput.withUnsafeBufferPointer { y in
            gradOutput.withUnsafeBufferPointer { s in
                g.withUnsafeMutableBufferPointer { d in
                    for i in 0..<d.count { d[i] = y[i] > 0 ? s[i] : 0 }
                }
            }
        }
        return g
    }
}

/// Flattens `[N, d1, d2, …]` to `[N, d1·d2·…]` (NCHW order kept).
public final class Flatten: Module {
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { inputShape = x.shape }
        return x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
    }
    public func backward(_ gradOutput: Tensor) -> Tensor { gradOutput.reshaped(inputShape) }
}

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
/// by 1/(1−p); identity in evaluation.
public final class Dropout: Module {
    public let p: Float
    private var rng: SeededGenerator
    private var mask: [Float] = []

    public init(p: Float = 0.5, seed: UInt64 = 0x5EED) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        self.rng = SeededGenerator(seed: seed)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training, p > 0 else { return x }
        let keep = 1 / (1 - p)
        mask = (0..<x.count).map { _ in rng.nextUnit() < p ? 0 : keep }
        var y = x
        for i in 0..<y.count { y.data[i] *= mask[i] }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard p > 0 else { return gradOutput }
        var g = gradOutput
        for i in 0..<g.count { g.data[i] *= mask[i] }
        return g
    }
}
