/// max(0, x), elementwise, any shape.
public final class ReLU: Module {
    public init() {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { s in
            y.withUnsafeMutableBufferPointer { d in
                let box = UnsafeSendableBox((s.baseAddress!, d.baseAddress!))
                let n = d.count
                parallelChunks(n / 16, minWork: n) { r in
                    let (s, d) = box.value
                    let hi = r.upperBound == n / 16 ? n : r.upperBound * 16
                    vrelu(s + r.lowerBound * 16, d + r.lowerBound * 16, hi - r.lowerBound * 16)
                }
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
                    let box = UnsafeSendableBox((y.baseAddress!, s.baseAddress!, d.baseAddress!))
                    let n = d.count
                    parallelChunks(n / 16, minWork: n) { r in
                        let (y, s, d) = box.value
                        let lo = r.lowerBound * 16
                        let hi = r.upperBound == n / 16 ? n : r.upperBound * 16
                        vreluGrad(y + lo, s + lo, d + lo, hi - lo)
                    }
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
