import ACTraining
import ArgumentParser

/// `acnet train-bench`: training throughput (images/s, full SGD step) on a synthetic batch,
/// in the output format of the PyTorch peer script torch_train_throughput.py so the two can be joined
/// (scripts/train_throughput.sh does that).
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-bench",
        abstract: "Training throughput (images/s) of registry models, plain and with ACBs.",
        discussion: """
            One step = zero grads, forward, softmax cross-entropy, backward, SGD (momentum 0.9, \
            weight decay 1e-4) on one N(0,1) batch with random labels, as \
            the PyTorch peer script torch_train_throughput.py measures PyTorch. Prints one line per \
            model, ACB setting and thread count: `NAME acb=True threads=2   N img/s`.
            """,
        shouldDisplay: false)

    @Option(help: "Comma-separated registry models (\(ModelRegistry.names.joined(separator: ", "))).")
    var models = "fashion_net,cifar_quick"

    @Option(help: "Images per step, 1...4096.")
    var batch = 128

    @Option(help: "Timed steps per measurement, 1...100000.")
    var iterations = 20

    @Option(help: "Untimed warm-up steps, 0...100000.")
    var warmup = 3

    @Option(help: "Comma-separated thread counts, each 1...64.")
    var threads = "1,2"

    func validate() throws {
        try OptionCheck.range("--batch", batch, 1...4096)
        try OptionCheck.range("--iterations", iterations, 1...100_000)
        try OptionCheck.range("--warmup", warmup, 0...100_000)
        let counts = threads.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 != nil && (1...64).contains($0!) }) else {
            throw ValidationError("--threads must be comma-separated integers in 1...64")
        }
        for name in models.split(separator: ",", omittingEmptySubsequences: false)
        where !ModelRegistry.names.contains(String(name)) {
            throw ValidationError(
                "--models: unknown model '\(name)'; choose from \(ModelRegistry.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let names = models.split(separator: ",").map(String.init)
        let threadCounts = threads.split(separator: ",").compactMap { Int($0) }
        print(
            "# OpenBLAS core: \(BLASSetup.ensureConfigured()); direct-convolution kernels: \(TrainingKernelISA.active.rawValue)"
        )
        for t in threadCounts {
            for acb in [false, true] {
                for name in names {
                    let r = try TrainingThroughput.measure(
                        model: name, acb: acb, batch: batch,
                        iterations: iterations, warmup: warmup, threads: t)
                    let label = "\(name) acb=\(acb ? "True" : "False")"
                    let padded = label + String(repeating: " ", count: max(0, 24 - label.count))
                    let rate = String(Int(r.rounded()))
                    print(
                        "\(padded) threads=\(t) \(String(repeating: " ", count: max(0, 8 - rate.count)))\(rate) img/s")
                }
            }
        }
    }
}
