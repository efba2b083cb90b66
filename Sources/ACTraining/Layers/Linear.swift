/// Fully connected layer: y = x·Wᵀ + b, x `[N, inputFeatures]`, weight
/// `[outputFeatures, inputFeatures]`, bias `[outputFeatures]`. SGEMM (OpenBLAS).
/// Initialisation: PyTorch's default, uniform ±1/√inputFeatures.
public final class Linear: Module {
    public let inputFeatures: Int
    public let outputFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var cachedInput = Tensor(shape: [0])

    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, seed: UInt64 = 0) {
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        var rng = SeededGenerator(seed: seed)
        let bound = 1 / Float(inputFeatures).squareRoot()
        weight = Parameter(.uniform([outputFeatures, inputFeatures], bound: bound, using: &rng))
        self.bias = bias ? Parameter(.uniform([outputFeatures], bound: bound, using: &rng), isBias: true) : nil
    }

    public var localParameters: [(String, Parameter)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(
            x.rank == 2 && x.shape[1] == inputFeatures,
            "Linear: expected [N, \(inputFeatures)], got \(x.shape)")
        let n = x.shape[0]
        let F = inputFeatures
        let O = outputFeatures
        var y = Tensor(shape: [n, O])
        if let bias {
            for i in 0..<n { for o in 0..<O { y.data[i * O + o] = bias.value.data[o] } }
        }
        x.withUnsafeBufferPointer { xp in
            weight.value.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    sgemm(
                        transB: true, m: n, n: O, k: F, a: xp.baseAddress!, lda: F,
                        b: wp.baseAddress!, ldb: F, beta: 1, c: yp.baseAddress!, ldc: O)
                }
            }
        }
        if training { cachedInput = x }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let n = cachedInput.shape[0]
        let F = inputFeatures
        let O = outputFeatures
        precondition(gradOutput.shape == [n, O], "Linear.backward: gradient shape \(gradOutput.shape)")
        var dx = Tensor(shape: [n, F])
        gradOutput.withUnsafeBufferPointer { gp in
            cachedInput.withUnsafeBufferPointer { xp in
                weight.grad.withUnsafeMutableBufferPointer { dw in
                    sgemm(
                        transA: true, m: O, n: F, k: n, a: gp.baseAddress!, lda: O,
                        b: xp.baseAddress!, ldb: F, beta: 1, c: dw.baseAddress!, ldc: F)
                }
            }
            weight.value.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dp in
                    sgemm(
                        m: n, n: F, k: O, a: gp.baseAddress!, lda: O, b: wp.baseAddress!, ldb: F,
                        c: dp.baseAddress!, ldc: F)
                }
            }
        }
        if let bias {
            for i in 0..<n { for o in 0..<O { bias.grad.data[o] += gradOutput.data[i * O + o] } }
        }
        return dx
    }
}
