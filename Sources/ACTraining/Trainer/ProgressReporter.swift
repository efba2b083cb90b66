import Foundation

/// Live training progress on stderr: epoch, batch, loss, accuracy, images/s, ETA.
///
/// On a terminal one line is redrawn in place (at most 4 times a second); otherwise (a log
/// file, `nohup`) a full line is printed every `lineInterval` seconds, so logs stay readable.
public final class ProgressReporter {
    private let isTerminal = isatty(2) != 0
    private let lineInterval: Double
    private var lastPrint = Date.distantPast
    private var epochStart = Date()
    private var runStart = Date()
    private var stepsDone = 0
    private let totalSteps: Int
    private var stepsAtStart: Int

    /// - Parameters:
    ///   - totalSteps: SGD steps of the whole run, for the ETA.
    ///   - completedSteps: steps already done (when resuming).
    public init(totalSteps: Int, completedSteps: Int = 0, lineInterval: Double = 30) {
        self.totalSteps = totalSteps
        self.stepsAtStart = completedSteps
        self.stepsDone = completedSteps
        self.lineInterval = lineInterval
    }

    /// Marks the start of an epoch (for its images/s).
    func epochStarted() { epochStart = Date() }

    /// A finished batch; `images` counts the epoch's images trained since `epochStarted()` (after
    /// a mid-epoch resume, not those of the earlier sitting), for the images/s figure.
    func batchFinished(
        epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, accuracy: Double,
        images: Int, learningRate: Double
    ) {
        stepsDone += 1
        let now = Date()
        let interval = isTerminal ? 0.25 : lineInterval
        guard now.timeIntervalSince(lastPrint) >= interval || batch == batches else { return }
        lastPrint = now
        let epochSeconds = now.timeIntervalSince(epochStart)
        let rate = Double(images) / max(epochSeconds, 1e-9)
        let perStep = now.timeIntervalSince(runStart) / Double(max(stepsDone - stepsAtStart, 1))
        let eta = perStep * Double(max(totalSteps - stepsDone, 0))
        let line = String(
            format: "epoch %d/%d  batch %d/%d  loss %.4f  acc %.4f  lr %.5f  %.0f img/s  ETA %@",
            epoch, epochs, batch, batches, loss, accuracy, learningRate, rate, Self.duration(eta))
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func epochFinished(_ r: EpochRecord, best: Double) {
        var line = String(format: "epoch %d done: train loss %.4f acc %.4f", r.epoch, r.trainLoss, r.trainAccuracy)
        if r.validationAccuracy.isFinite {
            line += String(
                format: " | val loss %.4f acc %.4f (best %.4f)", r.validationLoss, r.validationAccuracy, best)
        }
        line += String(format: " | %.0f img/s, %.1f s", r.imagesPerSecond, r.seconds)
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    /// "1h02m", "3m05s", "12s".
    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, t % 3600 / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}
