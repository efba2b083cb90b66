import ACNetWriter
import ACRuntime
import ArgumentParser
import CACNet
import Foundation

/// `acnet bench`: latency of a model (file or built-in architecture) with the machine's FMA
/// peak measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a model: median/p10/p90 latency, GFLOP/s and the fraction of this CPU's FMA peak.",
        discussion: """
            GFLOP/s = 2 × MACs / median latency (MACs include taps on zero padding, the \
            conventional count used by the peer benchmark suite). The FMA peak is measured in the same run \
            with 12 independent FMA chains at 256 and 512 bits (the faster counts) on --threads threads at once, \
            as the peer suite's fma_peak.c does.
            Built-in architectures (random weights, layer for layer as gen_models.py): \
            \(BenchmarkModels.names.joined(separator: ", ")); and conv:IN:OUT:HW[:K[:S]], one \
            K×K (default 3) convolution of stride S (default 1), padding K/2, IN→OUT channels on \
            an HW×HW input, to time one layer shape.
            """)

    @Argument(help: "An .acnb model file (or use --arch).")
    var model: String?

    @Option(help: "A built-in architecture instead of a file.")
    var arch: String?

    @Option(help: "Images per run, 1...4096.")
    var batch: Int = 1

    @Option(help: "Threads per run, 1...64: the calling thread plus threads − 1 workers of the session.")
    var threads: Int = 1

    @Option(help: "Untimed warm-up runs, 0...1000000.")
    var warmup: Int = 20

    @Option(help: "Timed runs (default: as many as fit in about 2 seconds, at least 20), 1...10000000.")
    var iterations: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "With --arch: also write the generated model to this .acnb file (replaced atomically).")
    var saveModel: String?

    @Option(
        help: ArgumentHelp(
            "With --arch: take the weights from this file instead of random ones.",
            discussion:
                "A safetensors file written by bench/onnx_weights.py from gen_models.py's ONNX model of the same architecture; every layer's shape is checked."
        ))
    var weights: String?

    @Option(help: "Kernel instruction set: auto (the fastest this CPU supports), baseline, avx2 or avx512.")
    var isa: String = "auto"

    @Option(
        help: ArgumentHelp(
            "With --arch: which 3x3 stride-1 convolutions get Winograd F(4x4,3x3) weights: auto, all or off.",
            discussion: "auto follows the export rule (Winograd.isProfitable)."))
    var winograd: String = "auto"

    @Flag(help: "Run direct convolution even where the model has Winograd weights.")
    var direct = false

    @Flag(
        help: ArgumentHelp(
            "Also time every step on one thread: median ms per run, share, GFLOP/s and fraction of the 1-thread peak.",
            discussion:
                "Runs the timed iterations again through Session.runProfiled (one thread, a clock read around each step)."
        ))
    var profile = false

    func validate() throws {
        guard (model == nil) != (arch == nil) else { throw ValidationError("give either a model file or --arch") }
        try OptionCheck.range("--batch", batch, 1...OptionCheck.maxRuntimeBatch)
        try OptionCheck.range("--threads", threads, 1...64)
        try OptionCheck.range("--warmup", warmup, 0...1_000_000)
        if let iterations { try OptionCheck.range("--iterations", iterations, 1...10_000_000) }
        if let model { try OptionCheck.inputFile("model", model) }
        if let weights { try OptionCheck.inputFile("--weights", weights) }
        if let saveModel {
            guard arch != nil else { throw ValidationError("--save-model needs --arch") }
            try OptionCheck.outputFile("--save-model", saveModel, inputs: [weights].compactMap { $0 })
        }
        if weights != nil, arch == nil { throw ValidationError("--weights needs --arch") }
        guard WinogradPolicy(rawValue: winograd) != nil else {
            throw ValidationError("--winograd must be auto, all or off")
        }
        if isa != "auto" {
            guard let k = KernelISA.allCases.first(where: { $0.name == isa }) else {
                throw ValidationError("--isa must be auto, baseline, avx2 or avx512")
            }
            guard k.isSupported else { throw ValidationError("--isa \(isa) is not supported by this CPU") }
        }
    }

    func run() throws {
        let m: Model
        let name: String
        do {
            if let arch {
                var given: [BenchmarkModels.LayerParameters]?
                if let weights {
                    let w = try BenchWeights.load(weights)
                    given = w.layers
                    FileHandle.standardError.write(
                        Data("weights: \(w.layers.count) layers of \(w.model) from \(weights)\n".utf8))
                }
                let bytes = try BenchmarkModels.build(
                    arch, parameters: given, winograd: WinogradPolicy(rawValue: winograd)!)
                if let saveModel {
                    do { try Data(bytes).write(to: URL(fileURLWithPath: saveModel), options: .atomic) } catch {
                        throw CLIError(
                            "cannot write --save-model \(saveModel): \((error as NSError).localizedFailureReason ?? "\(error)")"
                        )
                    }
                }
                m = try Model(bytes: bytes)
                name = arch
            } else {
                m = try Model(contentsOfFile: model!)
                name = model!
            }
        } catch let e as WriterError {
            throw CLIError(weights.map { "\($0): \(e.message)" } ?? e.message)
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("\(model ?? ""): \(error)")
        }
        let session = try Session(
            model: m,
            options: SessionOptions(
                threads: threads, maxBatch: batch,
                isa: KernelISA.allCases.first { $0.name == isa },
                useWinograd: !direct))
        let winogradLayers = direct ? 0 : m.layers.filter { $0.kernel.hasPrefix("conv.winograd") }.count
        var rng = SystemRandomNumberGenerator()
        let input = (0..<(batch * m.inputElementCount)).map { _ in Float.random(in: -1...1, using: &rng) }
        var output = [Float](repeating: 0, count: batch * m.outputElementCount)
        let oc = output.count
        func once() throws {
            try input.withUnsafeBufferPointer { i in
                try output.withUnsafeMutableBufferPointer { o in
                    try session.run(
                        input: i.baseAddress!, inputCount: i.count, output: o.baseAddress!, outputCount: oc,
                        batch: batch)
                }
            }
        }
        for _ in 0..<warmup { try once() }
        var n = iterations ?? 0
        if iterations == nil {
            let t0 = acnet_support_now_ns()
            try once()
            let one = max(1, acnet_support_now_ns() - t0)
            n = max(20, Int(2_000_000_000 / one))
        }
        var times = [Double]()
        times.reserveCapacity(n)
        for _ in 0..<n {
            let t0 = acnet_support_now_ns()
            try once()
            times.append(Double(acnet_support_now_ns() - t0) / 1e6)
        }
        times.sort()
        func pct(_ p: Double) -> Double { times[min(times.count - 1, Int(p * Double(times.count - 1) + 0.5))] }
        let median = pct(0.5)
        let p10 = pct(0.1)
        let p90 = pct(0.9)
        let flops = 2 * Double(m.macs) * Double(batch)
        let gflops = flops / (median * 1e6)
        let peak = acnet_support_fma_peak_gflops_threads(200_000_000, 3, Int32(threads))
        // Per-step medians (--profile): the timed loop again, step by step on one thread.
        var stepMedians = [Double]()
        if profile {
            let count = session.stepSummaries.count
            var samples = [[Double]](repeating: [], count: count)
            var ns = [UInt64](repeating: 0, count: count)
            for _ in 0..<n {
                for i in 0..<count { ns[i] = 0 }
                try input.withUnsafeBufferPointer { i in
                    try output.withUnsafeMutableBufferPointer { o in
                        try ns.withUnsafeMutableBufferPointer { t in
                            try session.runProfiled(
                                input: i.baseAddress!, inputCount: i.count, output: o.baseAddress!,
                                outputCount: oc, batch: batch, nanoseconds: t.baseAddress!)
                        }
                    }
                }
                for i in 0..<count { samples[i].append(Double(ns[i]) / 1e6) }
            }
            stepMedians = samples.map { $0.sorted()[$0.count / 2] }
        }
        let peak1 = profile ? acnet_support_fma_peak_gflops(200_000_000, 3) : 0
        if json {
            let steps =
                profile
                ? ",\"steps\":["
                    + zip(session.stepSummaries, zip(stepMedians, session.stepMACs)).map { s, t in
                        "{\"step\":\"\(s)\",\"median_ms\":\(t.0),\"macs\":\(t.1 * batch)}"
                    }.joined(separator: ",") + "]"
                : ""
            print(
                """
                {"model":"\(name)","batch":\(batch),"threads":\(threads),"isa":"\(session.isa.name)","winograd_layers":\(winogradLayers),"macs":\(m.macs),"iterations":\(n),\
                "median_ms":\(median),"p10_ms":\(p10),"p90_ms":\(p90),"gflops":\(gflops),\
                "fma_peak_gflops":\(peak),"fraction_of_peak":\(peak > 0 ? gflops / peak : 0)\(steps)}
                """)
        } else {
            print(
                "model: \(name)  batch \(batch)  threads \(threads)  isa \(session.isa.name)  winograd layers \(winogradLayers)  MACs/image \(m.macs)  runs \(n) (+\(warmup) warm-up)"
            )
            print(String(format: "latency ms: median %.4f  p10 %.4f  p90 %.4f", median, p10, p90))
            print(String(format: "throughput: %.1f GFLOP/s", gflops))
            if peak > 0 {
                let label = threads == 1 ? "1 thread" : "\(threads) threads"
                print(
                    "FMA peak (measured now, \(label)): "
                        + String(format: "%.1f GFLOP/s  ->  %.3f of peak", peak, gflops / peak))
            } else {
                print("FMA peak: not measurable on this CPU (no AVX2+FMA)")
            }
            if profile { printProfile(session, stepMedians, peak1) }
        }
    }

    /// The --profile table: per step, median ms, share of the summed medians, GFLOP/s and the
    /// fraction of the 1-thread FMA peak (convolutions).
    private func printProfile(_ session: Session, _ medians: [Double], _ peak: Double) {
        let total = medians.reduce(0, +)
        print(String(format: "per step (1 thread, medians; sum %.4f ms):", total))
        print("  #   median ms   share   GFLOP/s  of peak  step")
        for (i, (s, macs)) in zip(session.stepSummaries, session.stepMACs).enumerated() {
            let ms = medians[i]
            let g = macs > 0 && ms > 0 ? 2 * Double(macs * batch) / (ms * 1e6) : 0
            let ofPeak = g > 0 && peak > 0 ? String(format: "%7.2f", g / peak) : "       "
            print(
                String(format: "%3d  %10.4f  %5.1f%%  %8.1f", i, ms, 100 * ms / max(total, 1e-12), g)
                    + "  \(ofPeak)  \(s)")
        }
    }
}
