import ACNetWriter
import ACRuntime
import ACTraining
import Foundation

/// Export = fuse + serialise + verify through ACRuntime (docs/DESIGN.md §3, §7).
enum ModelExport {
    /// The verification outcome.
    struct Report {
        var maxAbsDifference: Float
        var bound: Float
        var maxAbsLogit: Float
        var comparedImages: Int
        var argmaxAgreement: Int
        var total: Int
        var runtimeCorrect: Int
        var trainingCorrect: Int
        /// Winograd against direct convolution in the same file, when it has Winograd layers.
        var winograd: WinogradCheck?
        /// Logits (training network or runtime) that were NaN or ±∞; any makes the check fail.
        var nonFiniteLogits = 0
        var passed: Bool {
            nonFiniteLogits == 0 && total > 0 && maxAbsDifference.isFinite && maxAbsDifference <= bound
                && argmaxAgreement == total && winograd?.passed != false
        }
        var summary: String {
            (winograd.map { $0.summary + "\n" } ?? "")
                + (nonFiniteLogits > 0 ? "non-finite logits: \(nonFiniteLogits) (NaN or ±∞): FAILED\n" : "")
                + String(
                    format: """
                        logits: max|Δ| %.3g over %d test images (max|y| %.3g, bound %.3g): %@
                        argmax agreement: %d/%d: %@
                        test accuracy: runtime %.4f, training network %.4f (%d images)
                        """, maxAbsDifference, comparedImages, maxAbsLogit, bound,
                    maxAbsDifference.isFinite && maxAbsDifference <= bound && nonFiniteLogits == 0 ? "ok" : "FAILED",
                    argmaxAgreement, total, argmaxAgreement == total ? "ok" : "FAILED",
                    Double(runtimeCorrect) / Double(max(total, 1)), Double(trainingCorrect) / Double(max(total, 1)),
                    total)
        }
    }

    /// Logits of the Winograd layers against direct convolution on the whole test split. The
    /// relative error of an image is max_j |w_j − d_j| / max_j |d_j| (w: Winograd, d: direct).
    struct WinogradCheck {
        /// Layers with Winograd weights.
        var layers: Int
        var maxRelativeError: Double
        var meanRelativeError: Double
        var argmaxAgreement: Int
        var total: Int
        /// The rule of issue "Speed II": ≤ 1e-3 relative and every argmax equal.
        static let relativeBound = 1e-3
        var passed: Bool { maxRelativeError <= Self.relativeBound && argmaxAgreement == total }
        var summary: String {
            String(
                format:
                    "winograd (%d layers) vs direct: relative logit error max %.3g, mean %.3g (bound %.0e); argmax agreement %d/%d: %@",
                layers, maxRelativeError, meanRelativeError, Self.relativeBound, argmaxAgreement, total,
                passed ? "ok" : "FAILED")
        }
    }

    /// The .acnb bytes of the fused model (labels and input spec from the checkpoint); `winograd`
    /// selects the 3×3 stride-1 convolutions that also get Winograd weights.
    static func fusedModelBytes(
        model: Sequential, info: TrainerCheckpointInfo,
        winograd: WinogradPolicy = .off
    ) throws -> [UInt8] {
        let shape = info.inputShape
        let spec = InputSpec(
            channelOrder: shape.first == 1 ? .gray : .rgb,
            mean: info.normalization.mean, std: info.normalization.std)
        return try Exporter.serialize(
            model, inputShape: shape, inputSpec: spec, labels: info.labels, winograd: winograd)
    }

