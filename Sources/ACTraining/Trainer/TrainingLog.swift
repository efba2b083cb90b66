import Foundation

/// The per-epoch metrics of a run, written as CSV and plotted as SVG.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Iterations (SGD steps) completed at the end of the epoch.
    public var iteration: Int
    /// Learning rate of the epoch's last step.
    public var learningRate: Double
    /// Mean training loss over the epoch's batches (training mode, with augmentation).
    public var trainLoss: Double
    /// Training accuracy over the epoch's batches (0…1).
    public var trainAccuracy: Double
    /// Validation loss (eval mode), or NaN without a validation split.
    public var validationLoss: Double
    /// Validation accuracy (0…1), or NaN without a validation split.
    public var validationAccuracy: Double
    /// Training images per second over the epoch (forward, backward, SGD).
    public var imagesPerSecond: Double
    /// Wall-clock seconds of the epoch, validation included.
    public var seconds: Double

    public init(
        epoch: Int, iteration: Int, learningRate: Double, trainLoss: Double, trainAccuracy: Double,
        validationLoss: Double, validationAccuracy: Double, imagesPerSecond: Double, seconds: Double
    ) {
        self.epoch = epoch
        self.iteration = iteration
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.imagesPerSecond = imagesPerSecond
        self.seconds = seconds
    }

    static let csvHeader = "epoch,iteration,lr,train_loss,train_acc,val_loss,val_acc,img_per_s,seconds"

    var csvLine: String {
        func f(_ v: Double, _ digits: Int = 6) -> String { v.isNaN ? "" : String(format: "%.\(digits)f", v) }
        return "\(epoch),\(iteration),\(f(learningRate, 8)),\(f(trainLoss)),\(f(trainAccuracy)),"
            + "\(f(validationLoss)),\(f(validationAccuracy)),\(f(imagesPerSecond, 1)),\(f(seconds, 2))"
    }
}

/// Writes `log.csv` and `curves.svg` for a run.
public enum TrainingLog {
    /// The CSV text for `records` (header + one line per epoch).
    public static func csv(_ records: [EpochRecord]) -> String {
        ([EpochRecord.csvHeader] + records.map(\.csvLine)).joined(separator: "\n") + "\n"
    }

    /// A self-contained SVG with two panels: loss (train, validation) and accuracy (train,
    /// validation) against the epoch.
    public static func svg(_ records: [EpochRecord], title: String) -> String {
        let w = 900.0
        let h = 380.0
        let panelW = 400.0
        let panelH = 280.0
        let top = 50.0
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(w / 2)" y="24" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        let epochs = records.map { Double($0.epoch) }
        let lastEpoch = max(epochs.last ?? 1, 1)
        func panel(x0: Double, name: String, series: [(String, String, [Double])], fixed: (Double, Double)?) {
            let values = series.flatMap { $0.2 }.filter { $0.isFinite }
            var lo = fixed?.0 ?? (values.min() ?? 0)
            var hi = fixed?.1 ?? (values.max() ?? 1)
            if fixed == nil {
                lo = min(lo, 0)
                hi = hi > lo ? hi * 1.05 : lo + 1
            }
            let left = x0 + 50
            let bottom = top + panelH
            func px(_ e: Double) -> Double { left + (e - 0) / lastEpoch * (panelW - 60) }
            func py(_ v: Double) -> Double { bottom - (v - lo) / (hi - lo) * panelH }
            s +=
                "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(panelW - 60)\" height=\"\(panelH)\" fill=\"none\" stroke=\"#888\"/>\n"
            s += "<text x=\"\(left + (panelW - 60) / 2)\" y=\"\(top - 8)\" text-anchor=\"middle\">\(name)</text>\n"
            for k in 0...4 {
                let v = lo + (hi - lo) * Double(k) / 4
                let y = py(v)
                s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + panelW - 60)\" y2=\"\(y)\" stroke=\"#eee\"/>\n"
                s += "<text x=\"\(left - 5)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
            }
            let ticks = Int(lastEpoch)
            let step = max(1, ticks / 10)
            for e in stride(from: 0, through: ticks, by: step) {
                s += "<text x=\"\(px(Double(e)))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(e)</text>\n"
            }
            s += "<text x=\"\(left + (panelW - 60) / 2)\" y=\"\(bottom + 32)\" text-anchor=\"middle\">epoch</text>\n"
            for (i, (label, color, ys)) in series.enumerated() {
                let pts = zip(epochs, ys).filter { $0.1.isFinite }.map { "\(px($0.0)),\(py($0.1))" }
                if !pts.isEmpty {
                    s +=
                        "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
                }
                let ly = top + 16 + Double(i) * 16
                s +=
                    "<line x1=\"\(left + 10)\" y1=\"\(ly - 4)\" x2=\"\(left + 30)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
                s += "<text x=\"\(left + 35)\" y=\"\(ly)\">\(label)</text>\n"
            }
        }
        panel(
            x0: 20, name: "loss",
            series: [
                ("train", "#1f77b4", records.map(\.trainLoss)),
                ("validation", "#d62728", records.map(\.validationLoss)),
            ], fixed: nil)
        let accs = records.flatMap { [$0.trainAccuracy, $0.validationAccuracy] }.filter { $0.isFinite }
        let accLo = max(0, ((accs.min() ?? 0) * 20).rounded(.down) / 20)
        panel(
            x0: 470, name: "accuracy",
            series: [
                ("train", "#1f77b4", records.map(\.trainAccuracy)),
                ("validation", "#d62728", records.map(\.validationAccuracy)),
            ], fixed: (accLo, 1))
        s += "</svg>\n"
        return s
    }

    private static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
