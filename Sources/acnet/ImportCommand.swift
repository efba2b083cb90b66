import ACImport
import ACNetWriter
import ACRuntime
import ACTraining
import ArgumentParser
import Foundation

/// `acnet import MODEL.onnx -o MODEL.acnb`: map an ONNX graph onto the runtime's ops (BatchNorm
/// folding, ACB / RepVGG branch fusion), write it, and check it against ONNX Runtime.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ONNX CNN classifier into an .acnb, fused, and check it against ONNX Runtime.",
        discussion: """
            Supported: Conv (pads, strides, dilations, group incl. depthwise, auto_pad), \
            BatchNormalization (folded into the preceding Conv; on a tensor: scale/shift), Relu, \
            Clip(0,6) as ReLU6, Add (residual adds go into the convolution), MaxPool/AveragePool \
            (ceil_mode, count_include_pad), GlobalAveragePool, Flatten, Reshape to [N, C·H·W], \
            Gemm (transB; alpha, beta powers of two), MatMul(+Add), Concat (channels), Softmax, \
            Identity, Dropout, Constant, Pad (constant zero; absorbed into the padding of the \
            convolutions that read it). Shape arithmetic on constants (Shape, Gather, Concat, \
            Reshape, Slice, Transpose, Cast, ConstantOfShape, Unsqueeze, Squeeze, Range, integer \
            Add/Sub/Mul/Div: what PyTorch exports for ZeroPad2d / F.pad) is evaluated at import. \
            Convolutions on the same input that are summed (ACB: \
            K×K + K×1 + 1×K; RepVGG: 3×3 + 1×1 + identity BN) become one convolution; an option-A \
            ResNet shortcut (x[:, :, ::2, ::2] + channel zero padding) becomes a 1×1 stride-2 \
            convolution with a 0/1 selection matrix. Anything else is refused with the node's \
            name, op type and reason.

            The ONNX graph's input is the normalised tensor: --mean/--std (units of pixel/255) \
            describe how images map to it, like the preprocessing of a PyTorch transform.

            Verification: the imported model (direct convolution) and ONNX Runtime (python3 with \
            the onnxruntime package; --python) run the same seeded random inputs, and with \
            --check-data the test split of a dataset; max|Δ| of the outputs must be \
            ≤ 1e-4·(1+max|y|) and, on a dataset, every argmax equal. The file is written only if \
            the check passes (without onnxruntime a note is printed and the file is written).
            """)

    @Argument(help: "The .onnx file (self-contained; external data is not supported).")
    var onnx: String

    @Option(name: [.short, .long], help: "The .acnb file to write.")
    var out: String

    @Option(name: .long, help: "Class names: a comma-separated list, or @FILE with one name per line.")
    var labels: String?

    @Option(name: .long, help: "Input C,H,W when the graph's are symbolic (e.g. 3,32,32).")
    var inputShape: String?

    @Option(name: .long, help: "Per-channel mean in units of pixel/255, comma-separated (default 0).")
    var mean: String?

    @Option(name: .long, help: "Per-channel std in units of pixel/255, comma-separated (default 1).")
    var std: String?

    @Option(
        name: .long,
        help: "Channel order of the input image: rgb, bgr, gray or none (default: rgb for C = 3, gray for C = 1).")
    var channelOrder: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Which 3x3 stride-1 convolutions also get Winograd weights: auto, all or off.",
            discussion:
                "auto: where profitable, kept only if the Winograd outputs stay within 1e-3 relative of direct convolution on the check inputs. all: every eligible layer; the check must pass."
        ))
    var winograd: String = "auto"

    @Option(name: .long, help: "Random inputs in the ONNX Runtime comparison.")
    var verifyBatch = 8

    @Option(
        name: .long,
        help:
            "Also compare on this dataset's test split (IDX files or an image folder), images preprocessed by the input spec."
    )
    var checkData: String?

    @Option(name: .long, help: "With --check-data: only N images (a seeded subset).")
    var limit: Int?

    @Option(name: .long, help: "Python interpreter with onnxruntime for the check (default: $ACNET_PYTHON or python3).")
    var python: String?

    @Flag(name: .long, help: "Skip the ONNX Runtime check.")
    var noVerify = false

    func validate() throws {
        guard WinogradPolicy(rawValue: winograd) != nil else {
            throw ValidationError("--winograd must be auto, all or off")
        }
        guard verifyBatch >= 1, verifyBatch <= 4096 else { throw ValidationError("--verify-batch must be in 1...4096") }
        if let channelOrder, !["rgb", "bgr", "gray", "none"].contains(channelOrder) {
            throw ValidationError("--channel-order must be rgb, bgr, gray or none")
        }
    }

    func run() throws {
        var options = ImportOptions(labels: try parseLabels(), winograd: WinogradPolicy(rawValue: winograd) ?? .auto)
        if let inputShape { options.inputShape = try numbers(inputShape, "--input-shape").map { Int($0) } }
        let importer: ONNXImporter
        do { importer = try ONNXImporter(contentsOfFile: onnx, options: options) } catch {
            throw ExitError("import failed: \(error)")
        }
        // The input spec needs C, which the importer knows after a first pass.
        var (bytes, summary) = try runImport(importer)
        if mean != nil || std != nil || channelOrder != nil {
            let c = summary.inputShape[0]
            let m = try mean.map { try numbers($0, "--mean") } ?? [Float](repeating: 0, count: c)
            let s = try std.map { try numbers($0, "--std") } ?? [Float](repeating: 1, count: c)
            guard m.count == c, s.count == c, s.allSatisfy({ $0 > 0 }) else {
                throw ExitError("--mean and --std need \(c) values each (std > 0)")
            }
            let order: ChannelOrder =
                switch channelOrder {
                case "bgr": .bgr
                case "gray": .gray
                case "none": .none
                case "rgb": .rgb
                default: c == 3 ? .rgb : c == 1 ? .gray : .none
                }
            options.inputSpec = InputSpec(channelOrder: order, mean: m, std: s)
            (bytes, summary) = try runImport(try ONNXImporter(contentsOfFile: onnx, options: options))
        }
        print(
            "imported \(onnx): \(summary.nodes) ONNX nodes -> \(summary.ops) ops (\(summary.foldedBatchNorms) BatchNorms folded, \(summary.mergedBranches) branch merges, \(summary.loweredShortcuts) shortcut selections, \(summary.foldedPads) pads folded into convolutions, \(summary.loweredPads) pads as identity convolutions, \(summary.foldedConstants) nodes constant-folded); input \(summary.inputShape)"
        )
        var model = try Model(bytes: bytes)
        if !noVerify {
            var check = try verify(model: model)
            if let w = check.winograd, !w.passed, options.winograd == .auto {
                print("winograd: outside the bound; writing without Winograd weights")
                options.winograd = .off
                (bytes, summary) = try runImport(try ONNXImporter(contentsOfFile: onnx, options: options))
                model = try Model(bytes: bytes)
                check = try verify(model: model)
            }
            if !check.passed { throw ExitError("verification failed; \(out) was not written") }
        }
        try AtomicFile.write(bytes, to: out)
        print("wrote \(out) (\(bytes.count) bytes)")
    }

    func runImport(_ importer: ONNXImporter) throws -> ([UInt8], ImportSummary) {
        do { return try importer.importModel() } catch { throw ExitError("import failed: \(error)") }
    }

    func parseLabels() throws -> [String] {
        guard let labels else { return [] }
        if labels.hasPrefix("@") {
            let path = String(labels.dropFirst())
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ExitError("cannot read labels file \(path)")
            }
            return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        }
        return labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func numbers(_ s: String, _ what: String) throws -> [Float] {
        let parts = s.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw ExitError("\(what): expected comma-separated numbers, got '\(s)'")
        }
        return parts.map { $0! }
    }

    struct Check {
        var passed: Bool
        var winograd: (passed: Bool, maxRelative: Double)?
    }

    /// Runs the model and ONNX Runtime on random inputs (and --check-data) and prints the result.
    func verify(model: Model) throws -> Check {
        let per = model.inputElementCount
        let k = model.outputElementCount
        var rng = PipelineRandom(seed: 20)
        var inputs = [Float](repeating: 0, count: verifyBatch * per)
        for i in inputs.indices { inputs[i] = rng.nextNormal() }
        var sets: [(String, [Float], [Int]?)] = [("\(verifyBatch) random inputs", inputs, nil)]
        if let checkData {
            let data = try EvaluationData(directory: checkData, model: model, limit: limit)
            sets.append((data.source, data.inputs, data.labels))
        }
        let direct = try Session(model: model, options: SessionOptions(threads: 1, maxBatch: 256, useWinograd: false))
        let winogradLayers = model.layers.filter { $0.kernel.hasPrefix("conv.winograd") }.count
        let viaWinograd =
            winogradLayers > 0 ? try Session(model: model, options: SessionOptions(threads: 1, maxBatch: 256)) : nil
        var passed = true
        var winogradMax = 0.0
        var winogradArgmax = true
        for (name, x, labels) in sets {
            let n = x.count / per
            var ours = [Float]()
            var wino = [Float]()
            ours.reserveCapacity(n * k)
            var start = 0
            while start < n {
                let b = min(256, n - start)
                let slice = Array(x[(start * per)..<((start + b) * per)])
                ours += try direct.run(slice, batch: b)
                if let viaWinograd { wino += try viaWinograd.run(slice, batch: b) }
                start += b
            }
            if viaWinograd != nil {
                for i in 0..<n {
                    var diff: Float = 0
                    var mag: Float = 0
                    for j in 0..<k {
                        diff = max(diff, abs(wino[i * k + j] - ours[i * k + j]))
                        mag = max(mag, abs(ours[i * k + j]))
                    }
                    winogradMax = max(winogradMax, Double(diff) / Double(max(mag, .leastNormalMagnitude)))
                    if argmax(wino, i, k) != argmax(ours, i, k) { winogradArgmax = false }
                }
            }
            guard let reference = try onnxRuntime(x, n: n, shape: model.inputShape, outputs: k) else {
                print(
                    "note: onnxruntime is not importable by \(pythonPath); the ONNX Runtime comparison was skipped (pip install onnxruntime)"
                )
                return Check(
                    passed: true,
                    winograd: viaWinograd == nil ? nil : (winogradMax <= 1e-3 && winogradArgmax, winogradMax))
            }
            var maxDiff: Float = 0
            var maxY: Float = 0
            var agree = 0
            var correctOurs = 0
            var correctRef = 0
            for i in 0..<n {
                for j in 0..<k {
                    maxDiff = max(maxDiff, abs(ours[i * k + j] - reference[i * k + j]))
                    maxY = max(maxY, abs(reference[i * k + j]))
                }
                let a = argmax(ours, i, k)
                let b = argmax(reference, i, k)
                if a == b { agree += 1 }
                if let labels {
                    if a == labels[i] { correctOurs += 1 }
                    if b == labels[i] { correctRef += 1 }
                }
            }
            let bound = 1e-4 * (1 + maxY)
            let ok = maxDiff <= bound && (labels == nil || agree == n)
            passed = passed && ok
            print(
                String(
                    format:
                        "onnxruntime check on %@: max|Δ| %.3g (max|y| %.3g, bound %.3g), argmax agreement %d/%d: %@",
                    name, maxDiff, maxY, bound, agree, n, ok ? "ok" : "FAILED"))
            if labels != nil {
                print(
                    String(
                        format: "accuracy: imported %.4f, onnxruntime %.4f (%d images)",
                        Double(correctOurs) / Double(n), Double(correctRef) / Double(n), n))
            }
        }
        var w: (Bool, Double)? = nil
        if viaWinograd != nil {
            w = (winogradMax <= 1e-3 && winogradArgmax, winogradMax)
            print(
                String(
                    format: "winograd (%d layers) vs direct: max relative error %.3g (bound 1e-3), argmax %@: %@",
                    winogradLayers, winogradMax, winogradArgmax ? "equal" : "DIFFERS",
                    w!.0 ? "ok" : "FAILED"))
            if !w!.0 && WinogradPolicy(rawValue: winograd) == .all { passed = false }
        }
        return Check(passed: passed, winograd: w)
    }

    func argmax(_ y: [Float], _ i: Int, _ k: Int) -> Int {
        var best = 0
        for j in 1..<max(k, 1) where y[i * k + j] > y[i * k + best] { best = j }
        return best
    }

    var pythonPath: String { python ?? ProcessInfo.processInfo.environment["ACNET_PYTHON"] ?? "python3" }

    /// ONNX Runtime's outputs for `x` (n × shape), or nil when onnxruntime is not importable.
    func onnxRuntime(_ x: [Float], n: Int, shape: [Int], outputs k: Int) throws -> [Float]? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "acnet-import-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inPath = dir.appendingPathComponent("x.f32")
        let outPath = dir.appendingPathComponent("y.f32")
        try x.withUnsafeBytes { Data($0) }.write(to: inPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [pythonPath, "-c", Self.referenceScript, onnx, inPath.path, outPath.path, "\(n)"] + shape.map(String.init)
        let err = Pipe()
        process.standardError = err
        do { try process.run() } catch { return nil }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 3 { return nil }
        guard process.terminationStatus == 0 else {
            throw ExitError("onnxruntime failed on \(onnx): \(String(decoding: errData, as: UTF8.self).suffix(2000))")
        }
        let y = try Data(contentsOf: outPath)
        guard y.count == n * k * 4 else {
            throw ExitError("onnxruntime returned \(y.count / 4) values, expected \(n) × \(k)")
        }
        return y.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Runs ONNX Runtime (CPU, all graph optimisations) on raw float32 NCHW inputs; exit 3 when
    /// onnxruntime is missing. Batches the whole input, or one image at a time if the graph has
    /// a fixed batch of 1.
    static let referenceScript = """
        import sys
        try:
            import numpy as np, onnxruntime as ort
        except ImportError:
            sys.exit(3)
        model, xin, yout, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        shape = [int(v) for v in sys.argv[5:]]
        x = np.fromfile(xin, dtype='<f4').reshape([n] + shape)
        so = ort.SessionOptions(); so.intra_op_num_threads = 1
        s = ort.InferenceSession(model, so, providers=['CPUExecutionProvider'])
        name = s.get_inputs()[0].name
        fixed = s.get_inputs()[0].shape[0]
        if isinstance(fixed, int) and fixed != n:
            y = np.concatenate([s.run(None, {name: x[i:i + fixed]})[0] for i in range(0, n, fixed)])
        else:
            y = np.concatenate([s.run(None, {name: x[i:i + 500]})[0] for i in range(0, n, 500)])
        y.astype('<f4').reshape(n, -1).tofile(yout)
        """
}

/// Standard normal samples for the check inputs (Box–Muller on the training side's seeded
/// generator).
extension PipelineRandom {
    mutating func nextNormal() -> Float {
        let u1 = (Double(next() >> 11) + 1) / Double(1 << 53)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}
