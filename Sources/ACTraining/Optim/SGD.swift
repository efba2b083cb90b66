/// Stochastic gradient descent with momentum, PyTorch semantics (`torch.optim.SGD`,
/// dampening 0): d = g + wd·p;  buf = momentum·buf + d;  p −= lr·mult·buf.
///
/// Per-parameter policy (the ACNet reference recipe): biases and BN β get
/// `biasLRMultiplier`× the learning rate; weight decay applies to every parameter when
/// `weightDecayOnAll`, else not to BN γ/β and biases.
public final class SGD {
    public let parameters: [(String, Parameter)]
    public var momentum: Float
    public var weightDecay: Float
    public var weightDecayOnAll: Bool
    public var biasLRMultiplier: Float
    public var nesterov: Bool

    public init(
        _ parameters: [(String, Parameter)], momentum: Float = 0.9, weightDecay: Float = 1e-4,
        weightDecayOnAll: Bool = true, biasLRMultiplier: Float = 2, nesterov: Bool = false
    ) {
        self.parameters = parameters
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.weightDecayOnAll = weightDecayOnAll
        self.biasLRMultiplier = biasLRMultiplier
        self.nesterov = nesterov
    }

    /// From a recipe.
    public convenience init(_ parameters: [(String, Parameter)], recipe: Recipe) {
        self.init(
            parameters, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
            weightDecayOnAll: recipe.weightDecayOnAll, biasLRMultiplier: recipe.biasLRMultiplier)
    }

    /// Applies one update with learning rate `lr` (gradients are read, not cleared).
    public func step(lr: Float) {
        for (_, p) in parameters {
            let decays = weightDecayOnAll || !(p.isBias || p.isNormalization)
            let wd = decays ? weightDecay : 0
            let rate = lr * (p.isBias ? biasLRMultiplier : 1)
            if p.momentumBuffer == nil { p.momentumBuffer = Tensor.zeros(like: p.value) }
            let m = momentum
            let nest = nesterov
            p.grad.withUnsafeBufferPointer { g in
                p.momentumBuffer!.withUnsafeMutableBufferPointer { b in
                    p.value.withUnsafeMutableBufferPointer { v in
                        for i in 0..<v.count {
                            let d = g[i] + wd * v[i]
                            b[i] = m * b[i] + d
                            v[i] -= rate * (nest ? d + m * b[i] : b[i])
                        }
                    }
                }
            }
        }
    }
}
