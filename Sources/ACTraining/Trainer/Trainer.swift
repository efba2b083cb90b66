import Foundation

/// Runs a ``TrainingRecipe`` on a model: epochs of SGD over prefetched batches, validation,
/// logs, plots and checkpoints.
///
/// Reproducibility: with the same recipe, data and thread count, two runs produce identical
/// losses and weights. Batch contents depend only on (seed, epoch, batch) (see
/// ``BatchLoader``), the learning rate only on the iteration, and a checkpoint holds
/// parameters, BatchNorm buffers, momentum buffers, counters and the recipe, so
/// ``resume(from:)`` + ``run(progress:)`` continues exactly where an uninterrupted run would
/// be. (Dropout masks are not part of the checkpoint; the models in scope do not use dropout
/// in training recipes that need exact resumption.)
///
/// Output directory (when given): `last.safetensors` after every epoch, `best.safetensors` for
/// the best validation accuracy so far, `log.csv`, `curves.svg`, `recipe.json`.
public final class Trainer {
    public let recipe: TrainingRecipe
    public let model: any Module
    public let train: ImageSet
    public let validation: ImageSet?
    public let normalization: Normalization
    public let outputDirectory: String?

    /// Completed epochs.
    public private(set) var epoch = 0
    /// Completed SGD steps.
    public private(set) var iteration = 0
    /// One record per completed epoch.
    public private(set) var records: [EpochRecord] = []
    /// Best validation accuracy so far (−1 before the first validation).
    public private(set) var bestValidationAccuracy = -1.0
    /// Also write `last.safetensors` every this many iterations inside an epoch (0 = only at
    /// epoch ends). Such a checkpoint records the epoch's progress, so resuming from it continues
    /// mid-epoch with the same batches and sums an uninterrupted run would have.
    public var checkpointInterval = 0
    /// Stop (after writing a mid-epoch `last.safetensors`) once this many iterations are done;
    /// ``run(progress:)`` then returns early. For tests of mid-epoch resumption.
    public var stopAtIteration: Int?
    /// Progress inside the current epoch (set while an epoch runs and by a mid-epoch resume).
    private var partial: PartialEpoch?

    /// Extra `__metadata__` strings written into every checkpoint (e.g. the data directory).
    public var extraMetadata: [String: String] = [:]
    /// The loss of every step of this process (for tests and diagnostics).
    public private(set) var stepLosses: [Float] = []

    private let optimizer: SGD
    /// The learning-rate schedule (stepped per iteration).
    public let schedule: LRSchedule
    private let lossFunction: SoftmaxCrossEntropy

