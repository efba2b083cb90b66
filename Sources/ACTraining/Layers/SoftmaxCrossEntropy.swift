/// Mean softmax cross-entropy over a batch, with optional label smoothing ε
/// (target = (1−ε)·onehot + ε/K, as `nn.CrossEntropyLoss(label_smoothing: ε)`).
public struct SoftmaxCrossEntropy: Sendable {
    public var labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1)")
        self.labelSmoothing = labelSmoothing
    }

    /// logits `[N, K]`, labels in 0..<K. Returns the mean loss, dLoss/dlogits `[N, K]`, and the
    /// number of rows whose arg-max equals the label.
    public func callAsFunction(_ logits: Tensor, labels: [Int]) -> (loss: Float, grad: Tensor, correct: Int) {
        precondition(
            logits.rank == 2 && logits.shape[0] == labels.count,
            "SoftmaxCrossEntropy: logits \(logits.shape) for \(labels.count) labels")
        let n = logits.shape[0]
        let k = logits.shape[1]
        var grad = Tensor(shape: logits.shape)
        var total = 0.0
        var correct = 0
        let eps = labelSmoothing
        for i in 0..<n {
            let row = i * k
            precondition(labels[i] >= 0 && labels[i] < k, "label \(labels[i]) out of 0..<\(k)")
            var m = -Float.infinity
            var arg = 0
            for j in 0..<k where logits.data[row + j] > m {
                m = logits.data[row + j]
                arg = j
            }
            if arg == labels[i] { correct += 1 }
            var s: Double = 0
            for j in 0..<k { s += Double((logits.data[row + j] - m).expApprox) }
            let logZ = Double(m) + log(s)
            var li = 0.0
            for j in 0..<k {
                let logp = Double(logits.data[row + j]) - logZ
                let t = Double(eps) / Double(k) + (j == labels[i] ? Double(1 - eps) : 0)
                li -= t * logp
                grad.data[row + j] = Float((exp(logp) - t) / Double(n))
            }
            total += li
        }
        return (Float(total / Double(n)), grad, correct)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Float {
    var expApprox: Float { Float(exp(Double(self))) }
}
