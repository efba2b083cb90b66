import Foundation

/// Training throughput of a registry model on a synthetic batch: images per second of the
/// full step (zero grads, forward, softmax cross-entropy, backward, SGD with momentum 0.9 and
/// weight decay 1e-4), as the PyTorch training-throughput peer script (`torch_train_throughput.py`) measures PyTorch.
public enum TrainingThroughput {
    /// Runs `warmup` (and at least 0.5 s of) untimed then `iterations` timed steps on one seeded N(0,1) batch with
    /// random labels; returns images/s. `threads` sets `trainingThreadCount`.
    public static func measure(
        model name: String, acb: Bool, batch: Int = 128, iterations: Int = 20,
        warmup: Int = 3, threads: Int = 2
    ) throws -> Double {
        let previous = trainingThreadCount
        trainingThreadCount = max(threads, 1)
        defer { trainingThreadCount = previous }
        let spec = try ModelRegistry.spec(name)
        let model = try spec.make(acb: acb, seed: 0)
        let opt = SGD(
            model.namedParameters(), momentum: 0.9, weightDecay: 1e-4, weightDecayOnAll: true,
            biasLRMultiplier: 1)
        var rng = SeededGenerator(seed: 0)
        let x = Tensor.normal([batch] + spec.inputShape, std: 1, using: &rng)
        let labels = (0..<batch).map { _ in Int(rng.next() % UInt64(spec.classCount)) }
        let loss = SoftmaxCrossEntropy()
        func step() {
            model.zeroGrad()
            let (_, g, _) = loss(model.forward(x, training: true), labels: labels)
            _ = model.backward(g)
            opt.step(lr: 0.1)
        }
        // At least `warmup` steps and at least 0.5 s: the first model of a process otherwise
        // measured cold (thread pool, first-touch pages, clock ramp-up; 685-1230 img/s for
        // fashion_net in consecutive runs), while PyTorch's script reaches its 2-thread models
        // after a whole 1-thread pass.
        let warmStart = DispatchTime.now().uptimeNanoseconds
        var warmSteps = 0
        while warmSteps < warmup || DispatchTime.now().uptimeNanoseconds - warmStart < 500_000_000 {
            step()
            warmSteps += 1
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(batch * iterations) / seconds
    }
}