    /// - Parameters:
    ///   - model: a freshly built (or restored) model whose input matches `train`'s images.
    ///   - train, validation: 8-bit image sets (validation may be nil).
    ///   - normalization: the input normalisation (usually the training set's statistics).
    ///   - outputDirectory: where checkpoints and logs go (created), or nil for none.
    public init(
        recipe: TrainingRecipe, model: any Module, train: ImageSet, validation: ImageSet?,
        normalization: Normalization, outputDirectory: String?
    ) throws {
        self.recipe = recipe
        self.model = model
        self.train = train
        self.validation = validation
        self.normalization = normalization
        self.outputDirectory = outputDirectory
        optimizer = SGD(
            model.namedParameters(), momentum: Float(recipe.momentum),
            weightDecay: Float(recipe.weightDecay), weightDecayOnAll: recipe.weightDecayOnAll,
            biasLRMultiplier: Float(recipe.biasLearningRateMultiplier))
        let perEpoch = (train.count + recipe.batchSize - 1) / recipe.batchSize
        let warmup = Int((recipe.warmupEpochs * Double(perEpoch)).rounded())
        if recipe.schedule == "step" {
            schedule = .step(
                base: Float(recipe.learningRate), milestones: recipe.stepMilestones.map { $0 * perEpoch },
                gamma: Float(recipe.stepGamma), warmupIterations: warmup)
        } else {
            schedule = .cosine(
                base: Float(recipe.learningRate), totalIterations: recipe.epochs * perEpoch,
                warmupIterations: warmup)
        }
        lossFunction = SoftmaxCrossEntropy(labelSmoothing: Float(recipe.labelSmoothing))
        if let dir = outputDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    /// SGD steps per epoch (the last partial batch is kept).
    public var iterationsPerEpoch: Int { (train.count + recipe.batchSize - 1) / recipe.batchSize }

    /// The learning rate of step `iteration` (0-based): ``schedule`` (linear warm-up, then cosine
    /// to 0 per iteration, or step decay at epoch milestones).
    public func learningRate(at iteration: Int) -> Double {
        Double(schedule.learningRate(at: iteration))
    }

    // MARK: - training

    /// Trains until `recipe.epochs` epochs are complete (from the current state), validating and
    /// checkpointing after each epoch.
    ///
    /// - Throws: ``TrainingError/nonFiniteLoss(epoch:iteration:loss:learningRate:)`` when a
    ///   step's loss is NaN or ±∞ (training diverged): the step is not applied and nothing more
    ///   is written, so `last.safetensors` and `best.safetensors` keep the last finite state.
    public func run(progress: ProgressReporter? = nil) throws {
        while epoch < recipe.epochs {
            guard let record = try runEpoch(progress: progress) else { return }
            progress?.epochFinished(record, best: bestValidationAccuracy)
        }
    }

    /// One epoch of training (or its remainder after a mid-epoch resume), then validation, logs
    /// and checkpoints. Returns nil when ``stopAtIteration`` interrupted it.
    @discardableResult
    public func runEpoch(progress: ProgressReporter? = nil) throws -> EpochRecord? {
        let started = Date()
        progress?.epochStarted()
        let resumed = partial ?? PartialEpoch(batchesDone: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0)
        let loader = BatchLoader(
            data: train, batchSize: recipe.batchSize, shuffle: true,
            augmentation: recipe.augmentation, normalization: normalization,
            seed: recipe.seed, epoch: epoch, startBatch: resumed.batchesDone)
        defer { loader.cancel() }
        var lossSum = resumed.lossSum
        var correct = resumed.correct
        var seen = resumed.seen
        var lr = 0.0
        let shape = [train.channels, train.height, train.width]
        while let batch = loader.next() {
            lr = learningRate(at: iteration)
            let x = Tensor(shape: [batch.count] + shape, data: batch.images)
            model.zeroGrad()
            let logits = model.forward(x, training: true)
            let result = lossFunction(logits, labels: batch.labels.map(Int.init))
            guard result.loss.isFinite else {
                // Stop before the update: the weights (and the checkpoints on disk) stay finite.
                throw TrainingError.nonFiniteLoss(
                    epoch: epoch + 1, iteration: iteration + 1, loss: result.loss,
                    learningRate: lr)
            }
            _ = model.backward(result.grad)
            optimizer.step(lr: Float(lr))
            iteration += 1
            stepLosses.append(result.loss)
            lossSum += Double(result.loss) * Double(batch.count)
            correct += result.correct
            seen += batch.count
            progress?.batchFinished(
                epoch: epoch + 1, epochs: recipe.epochs, batch: batch.index + 1,
                batches: loader.batchCount, loss: lossSum / Double(seen),
                accuracy: Double(correct) / Double(seen), images: seen - resumed.seen,
                learningRate: lr)
            let stop = stopAtIteration.map { iteration >= $0 } ?? false
            if (checkpointInterval > 0 && iteration % checkpointInterval == 0) || stop,
                batch.index + 1 < loader.batchCount
            {
                partial = PartialEpoch(
                    batchesDone: batch.index + 1, lossSum: lossSum, correct: correct, seen: seen,
                    seconds: resumed.seconds + Date().timeIntervalSince(started))
                if let dir = outputDirectory {
                    try writeCheckpoint(to: (dir as NSString).appendingPathComponent("last.safetensors"))
                }
                if stop { return nil }
            }
        }
        partial = nil
        let trainSeconds = Date().timeIntervalSince(started) + resumed.seconds
        var valLoss = Double.nan
        var valAcc = Double.nan
        if let validation, validation.count > 0 {
            let r = evaluate(validation)
            valLoss = r.loss
            valAcc = r.accuracy
        }
        epoch += 1
        let record = EpochRecord(
            epoch: epoch, iteration: iteration, learningRate: lr,
            trainLoss: lossSum / Double(max(seen, 1)),
            trainAccuracy: Double(correct) / Double(max(seen, 1)),
            validationLoss: valLoss, validationAccuracy: valAcc,
            imagesPerSecond: Double(seen) / max(trainSeconds, 1e-9),
            seconds: Date().timeIntervalSince(started) + resumed.seconds)
        records.append(record)
        let improved = valAcc.isFinite && valAcc > bestValidationAccuracy
        if improved { bestValidationAccuracy = valAcc }
        if let dir = outputDirectory {
            try writeCheckpoint(to: (dir as NSString).appendingPathComponent("last.safetensors"))
            if improved || validation == nil {
                try writeCheckpoint(to: (dir as NSString).appendingPathComponent("best.safetensors"))
            }
            try writeLogs(to: dir)
        }
        return record
    }

    /// Mean loss and accuracy of the model in eval mode (running BatchNorm statistics) on `set`.
    public func evaluate(_ set: ImageSet, batchSize: Int = 500) -> (loss: Double, accuracy: Double, correct: Int) {
        Trainer.evaluate(model: model, set: set, normalization: normalization, batchSize: batchSize)
    }

    /// Mean loss and accuracy of `model` in eval mode on `set`.
    public static func evaluate(
        model: any Module, set: ImageSet, normalization: Normalization,
        batchSize: Int = 500
    ) -> (loss: Double, accuracy: Double, correct: Int) {
        let loader = BatchLoader(
            data: set, batchSize: batchSize, shuffle: false, augmentation: .none,
            normalization: normalization, seed: 0, epoch: 0)
        var lossSum = 0.0
        var correct = 0
        while let batch = loader.next() {
            let x = Tensor(shape: [batch.count, set.channels, set.height, set.width], data: batch.images)
            let logits = model.forward(x, training: false)
            let r = SoftmaxCrossEntropy()(logits, labels: batch.labels.map(Int.init))
            lossSum += Double(r.loss) * Double(batch.count)
            correct += r.correct
        }
        return (lossSum / Double(max(set.count, 1)), Double(correct) / Double(max(set.count, 1)), correct)
    }

    // MARK: - checkpoints

    /// The metadata keys of a trainer checkpoint.
    enum Key {
        static let format = "format"
        static let formatValue = "acnet-trainer-checkpoint-1"
        static let recipe = "recipe"
        static let epoch = "epoch"
        static let iteration = "iteration"
        static let best = "best_validation_accuracy"
        static let normalization = "normalization"
        static let labels = "labels"
        static let inputShape = "input_shape"
        static let history = "history"
        static let partial = "partial_epoch"
    }

    /// The full trainer state as safetensors: model tensors under their PyTorch-style names,
    /// momentum buffers under `optimizer.momentum_buffer.*`, and `__metadata__` with the recipe,
    /// counters, normalisation, labels, input shape and per-epoch history (all JSON strings).
    public func checkpoint() -> SafeTensors {
        var file = SafeTensors()
        ModelState.store(model, into: &file, includeOptimizer: true)
        file.metadata = extraMetadata
        file.metadata.merge([
            Key.format: Key.formatValue,
            Key.recipe: json(recipe),
            Key.epoch: String(epoch),
            Key.iteration: String(iteration),
            Key.best: String(bestValidationAccuracy),
            Key.normalization: json(normalization),
            Key.labels: json(train.classNames),
            Key.inputShape: json([train.channels, train.height, train.width]),
            Key.history: json(records),
        ]) { $1 }
        if let partial { file.metadata[Key.partial] = json(partial) }
        return file
    }

    /// Writes ``checkpoint()`` atomically to `path`.
    public func writeCheckpoint(to path: String) throws {
        try checkpoint().write(toFile: path)
    }

    /// Restores the state written by ``writeCheckpoint(to:)``.
    ///
    /// - Throws: ``CheckpointError`` when the file is unreadable, was written for a different
    ///   recipe (other than the epoch count), or its tensors do not match the model (missing,
    ///   unexpected, or mis-shaped keys).
    public func resume(from path: String) throws {
        let file = try SafeTensors(contentsOfFile: path)
        let info = try TrainerCheckpointInfo(file, path: path)
        guard info.recipe.isResumable(as: recipe) else {
            throw CheckpointError.corrupt("\(path) was written by a different recipe: \(json(info.recipe))")
        }
        try ModelState.load(model, from: file)
        epoch = info.epoch
        iteration = info.iteration
        bestValidationAccuracy = info.bestValidationAccuracy
        records = info.history
        partial = info.partialEpoch
        let done = epoch * iterationsPerEpoch + (partial?.batchesDone ?? 0)
        guard done == iteration else {
            throw CheckpointError.corrupt(
                "\(path): \(iteration) iterations recorded, but epoch \(epoch) + \(partial?.batchesDone ?? 0) batches of \(iterationsPerEpoch) make \(done)"
            )
        }
    }

    private func writeLogs(to dir: String) throws {
        let csv = TrainingLog.csv(records)
        try AtomicFile.write(Array(csv.utf8), to: (dir as NSString).appendingPathComponent("log.csv"))
        let title =
            "\(recipe.model)\(recipe.acb ? " + ACB" : "") — \(recipe.epochs) epochs, lr \(recipe.learningRate), batch \(recipe.batchSize)"
        let svg = TrainingLog.svg(records, title: title)
        try AtomicFile.write(Array(svg.utf8), to: (dir as NSString).appendingPathComponent("curves.svg"))
        try AtomicFile.write(
            Array(json(recipe, pretty: true).utf8), to: (dir as NSString).appendingPathComponent("recipe.json"))
    }
}

/// Training failures that are not I/O or data errors.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A step's loss was NaN or infinite: training diverged (too high a learning rate, or
    /// non-finite weights). Carries the 1-based epoch and iteration.
    case nonFiniteLoss(epoch: Int, iteration: Int, loss: Float, learningRate: Double)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let e, let i, let loss, let lr):
            return "training diverged: loss \(loss) at epoch \(e), iteration \(i) (learning rate \(lr)); "
                + "stopped without updating the weights, the checkpoints keep the last finite state"
        }
    }
}

