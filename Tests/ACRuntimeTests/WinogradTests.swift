import ACNetWriter
import ACRuntime
import Testing

/// Winograd F(4×4, 3×3) and F(2×2, 5×5): the kernels against the scalar reference convolution on every
/// supported ISA, the file-format rules (version 2 only when used), and the session option
/// that forces direct convolution.
@Suite("Winograd F(4x4, 3x3) and F(2x2, 5x5)")
struct WinogradTests {
    struct Shape: CustomStringConvertible, Sendable {
        var c: Int, o: Int, h: Int, w: Int, pad: Int
        var kernel = 3
        var residual = false
        var activation = Activation.none
        var description: String {
            "\(kernel)x\(kernel) \(c)->\(o) \(h)x\(w) pad \(pad)\(residual ? " +res" : "") \(activation.name)"
        }
    }

    static let shapes: [Shape] = [
        Shape(c: 16, o: 16, h: 8, w: 8, pad: 1),
        Shape(c: 3, o: 5, h: 7, w: 9, pad: 1),
        Shape(c: 20, o: 40, h: 13, w: 11, pad: 1, activation: .relu),
        Shape(c: 64, o: 80, h: 14, w: 14, pad: 1, residual: true, activation: .relu),
        Shape(c: 32, o: 48, h: 6, w: 6, pad: 0),
        Shape(c: 16, o: 16, h: 5, w: 5, pad: 2, activation: .relu6),
        Shape(c: 17, o: 33, h: 1, w: 3, pad: 1),
        // More tiles than one chunk holds (the chunk loop and its equal split).
        Shape(c: 256, o: 16, h: 40, w: 40, pad: 1, residual: true),
        // F(2x2, 5x5): Cifar-quick's layers, odd sizes, padding 0 and 1, a residual.
        Shape(c: 32, o: 32, h: 16, w: 16, pad: 2, kernel: 5, activation: .relu),
        Shape(c: 32, o: 64, h: 8, w: 8, pad: 2, kernel: 5),
        Shape(c: 3, o: 20, h: 9, w: 7, pad: 0, kernel: 5),
        Shape(c: 24, o: 17, h: 11, w: 13, pad: 1, kernel: 5, activation: .relu6),
        Shape(c: 16, o: 48, h: 12, w: 10, pad: 2, kernel: 5, residual: true, activation: .relu),
    ]

    @Test("matches the reference convolution on every ISA", arguments: shapes)
    func againstReference(_ s: Shape) throws {
        var rng = SeededRNG(seed: UInt64(s.c * 1000 + s.o))
        let n = 2
        let x = randomArray(n * s.c * s.h * s.w, &rng)
        let k = s.kernel
        let weight = randomArray(s.o * s.c * k * k, &rng, scale: 0.5)
        let bias = randomArray(s.o, &rng)
        // The residual (same-size outputs only) is a 1x1 convolution of the input, run directly.
        let w1 = randomArray(s.o * s.c, &rng)
        let b1 = randomArray(s.o, &rng)
        let xt = Reference.Tensor(n: n, c: s.c, h: s.h, w: s.w, data: x)
        let r = s.residual ? Reference.conv2d(xt, weight: w1, bias: b1, outputChannels: s.o, kernelSize: (1, 1)) : nil
        let want = Reference.conv2d(
            xt, weight: weight, bias: bias, outputChannels: s.o, kernelSize: (k, k),
            padding: (s.pad, s.pad, s.pad, s.pad), activation: s.activation, residual: r
        ).data

        var b = ModelBuilder(inputChannels: s.c, height: s.h, width: s.w, inputSpec: rawSpec(s.c))
        b.winograd = .all
        let rt =
            s.residual
            ? try b.conv2d(b.input, weight: w1, bias: b1, outputChannels: s.o, kernelSize: (1, 1)) : nil
        let y = try b.conv2d(
            b.input, weight: weight, bias: bias, outputChannels: s.o, kernelSize: (k, k),
            padding: .symmetric(s.pad), activation: s.activation, residual: rt)
        let model = try Model(bytes: try b.serialize(output: y))
        #expect(model.layers.last?.kernel == (k == 3 ? "conv.winograd43" : "conv.winograd25"))
        // F(4,3) rounding: the transforms scale terms by up to ~10², so allow 100× the direct
        // kernel's accumulation bound.
        let tol = 100 * accumulationTolerance(terms: s.c * k * k + 2, magnitude: max(1, maxAbs(want)) * 4)
        for isa in supportedISAs {
            for useWinograd in [true, false] {
                let session = try Session(
                    model: model, options: SessionOptions(maxBatch: n, isa: isa, useWinograd: useWinograd))
                let got = try session.run(x, batch: n)
                #expect(
                    maxAbsDiff(got, want) <= tol,
                    "\(s) \(isa.name) winograd \(useWinograd): max |Δ| \(maxAbsDiff(got, want)) > \(tol)")
            }
        }
    }

    @Test("version 1 without Winograd weights, version 2 with; the v1 file loads as before")
    func versions() throws {
        for policy in WinogradPolicy.allCases {
            let bytes = try BenchmarkModels.build("resnet20", seed: 2, winograd: policy)
            let version = bytes.withUnsafeBytes {
                $0.loadUnaligned(fromByteOffset: ACNBFormat.Header.version, as: UInt32.self)
            }
            #expect(version == (policy == .off ? 1 : 2), "\(policy)")
            let model = try Model(bytes: bytes)
            let winogradLayers = model.layers.filter { $0.kernel == "conv.winograd43" }.count
            switch policy {
            case .off: #expect(winogradLayers == 0)
            case .auto: #expect(winogradLayers == 16)  // the 3x3 stride-1 convs after the 3-channel stem
            case .all: #expect(winogradLayers == 17)  // 19 3x3 convs, 2 of them stride 2
            }
        }
    }

    @Test("a whole ResNet-20 with Winograd agrees with direct convolution; workspace includes the scratch")
    func wholeModel() throws {
        let model = try Model(bytes: try BenchmarkModels.build("resnet20", seed: 3, winograd: .all))
        var rng = SeededRNG(seed: 9)
        let x = randomArray(2 * model.inputElementCount, &rng)
        let direct = try Session(model: model, options: SessionOptions(maxBatch: 2, useWinograd: false))
        let wino = try Session(model: model, options: SessionOptions(maxBatch: 2))
        #expect(wino.workspaceSize > direct.workspaceSize)
        let want = try direct.run(x, batch: 2)
        let got = try wino.run(x, batch: 2)
        #expect(maxAbsDiff(got, want) <= 1e-3 * max(1, maxAbs(want)), "max |Δ| \(maxAbsDiff(got, want))")
        for i in stride(from: 0, to: 20, by: 10) {
            let a = want[i..<(i + 10)]
            let g = got[i..<(i + 10)]
            #expect(a.indices.max { a[$0] < a[$1] } == g.indices.max { g[$0] < g[$1] })
        }
    }
}
