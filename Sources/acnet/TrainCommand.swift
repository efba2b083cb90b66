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

    @Option(name: .long, help: ArgumentHelp(
        "ACB ablation variant: full (square+ver+hor, a BatchNorm per branch; the paper), hor (square+hor only), ver (square+ver only), sharedbn (three branches, one BatchNorm after their sum).",
        valueName: "full|hor|ver|sharedbn"))
    var acbVariant = "full"

    @Option(name: .long, help: "Dataset directory: IDX files (MNIST/Fashion-MNIST) or an image folder <class>/*.jpg (with train/ and test/ when present).")
    var data: String

    @Option(name: .long, help: "Output directory for checkpoints and logs.")
    var out: String

    @Option(name: .long, help: "Number of epochs.")
    var epochs = 20

    @Option(name: .long, help: "Images per SGD step.")
    var batchSize = 128

    @Option(name: .long, help: "Peak learning rate.")
    var lr = 0.1

    @Option(name: .long, help: "SGD momentum.")
    var momentum = 0.9

    @Option(name: .long, help: "L2 weight decay.")
    var weightDecay = 1e-4

    @Flag(name: .long, inversion: .prefixedNo, help: "Apply weight decay to BatchNorm parameters and biases too (the reference recipe).")
    var decayAll = true

    @Option(name: .long, help: "Learning-rate multiplier for biases and BatchNorm beta (2 in the reference recipe).")
    var biasLrMultiplier = 2.0

    @Option(name: .long, help: "Learning-rate schedule: cosine (per iteration) or step.")
    var schedule = "cosine"

    @Option(name: .long, help: "Linear warm-up length in epochs.")
    var warmup = 0.0

    @Option(name: .long, parsing: .upToNextOption, help: "Step schedule: epochs at which the rate is multiplied by --gamma.")
    var milestones: [Int] = []

    @Option(name: .long, help: "Step schedule factor.")
    var gamma = 0.1

    @Option(name: .long, help: "Label smoothing of the cross-entropy (0 = off).")
    var labelSmoothing = 0.0

    @Option(name: .long, help: "Random-crop augmentation: zero padding per side before cropping back (0 = off; 4 for CIFAR).")
    var cropPadding = 0

    @Flag(name: .long, help: "Random horizontal flip augmentation.")
    var flip = false

    @Option(name: .long, help: "Images carved from the training set for validation (0 = none).")
    var validation = 5000

    @Option(name: .long, help: "Seed of initialisation, split, shuffling and augmentation.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Initial gamma of the ACB branch BatchNorms (default: the model's, 1/3 for CIFAR models).")
    var gammaInit: Float?

    @Option(name: .long, help: "Image-folder datasets: decode to 1 (gray) or 3 (RGB) channels.")
    var channels = 3

    @Option(name: .long, help: "Comma-separated class names for IDX data (default: Fashion-MNIST's when the path contains 'fashion', else the digits 0-9). Image folders use their folder names.")
    var labels: String?

    @Option(name: .long, help: "Use only N training images (quick experiments).")
    var limit: Int?

    @Flag(name: .long, help: "Start over even if OUT/last.safetensors exists.")
    var fresh = false

    @Option(name: .long, help: "Also checkpoint OUT/last.safetensors every N iterations inside an epoch, so a restart resumes mid-epoch (0 = at epoch ends only).")
    var checkpointEvery = 100

    func validate() throws {
        guard epochs > 0, batchSize > 0, lr > 0 else { throw ValidationError("epochs, batch size and lr must be positive") }
        guard ["cosine", "step"].contains(schedule) else { throw ValidationError("--schedule must be cosine or step") }
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3") }
        guard let v = ACBVariant(rawValue: acbVariant) else {
            throw ValidationError("--acb-variant must be one of \(ACBVariant.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard acb || v == .full else { throw ValidationError("--acb-variant \(acbVariant) needs --acb") }
        guard ModelRegistry.names.contains(model) else {
            throw ValidationError("unknown model \(model); choose one of \(ModelRegistry.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let dataset = DatasetDirectory(data)
        let stderr = FileHandle.standardError
        func note(_ s: String) { stderr.write(Data((s + "\n").utf8)) }

        let classNames = labels.map { $0.split(separator: ",").map { String($0) } }
        let full = try dataset.load(.train, channels: channels, classNames: classNames, limit: limit)
        let normalization = Normalization(statisticsOf: full)
        let valCount = min(validation, full.count / 5)
        let (train, val) = valCount > 0 ? full.split(validationCount: valCount, seed: seed) : (full, nil)
        note("data: \(data): \(train.count) training, \(val?.count ?? 0) validation images, "
             + "\(full.channels)x\(full.height)x\(full.width), \(full.classNames.count) classes; "
             + "mean \(normalization.mean) std \(normalization.std)")

        let recipe = TrainingRecipe(
            model: model, acb: acb, epochs: epochs, batchSize: batchSize, learningRate: lr, momentum: momentum,
            weightDecay: weightDecay, weightDecayOnAll: decayAll, biasLearningRateMultiplier: biasLrMultiplier,
            schedule: schedule, warmupEpochs: warmup, stepMilestones: milestones, stepGamma: gamma,
            labelSmoothing: labelSmoothing, augmentation: Augmentation(padding: cropPadding, horizontalFlip: flip),
            validationCount: valCount, seed: seed, gammaInit: gammaInit,
            acbVariant: acb ? ACBVariant(rawValue: acbVariant) : nil)
        let spec = try ModelRegistry.spec(model)
        guard spec.inputShape == [full.channels, full.height, full.width], spec.classCount == full.classNames.count else {
            throw ValidationError("\(model) expects \(spec.inputShape) images in \(spec.classCount) classes; "
                                  + "\(data) has \([full.channels, full.height, full.width]) in \(full.classNames.count)")
        }
        let net = try recipe.makeModel()
        let trainer = try Trainer(recipe: recipe, model: net, train: train, validation: val,
                                  normalization: normalization, outputDirectory: out)
        trainer.extraMetadata = ["data": (data as NSString).standardizingPath]
        trainer.checkpointInterval = checkpointEvery
        let last = (out as NSString).appendingPathComponent("last.safetensors")
        if !fresh && FileManager.default.fileExists(atPath: last) {
            try trainer.resume(from: last)
            note("resumed from \(last): \(trainer.epoch) epochs, \(trainer.iteration) iterations done")
            if trainer.epoch >= epochs { note("the run is already complete") }
        }
        note("model: \(model)\(acb ? " with ACBs" : "")\(recipe.acbVariant.map { " (variant \($0.rawValue))" } ?? ""), \(net.parameterCount) parameters; "
             + "\(trainer.iterationsPerEpoch) iterations/epoch, \(epochs) epochs")
        let started = Date()
        let progress = ProgressReporter(totalSteps: epochs * trainer.iterationsPerEpoch,
                                        completedSteps: trainer.iteration)
        try trainer.run(progress: progress)
        note(String(format: "training finished in %.1f min", Date().timeIntervalSince(started) / 60))

        if dataset.hasTestSplit {
            let test = try dataset.load(.test, channels: channels, classNames: full.classNames)
            let bestPath = (out as NSString).appendingPathComponent("best.safetensors")
            let best = try recipe.makeModel()
            let file = try SafeTensors(contentsOfFile: bestPath)
            let info = try TrainerCheckpointInfo(file, path: bestPath)
            try ModelState.load(best, from: file)
            let r = Trainer.evaluate(model: best, set: test, normalization: normalization)
            print(String(format: "test accuracy of %@ (epoch %d, validation %.4f): %.4f (%d/%d)",
                         bestPath, info.epoch, info.bestValidationAccuracy, r.accuracy, r.correct, test.count))
        }
    }
}