/// The metadata of a trainer checkpoint, decoded.
public struct TrainerCheckpointInfo: Sendable {
    public var recipe: TrainingRecipe
    public var epoch: Int
    public var iteration: Int
    public var bestValidationAccuracy: Double
    public var normalization: Normalization
    public var labels: [String]
    /// `[C, H, W]` of the training images.
    public var inputShape: [Int]
    public var history: [EpochRecord]
    /// Progress inside epoch `epoch + 1` for a mid-epoch checkpoint, else nil.
    public var partialEpoch: PartialEpoch?
    /// Every `__metadata__` string, including keys not decoded above.
    public var metadata: [String: String]

    /// Decodes the metadata of `file`.
    /// - Throws: ``CheckpointError/corrupt(_:)`` naming the missing or malformed field.
    public init(_ file: SafeTensors, path: String) throws {
        let m = file.metadata
        metadata = m
        guard m[Trainer.Key.format] == Trainer.Key.formatValue else {
            throw CheckpointError.corrupt(
                "\(path) is not an acnet trainer checkpoint (metadata format \(m[Trainer.Key.format] ?? "missing"))")
        }
        func field<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            guard let s = m[key], let v = try? decoder.decode(T.self, from: Data(s.utf8)) else {
                throw CheckpointError.corrupt("\(path): metadata '\(key)' is missing or malformed")
            }
            return v
        }
        recipe = try field(Trainer.Key.recipe, TrainingRecipe.self)
        epoch = try field(Trainer.Key.epoch, Int.self)
        iteration = try field(Trainer.Key.iteration, Int.self)
        bestValidationAccuracy = try field(Trainer.Key.best, Double.self)
        normalization = try field(Trainer.Key.normalization, Normalization.self)
        labels = try field(Trainer.Key.labels, [String].self)
        inputShape = try field(Trainer.Key.inputShape, [Int].self)
        history = try field(Trainer.Key.history, [EpochRecord].self)
        partialEpoch = m[Trainer.Key.partial] == nil ? nil : try field(Trainer.Key.partial, PartialEpoch.self)
        try checkConsistency(path: path)
    }

    /// The metadata must describe the model its recipe builds: `input_shape` equal to the
    /// registry model's `[C, H, W]`, one normalisation mean and std per input channel (means
    /// finite, stds finite, normal and positive), one label per class, non-negative counters.
    func checkConsistency(path: String) throws {
        func bad(_ message: String) -> CheckpointError { .corrupt("\(path): \(message)") }
        guard let spec = try? ModelRegistry.spec(recipe.model) else {
            throw bad("recipe names an unknown model '\(recipe.model)'")
        }
        guard inputShape == spec.inputShape else {
            throw bad("metadata input_shape \(inputShape) does not match \(recipe.model)'s input \(spec.inputShape)")
        }
        let c = inputShape[0]
        guard normalization.mean.count == c, normalization.std.count == c else {
            throw bad(
                "metadata normalization has \(normalization.mean.count) means and \(normalization.std.count) stds for a \(c)-channel input"
            )
        }
        guard normalization.mean.allSatisfy(\.isFinite), normalization.std.allSatisfy({ $0.isNormal && $0 > 0 }) else {
            throw bad(
                "metadata normalization mean \(normalization.mean) std \(normalization.std): means must be finite, stds normal positive numbers"
            )
        }
        guard labels.count == spec.classCount else {
            throw bad("metadata labels has \(labels.count) names, \(recipe.model) has \(spec.classCount) classes")
        }
        guard epoch >= 0, iteration >= 0 else { throw bad("negative epoch \(epoch) or iteration \(iteration)") }
    }
}

/// How far a mid-epoch checkpoint got into its epoch, and the epoch's running sums.
public struct PartialEpoch: Codable, Sendable, Equatable {
    /// Batches of the epoch already trained.
    public var batchesDone: Int
    /// Σ loss·batch size over those batches.
    public var lossSum: Double
    /// Correct training predictions over those batches.
    public var correct: Int
    /// Images over those batches.
    public var seen: Int
    /// Training seconds spent on them.
    public var seconds: Double
}

func json<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
    let e = JSONEncoder()
    e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}
