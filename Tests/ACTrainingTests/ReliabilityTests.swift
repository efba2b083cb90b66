import Foundation
import Testing

@testable import ACTraining

/// Regression tests of issue 19 (the training side as a hostile surface): non-finite values,
/// checkpoint metadata that disagrees with its model, bounded IDX reading, empty datasets and
/// stale temporary files.
@Suite("Training-side reliability", .serialized)
struct ReliabilityTests {
    /// A synthetic 1×28×28 set of `count` random images in 10 classes.
    static func randomSet(_ count: Int, seed: UInt64 = 1) throws -> ImageSet {
        var rng = SeededGenerator(seed: seed)
        let pixels = (0..<(count * 784)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return try ImageSet(
            channels: 1, height: 28, width: 28, pixels: pixels,
            labels: (0..<count).map { Int32($0 % 10) }, classNames: IDXDataset.digitLabels)
    }

    /// A learning rate of 1e30 makes the loss non-finite within a few steps: training stops
    /// with ``TrainingError/nonFiniteLoss`` and the checkpoints on disk stay finite.
    @Test func nonFiniteLossStopsTraining() throws {
        let train = try Self.randomSet(64)
        let recipe = TrainingRecipe(
            model: "lenet5_bn", acb: false, epochs: 3, batchSize: 16, learningRate: 1e30,
            validationCount: 0, seed: 1)
        let dir = temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(
            recipe: recipe, model: try recipe.makeModel(), train: train, validation: nil,
            normalization: Normalization(statisticsOf: train), outputDirectory: dir)
        trainer.checkpointInterval = 1
        #expect {
            try trainer.run()
        } throws: { error in
            guard case .nonFiniteLoss(_, _, let loss, _)? = error as? TrainingError else { return false }
            return !loss.isFinite
        }
        #expect(trainer.stepLosses.allSatisfy { $0.isFinite })
        // Every checkpoint written holds finite weights (the diverging step was not applied).
        for name in ["last.safetensors", "best.safetensors"]
        where FileManager.default.fileExists(atPath: dir + "/" + name) {
            let file = try SafeTensors(contentsOfFile: dir + "/" + name)
            try ModelState.checkFinite(file, path: name)
        }
    }

    /// A trained-looking checkpoint of lenet5_bn with metadata.
    static func checkpoint() throws -> SafeTensors {
        let train = try randomSet(20)
        let recipe = TrainingRecipe(model: "lenet5_bn", acb: true, epochs: 1, batchSize: 10, validationCount: 0)
        let trainer = try Trainer(
            recipe: recipe, model: try recipe.makeModel(), train: train, validation: nil,
            normalization: Normalization(statisticsOf: train), outputDirectory: nil)
        return trainer.checkpoint()
    }

    @Test func nonFiniteWeightsAndNegativeVarianceAreRefused() throws {
        let good = try Self.checkpoint()
        try ModelState.checkFinite(good, path: "good")
        let weight = try #require(good.tensors.keys.sorted().first { $0.hasSuffix("weight") })
        let variance = try #require(good.tensors.keys.sorted().first { $0.hasSuffix("running_var") })
        for (name, value) in [(weight, Float.nan), (weight, Float.infinity), (variance, -1), (variance, .nan)] {
            var bad = good
            let (shape, original) = try bad.floats(name)
            var values = original
            values[values.count / 2] = value
            bad.setFloats(name, shape: shape, values)
            #expect(throws: CheckpointError.self, "\(name) = \(value)") { try ModelState.checkFinite(bad, path: "bad") }
        }
    }

