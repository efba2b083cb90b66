import ACTraining
import ArgumentParser
import Foundation

/// `acnet train`: trains a model (optionally with ACBs) with live progress, logs and
/// resumable checkpoints.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on the CPU (optionally with Asymmetric Convolution Blocks).",
        discussion: """
            Writes OUT/last.safetensors after every epoch, OUT/best.safetensors for the best \
            validation accuracy (a split carved from the training set; the test set is never used \
            to choose), OUT/log.csv and OUT/curves.svg. Restarting the same command resumes from \
            OUT/last.safetensors with identical results. At the end the best checkpoint is \
            evaluated once on the test split. Export it with `acnet export OUT/best.safetensors`.
            """)

    @Option(name: .long, help: "Model: \(ModelRegistry.names.joined(separator: ", ")).")
    var model = "fashion_net"

    @Flag(name: .long, inversion: .prefixedNo, help: "Replace every KxK conv (1 < K < 7) by an ACB.")
    var acb = true

    @Option(
        name: .long,
        help: ArgumentHelp(
            "ACB ablation variant: full (square+ver+hor, a BatchNorm per branch; the paper), hor (square+hor only), ver (square+ver only), sharedbn (three branches, one BatchNorm after their sum).",
            valueName: "full|hor|ver|sharedbn"))
    var acbVariant = "full"

    @Option(
        name: .long,
        help:
            "Dataset directory: IDX files (MNIST/Fashion-MNIST) or an image folder <class>/*.jpg (with train/ and test/ when present)."
    )
    var data: String

    @Option(name: .long, help: "Output directory for checkpoints and logs (created; must be writable).")
    var out: String

    @Option(name: .long, help: "Number of epochs, 1...100000.")
    var epochs = 20

    @Option(name: .long, help: "Images per SGD step, 1...65536.")
    var batchSize = 128

    @Option(name: .long, help: "Peak learning rate, in (0, 10].")
    var lr = 0.1

    @Option(name: .long, help: "SGD momentum, in [0, 1).")
    var momentum = 0.9

    @Option(name: .long, help: "L2 weight decay, in [0, 1].")
    var weightDecay = 1e-4

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Apply weight decay to BatchNorm parameters and biases too (the reference recipe).")
    var decayAll = true

    @Option(
        name: .long,
        help: "Learning-rate multiplier for biases and BatchNorm beta (2 in the reference recipe), in [0, 100].")
    var biasLrMultiplier = 2.0

    @Option(name: .long, help: "Learning-rate schedule: cosine (per iteration) or step.")
    var schedule = "cosine"

    @Option(name: .long, help: "Linear warm-up length in epochs, in [0, --epochs].")
    var warmup = 0.0

    @Option(
        name: .long, parsing: .upToNextOption,
        help: "Step schedule: epochs at which the rate is multiplied by --gamma, each in 1...--epochs.")
    var milestones: [Int] = []

    @Option(name: .long, help: "Step schedule factor, in (0, 1].")
    var gamma = 0.1

    @Option(name: .long, help: "Label smoothing of the cross-entropy (0 = off), in [0, 1).")
    var labelSmoothing = 0.0

    @Option(
        name: .long,
        help: "Random-crop augmentation: zero padding per side before cropping back (0 = off; 4 for CIFAR), 0...64.")
    var cropPadding = 0

    @Flag(name: .long, help: "Random horizontal flip augmentation.")
    var flip = false

    @Option(
        name: .long,
        help:
            "Images carved from the training set for validation (0 = none; at most a fifth of the set is used), 0...100000000."
    )
    var validation = 5000

    @Option(name: .long, help: "Seed of initialisation, split, shuffling and augmentation.")
    var seed: UInt64 = 1

    @Option(
        name: .long,
        help: "Initial gamma of the ACB branch BatchNorms (default: the model's, 1/3 for CIFAR models), in (0, 10].")
    var gammaInit: Float?

    @Option(name: .long, help: "Image-folder datasets: decode to 1 (gray) or 3 (RGB) channels.")
    var channels = 3

    @Option(
        name: .long,
        help:
            "Comma-separated class names for IDX data (default: Fashion-MNIST's when the path contains 'fashion', else the digits 0-9). Image folders use their folder names."
    )
    var labels: String?

    @Option(name: .long, help: "Use only N training images (quick experiments), 1...100000000.")
    var limit: Int?

    @Flag(name: .long, help: "Start over even if OUT/last.safetensors exists.")
    var fresh = false

    @Option(
        name: .long,
        help:
            "Also checkpoint OUT/last.safetensors every N iterations inside an epoch, so a restart resumes mid-epoch (0 = at epoch ends only), 0...1000000000."
    )
    var checkpointEvery = 100

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Worker threads of the training step (convolutions, BatchNorm, GEMMs), 1...64.",
            discussion:
                "Results are bit-for-bit reproducible for a given thread count; a run resumed with another count continues correctly but not bit for bit. Batch preparation runs on one more background thread."
        ))
    var threads = 2

    func validate() throws {
        try OptionCheck.range("--epochs", epochs, 1...100_000)
        try OptionCheck.range("--batch-size", batchSize, 1...65_536)
        try OptionCheck.finite("--lr", lr, 0...10, openLower: true)
        try OptionCheck.finite("--momentum", momentum, 0...1, openUpper: true)
        try OptionCheck.finite("--weight-decay", weightDecay, 0...1)
        try OptionCheck.finite("--bias-lr-multiplier", biasLrMultiplier, 0...100)
        try OptionCheck.finite("--warmup", warmup, 0...Double(epochs))
        for m in milestones { try OptionCheck.range("--milestones", m, 1...epochs) }
        try OptionCheck.finite("--gamma", gamma, 0...1, openLower: true)
        try OptionCheck.finite("--label-smoothing", labelSmoothing, 0...1, openUpper: true)
        try OptionCheck.range("--crop-padding", cropPadding, 0...64)
        try OptionCheck.range("--validation", validation, 0...OptionCheck.maxImages)
        if let gammaInit { try OptionCheck.finite("--gamma-init", Double(gammaInit), 0...10, openLower: true) }
        if let limit { try OptionCheck.range("--limit", limit, 1...OptionCheck.maxImages) }
        try OptionCheck.range("--checkpoint-every", checkpointEvery, 0...1_000_000_000)
        try OptionCheck.range("--threads", threads, 1...64)
        guard ["cosine", "step"].contains(schedule) else { throw ValidationError("--schedule must be cosine or step") }
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3") }
        guard let v = ACBVariant(rawValue: acbVariant) else {
            throw ValidationError(
                "--acb-variant must be one of \(ACBVariant.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard acb || v == .full else { throw ValidationError("--acb-variant \(acbVariant) needs --acb") }
        guard ModelRegistry.names.contains(model) else {
            throw ValidationError(
                "unknown model \(model); choose one of \(ModelRegistry.names.joined(separator: ", "))")
        }
        if let labels {
            let names = labels.split(separator: ",", omittingEmptySubsequences: false)
            guard names.allSatisfy({ !$0.isEmpty }) else { throw ValidationError("--labels has an empty class name") }
        }
        try OptionCheck.inputDirectory("--data", data)
        try OptionCheck.outputDirectory("--out", out)
    }

    func run() throws {
        trainingThreadCount = threads
        let dataset = DatasetDirectory(data)
        let stderr = FileHandle.standardError
        func note(_ s: String) { stderr.write(Data((s + "\n").utf8)) }

        let spec = try ModelRegistry.spec(model)
        let (c, h, w) = (spec.inputShape[0], spec.inputShape[1], spec.inputShape[2])
        if !dataset.isIDX && channels != c {
            throw CLIError("\(model) expects \(c)-channel images; pass --channels \(c)")
        }
        let classNames = labels.map { $0.split(separator: ",").map { String($0) } }
        // Image folders are resampled to the model's input size as they are decoded.
        let full = try dataset.load(.train, channels: channels, classNames: classNames, size: (h, w), limit: limit)
        guard spec.inputShape == [full.channels, full.height, full.width], spec.classCount == full.classNames.count
        else {
            throw CLIError(
                "\(model) expects \(spec.inputShape) images in \(spec.classCount) classes; "
                    + "\(data) has \([full.channels, full.height, full.width]) in \(full.classNames.count)")
        }
        // The test split is loaded (and checked) before the first epoch, not after the last.
        let test =
            dataset.hasTestSplit
            ? try dataset.load(.test, channels: channels, classNames: full.classNames, size: (h, w)) : nil
        if let test, [test.channels, test.height, test.width] != spec.inputShape {
            throw CLIError(
                "the test split of \(data) has \([test.channels, test.height, test.width]) images; "
                    + "\(model) and the training split have \(spec.inputShape)")
        }
        let normalization = Normalization(statisticsOf: full)
        let valCount = min(validation, full.count / 5)
        let (train, val) = valCount > 0 ? full.split(validationCount: valCount, seed: seed) : (full, nil)
        note(
            "data: \(data): \(train.count) training, \(val?.count ?? 0) validation, \(test?.count ?? 0) test images, "
                + "\(full.channels)x\(full.height)x\(full.width), \(full.classNames.count) classes; "
                + "mean \(normalization.mean) std \(normalization.std)")

        let recipe = TrainingRecipe(
            model: model, acb: acb, epochs: epochs, batchSize: batchSize, learningRate: lr, momentum: momentum,
            weightDecay: weightDecay, weightDecayOnAll: decayAll, biasLearningRateMultiplier: biasLrMultiplier,
            schedule: schedule, warmupEpochs: warmup, stepMilestones: milestones, stepGamma: gamma,
            labelSmoothing: labelSmoothing, augmentation: Augmentation(padding: cropPadding, horizontalFlip: flip),
            validationCount: valCount, seed: seed, gammaInit: gammaInit,
            acbVariant: acb ? ACBVariant(rawValue: acbVariant) : nil)
        let net = try recipe.makeModel()
        let trainer: Trainer
        do {
            trainer = try Trainer(
                recipe: recipe, model: net, train: train, validation: val,
                normalization: normalization, outputDirectory: out)
        } catch let e as CocoaError {
            throw CLIError(
                "cannot create the output directory \(out): \(e.underlying.map { "\($0.localizedDescription)" } ?? e.localizedDescription)"
            )
        }
        trainer.extraMetadata = ["data": (data as NSString).standardizingPath]
        trainer.checkpointInterval = checkpointEvery
        let last = (out as NSString).appendingPathComponent("last.safetensors")
        let bestPath = (out as NSString).appendingPathComponent("best.safetensors")
        if !fresh && FileManager.default.fileExists(atPath: last) {
            try trainer.resume(from: last)
            note("resumed from \(last): \(trainer.epoch) epochs, \(trainer.iteration) iterations done")
            if trainer.epoch >= 1 && !FileManager.default.fileExists(atPath: bestPath) {
                throw CLIError(
                    "\(out) has last.safetensors after \(trainer.epoch) epochs but no best.safetensors; "
                        + "restore it, or start over with --fresh")
            }
            if trainer.epoch >= epochs { note("the run is already complete") }
        }
        note(
            "model: \(model)\(acb ? " with ACBs" : "")\(recipe.acbVariant.map { " (variant \($0.rawValue))" } ?? ""), \(net.parameterCount) parameters; "
                + "\(trainer.iterationsPerEpoch) iterations/epoch, \(epochs) epochs, \(threads) thread\(threads == 1 ? "" : "s")"
        )
        let started = Date()
        let progress = ProgressReporter(
            totalSteps: epochs * trainer.iterationsPerEpoch,
            completedSteps: trainer.iteration)
        try trainer.run(progress: progress)
        note(String(format: "training finished in %.1f min", Date().timeIntervalSince(started) / 60))

        if let test {
            let best = try recipe.makeModel()
            let file = try SafeTensors(contentsOfFile: bestPath)
            let info = try TrainerCheckpointInfo(file, path: bestPath)
            try ModelState.load(best, from: file)
            let r = Trainer.evaluate(model: best, set: test, normalization: normalization)
            print(
                String(
                    format: "test accuracy of %@ (epoch %d, validation %.4f): %.4f (%d/%d)",
                    bestPath, info.epoch, info.bestValidationAccuracy, r.accuracy, r.correct, test.count))
        }
    }
}