    /// Runs the fused model in ACRuntime and the unfused one in eval mode on the test split.
    static func verify(
        bytes: [UInt8], model: Sequential, info: TrainerCheckpointInfo, dataDirectory: String,
        verifyBatch: Int, limit: Int?
    ) throws -> Report {
        let runtime = try Model(bytes: bytes)
        let dataset = DatasetDirectory(dataDirectory)
        let channels = info.inputShape.first ?? 3
        let size = info.inputShape.count == 3 ? (info.inputShape[1], info.inputShape[2]) : nil
        let test = try dataset.load(.test, channels: channels, classNames: info.labels, size: size, limit: limit)
        guard [test.channels, test.height, test.width] == info.inputShape else {
            throw DataError.invalid(
                "the test split of \(dataDirectory) has \([test.channels, test.height, test.width]) images; "
                    + "the checkpoint's model takes \(info.inputShape)")
        }
        let batch = 250
        let session = try Session(model: runtime, options: SessionOptions(threads: 1, maxBatch: batch))
        let winogradLayers = runtime.layers.filter { $0.kernel.hasPrefix("conv.winograd") }.count
        let direct =
            winogradLayers > 0
            ? try Session(model: runtime, options: SessionOptions(threads: 1, maxBatch: batch, useWinograd: false))
            : nil
        var check = direct.map { _ in
            WinogradCheck(
                layers: winogradLayers, maxRelativeError: 0, meanRelativeError: 0,
                argmaxAgreement: 0, total: 0)
        }
        let loader = BatchLoader(
            data: test, batchSize: batch, shuffle: false, augmentation: .none,
            normalization: info.normalization, seed: 0, epoch: 0)
        var maxDiff: Float = 0
        var maxY: Float = 0
        var compared = 0
        var agree = 0
        var runtimeCorrect = 0
        var trainingCorrect = 0
        var nonFinite = 0
        while let b = loader.next() {
            let x = Tensor(shape: [b.count] + info.inputShape, data: b.images)
            let y = model.forward(x, training: false)
            let r = try session.run(b.images, batch: b.count)
            let k = y.count / b.count
            if let direct, var c = check {
                let d = try direct.run(b.images, batch: b.count)
                for i in 0..<b.count {
                    var diff: Float = 0
                    var mag: Float = 0
                    var ad = 0
                    var ar = 0
                    for j in 0..<k {
                        diff = max(diff, abs(r[i * k + j] - d[i * k + j]))
                        mag = max(mag, abs(d[i * k + j]))
                        if d[i * k + j] > d[i * k + ad] { ad = j }
                        if r[i * k + j] > r[i * k + ar] { ar = j }
                    }
                    let rel = Double(diff) / Double(max(mag, .leastNormalMagnitude))
                    c.maxRelativeError = max(c.maxRelativeError, rel)
                    c.meanRelativeError += rel
                    c.total += 1
                    if ad == ar { c.argmaxAgreement += 1 }
                }
                check = c
            }
            precondition(r.count == y.count, "runtime output \(r.count) vs training output \(y.count)")
            nonFinite += y.data.filter { !$0.isFinite }.count + r.filter { !$0.isFinite }.count
            for i in 0..<b.count {
                var ay = 0
                var ar = 0
                for j in 0..<k {
                    if compared < verifyBatch {
                        maxDiff = max(maxDiff, abs(y.data[i * k + j] - r[i * k + j]))
                        maxY = max(maxY, abs(y.data[i * k + j]))
                    }
                    if y.data[i * k + j] > y.data[i * k + ay] { ay = j }
                    if r[i * k + j] > r[i * k + ar] { ar = j }
                }
                if compared < verifyBatch { compared += 1 }
                if ay == ar { agree += 1 }
                if ay == Int(b.labels[i]) { trainingCorrect += 1 }
                if ar == Int(b.labels[i]) { runtimeCorrect += 1 }
            }
        }
        if var c = check {
            c.meanRelativeError /= Double(max(c.total, 1))
            check = c
        }
        return Report(
            maxAbsDifference: maxDiff, bound: 1e-4 * (1 + maxY), maxAbsLogit: maxY, comparedImages: compared,
            argmaxAgreement: agree, total: test.count, runtimeCorrect: runtimeCorrect,
            trainingCorrect: trainingCorrect, winograd: check, nonFiniteLogits: nonFinite)
    }
}