    /// Metadata whose normalisation has 3 channels for a 1-channel model, another input shape,
    /// or a subnormal std is refused when the checkpoint is opened (it used to trap in
    /// ModelBuilder during export).
    @Test(arguments: [
        ("normalization", #"{"mean":[0.1,0.2,0.3],"std":[0.3,0.3,0.3]}"#),
        ("normalization", #"{"mean":[0.1],"std":[1e-45]}"#),
        ("normalization", #"{"mean":[0.1],"std":[0]}"#),
        ("input_shape", "[1,14,14]"),
        ("input_shape", "[3,28,28]"),
        ("labels", #"["a","b"]"#),
    ])
    func inconsistentMetadataIsRefused(key: String, value: String) throws {
        var file = try Self.checkpoint()
        _ = try TrainerCheckpointInfo(file, path: "good")
        file.metadata[key] = value
        #expect(throws: CheckpointError.self) { try TrainerCheckpointInfo(file, path: "bad") }
    }

    /// A gzip file whose IDX header declares 2 GiB is refused after inflating its header only.
    @Test func idxDeclaringHugePayloadIsRefusedEarly() throws {
        let dir = temporaryDirectory("idx-bomb")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 2048 × 1024 × 1024 bytes declared, 1 MiB of zeros present.
        let header = idxBytes(dims: [2048, 1024, 1024], payload: [])
        try Data(header + [UInt8](repeating: 0, count: 1 << 20)).write(to: URL(fileURLWithPath: dir + "/raw"))
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-k", dir + "/raw"]
        try gz.run()
        gz.waitUntilExit()
        #expect {
            try IDXFile(contentsOfFile: dir + "/raw.gz", expectedRank: 3)
        } throws: { "\($0)".contains("overflow the limit") }
        // A small declared payload inflates only that far: trailing data is reported, not read.
        let small = idxBytes(dims: [4], payload: [1, 2, 3, 4]) + [UInt8](repeating: 7, count: 1 << 20)
        let gzipped = try gzipBytes(small, dir: dir)
        #expect { try IDXFile(bytes: FileBytes.gunzip(gzipped, maxOutput: 8 + 4 + 1), expectedRank: 1) } throws: {
            "\($0)".contains("trailing bytes")
        }
    }

    func gzipBytes(_ bytes: [UInt8], dir: String) throws -> [UInt8] {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/small"))
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-kf", dir + "/small"]
        try gz.run()
        gz.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/small.gz")))
    }

    @Test func idxRankErrorsNameTheExpectedRank() throws {
        #expect {
            try IDXFile(bytes: idxBytes(dims: [2, 2], payload: [1, 2, 3, 4]), name: "x", expectedRank: 3)
        } throws: { "\($0)".contains("has 2 dimensions, expected 3") }
    }

    /// `--limit` below 1 and an IDX file declaring 0 images are errors, not empty datasets.
    @Test func emptyDatasetsAreErrors() throws {
        #expect(DatasetDirectory.subsetIndices(count: 10, limit: -1) == [])
        let dir = temporaryDirectory("empty-idx")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(idxBytes(dims: [0, 28, 28], payload: [])).write(
            to: URL(fileURLWithPath: dir + "/train-images-idx3-ubyte"))
        try Data(idxBytes(dims: [0], payload: [])).write(to: URL(fileURLWithPath: dir + "/train-labels-idx1-ubyte"))
        #expect(throws: DataError.self) { try DatasetDirectory(dir).load(.train) }
        #expect(throws: DataError.self) { try DatasetDirectory(fashionMNISTDirectory).load(.test, limit: 0) }
        #expect(throws: DataError.self) { try DatasetDirectory(fashionMNISTDirectory).load(.test, limit: -1) }
    }

    /// A `.NAME.tmp-PID` left by a killed writer is removed by the next write of NAME; one of
    /// a live process is kept.
    @Test func staleTemporaryFilesAreRemoved() throws {
        let dir = temporaryDirectory("stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A PID that is not alive: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let stale = dir + "/.last.safetensors.tmp-\(dead)"
        let live = dir + "/.last.safetensors.tmp-1"
        let other = dir + "/.best.safetensors.tmp-\(dead)"
        for p in [stale, live, other] { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: p)) }
        try AtomicFile.write([9], to: dir + "/last.safetensors")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other))
    }

    /// The error of an unwritable destination names the destination, not the temporary file.
    @Test func atomicWriteErrorsNameThePath() throws {
        #expect { try AtomicFile.write([1], to: "/proc/acnet-test.acnb") } throws: {
            "\($0)".contains("/proc/acnet-test.acnb") && !"\($0)".contains(".tmp-")
        }
    }
}
