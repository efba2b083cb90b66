import ACRuntime
import ArgumentParser
import Foundation

/// `acnet inspect MODEL.acnb`: ops, shapes, parameters, MACs and arena bytes.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's ops, shapes, parameters, MACs and arena size.")

    @Argument(help: "The .acnb model file.")
    var model: String

    @Option(help: "Batch size for the arena figure, 1...4096.")
    var batch: Int = 1

    func validate() throws {
        try OptionCheck.range("--batch", batch, 1...OptionCheck.maxRuntimeBatch)
        try OptionCheck.inputFile("model", model)
    }

    func run() throws {
        let m: Model
        do { m = try Model(contentsOfFile: model) } catch { throw CLIError("\(model): \(error)") }
        print("model: \(model) (\(m.byteCount) bytes)")
        print(
            "input: [N, \(m.inputShape.map(String.init).joined(separator: ", "))]  channel order: \(m.inputSpec.channelOrder)"
                + "  mean: \(m.inputSpec.mean)  std: \(m.inputSpec.std)")
        print("output: [N, \(m.outputShape.map(String.init).joined(separator: ", "))]  labels: \(m.labels.count)")
        print("")
        let header = ["#", "op", "kernel", "input", "output", "params", "MACs"]
        var rows = [header]
        for (i, l) in m.layers.enumerated() {
            rows.append([
                String(i), l.op.name + describe(l), l.kernel,
                l.inputShapes.map { "\($0)" }.joined(separator: " "), "\(l.outputShape)",
                String(l.parameterCount), String(l.macs),
            ])
        }
        let widths = (0..<header.count).map { c in rows.map { $0[c].count }.max()! }
        for r in rows {
            print(
                r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  "))
        }
        let arena = try Session.workspaceSize(for: m, options: SessionOptions(maxBatch: batch))
        print("")
        print(
            "total: \(m.layers.count) ops, \(m.layers.reduce(0) { $0 + $1.parameterCount }) stored parameters, "
                + "\(m.macs) MACs per image, arena \(arena) bytes at batch \(batch)")
    }

    private func describe(_ l: LayerInfo) -> String {
        let p = l.params.map(Int.init)
        switch l.op {
        case .conv2d:
            return " \(p[0])x\(p[1]) s\(p[2]),\(p[3]) p\(p[4]),\(p[5]),\(p[6]),\(p[7]) d\(p[8]),\(p[9]) g\(p[10])"
                + (p[11] != 0 ? " +\(Activation(rawValue: Int32(p[11]))!.name)" : "")
                + (l.inputShapes.count == 2 ? " +residual" : "")
        case .maxPool, .avgPool:
            return " \(p[0])x\(p[1]) s\(p[2]),\(p[3]) p\(p[4]),\(p[5]),\(p[6]),\(p[7])\(p[8] == 1 ? " ceil" : "")"
        case .linear: return p[1] != 0 ? " +\(Activation(rawValue: Int32(p[1]))!.name)" : ""
        case .add, .activation, .scaleShift: return p[0] != 0 ? " \(Activation(rawValue: Int32(p[0]))!.name)" : ""
        default: return ""
        }
    }
}

/// A command-line failure: printed as `error: MESSAGE` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
