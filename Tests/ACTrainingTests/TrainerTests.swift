import Foundation
import Testing

@testable import ACTraining

/// A small, fixed Fashion-MNIST subset for training tests.
func fashionSubset(train: Int, test: Int) throws -> (train: ImageSet, test: ImageSet, normalization: Normalization) {
    let dir = DatasetDirectory(fashionMNISTDirectory)
    let trainSet = try dir.load(.train, limit: train)
    let testSet = try dir.load(.test, limit: test)
    return (trainSet, testSet, Normalization(statisticsOf: trainSet))
}

/// Every parameter and buffer of `model`, flattened, in name order.
func state(_ model: any Module) -> [String: [Float]] {
    var out = [String: [Float]]()
    for (n, p) in model.namedParameters() {
        out[n] = p.value.data
        out["momentum." + n] = p.momentumBuffer?.data ?? []
    }
    for (n, b) in model.namedBuffers() { out[n] = b.value.data }
    return out
}

@Suite("Trainer", .serialized)
struct TrainerTests {
    /// Plain LeNet-5-BN (2.3 M MACs per image), 1000 images × 3 epochs (about a second in
    /// release): the stated bar is 70% on 500 test images (chance is 10%; a broken backward
    /// pass, loss or optimiser stays far below it).
    @Test func tinyFashionMNISTRunLearns() throws {
        let (train, test, norm) = try fashionSubset(train: 1000, test: 500)
        let recipe = TrainingRecipe(
            model: "lenet5_bn", acb: false, epochs: 3, batchSize: 50, learningRate: 0.05,
            weightDecay: 1e-4, validationCount: 0, seed: 3)
        let trainer = try Trainer(
            recipe: recipe, model: try recipe.makeModel(), train: train, validation: nil,
            normalization: norm, outputDirectory: nil)
        try trainer.run()
        #expect(trainer.epoch == 3 && trainer.iteration == 60)
        #expect(trainer.records.count == 3 && trainer.records[2].trainLoss < trainer.records[0].trainLoss)
        let r = trainer.evaluate(test)
        #expect(r.accuracy >= 0.70, "test accuracy \(r.accuracy)")
    }

    /// 2 epochs straight vs. 1 epoch + resume + 1 epoch vs. stop mid-epoch + resume: identical
    /// losses, weights, BatchNorm buffers and momentum buffers, bit for bit (LeNet-5-BN with
    /// ACBs: the crop path, three BatchNorms per block).
    @Test func resumeGivesIdenticalResults() throws {
        let (train, _, norm) = try fashionSubset(train: 160, test: 10)
        let (tr, val) = train.split(validationCount: 32, seed: 5)
        let recipe = TrainingRecipe(
            model: "lenet5_bn", acb: true, epochs: 2, batchSize: 32, learningRate: 0.05,
            warmupEpochs: 0.5, augmentation: Augmentation(padding: 2, horizontalFlip: true),
            validationCount: 32, seed: 9)
        func trainer(_ dir: String?) throws -> Trainer {
            try Trainer(
                recipe: recipe, model: try recipe.makeModel(), train: tr, validation: val,
                normalization: norm, outputDirectory: dir)
        }
        let straight = try trainer(nil)
        try straight.run()
        #expect(straight.iteration == 8)

        // Epoch boundary: a process trains one epoch, the next one resumes.
        let dir = temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try trainer(dir)
        _ = try first.runEpoch()
        let second = try trainer(dir)
        try second.resume(from: dir + "/last.safetensors")
        #expect(second.epoch == 1 && second.iteration == 4)
        try second.run()
        #expect(first.stepLosses + second.stepLosses == straight.stepLosses)
        #expect(state(second.model) == state(straight.model))
        #expect(second.records.map(\.trainLoss) == straight.records.map(\.trainLoss))
        #expect(second.records.map(\.validationAccuracy) == straight.records.map(\.validationAccuracy))

        // Mid-epoch: stop after 6 iterations (inside epoch 2), resume in a new trainer.
        let dir2 = temporaryDirectory("resume-mid")
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let a = try trainer(dir2)
        a.stopAtIteration = 6
        try a.run()
        #expect(a.iteration == 6 && a.epoch == 1)
        let b = try trainer(dir2)
        try b.resume(from: dir2 + "/last.safetensors")
        #expect(b.iteration == 6)
        try b.run()
        #expect(a.stepLosses + b.stepLosses == straight.stepLosses)
        #expect(state(b.model) == state(straight.model))
        #expect(b.records.map(\.trainLoss) == straight.records.map(\.trainLoss))
    }

    @Test func checkpointLoadingFailsLoudly() throws {
        let recipe = TrainingRecipe(model: "fashion_net", acb: true, epochs: 1)
        let model = try recipe.makeModel()
        var file = SafeTensors()
        ModelState.store(model, into: &file, includeOptimizer: true)
        let fresh = try recipe.makeModel()
        try ModelState.load(fresh, from: file)
        #expect(state(fresh) == state(model))

        let names = model.namedParameters().map(\.0)
        #expect(names.contains { $0.hasSuffix("square_conv.weight") })
        #expect(model.namedBuffers().map(\.0).contains { $0.hasSuffix("ver_bn.running_var") })

        var missing = file
        missing.tensors.removeValue(forKey: names[0])
        #expect(throws: CheckpointError.missingKey(names[0])) { try ModelState.load(fresh, from: missing) }

        var unexpected = file
        unexpected.setFloats("extra.weight", shape: [1], [0])
        #expect(throws: CheckpointError.unexpectedKey("extra.weight")) { try ModelState.load(fresh, from: unexpected) }

        var misshaped = file
        misshaped.setFloats(names[0], shape: [1], [0])
        #expect(throws: CheckpointError.self) { try ModelState.load(fresh, from: misshaped) }

        // A plain model cannot load an ACB checkpoint: the branch tensors are unexpected.
        let plain = try TrainingRecipe(model: "fashion_net", acb: false, epochs: 1).makeModel()
        #expect(throws: CheckpointError.self) { try ModelState.load(plain, from: file) }
    }

    @Test func logsAndPlotAreWritten() throws {
        let records = (1...3).map {
            EpochRecord(
                epoch: $0, iteration: $0 * 10, learningRate: 0.1, trainLoss: 1 / Double($0),
                trainAccuracy: 0.5 + 0.1 * Double($0), validationLoss: .nan, validationAccuracy: 0.6,
                imagesPerSecond: 100, seconds: 1)
        }
        let csv = TrainingLog.csv(records)
        #expect(csv.split(separator: "\n").count == 4)
        #expect(csv.hasPrefix("epoch,iteration,lr,train_loss"))
        let svg = TrainingLog.svg(records, title: "a < b")
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains("a &lt; b"))
    }
}
