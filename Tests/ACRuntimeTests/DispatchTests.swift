import ACNetWriter
import ACRuntime
import Testing

/// Runtime CPU dispatch: the ISA choice at load, forcing a lower one per session. (Each op's kernels are checked against the reference under every
/// supported ISA in `OpSweepTests`.)
@Suite("Kernel ISA dispatch")
struct DispatchTests {
    @Test("the model picks the fastest supported ISA; baseline is always available")
    func best() throws {
        #expect(KernelISA.baseline.isSupported)
        let model = try Model(bytes: try BenchmarkModels.build("resnet20", seed: 1))
        #expect(model.isa == KernelISA.best)
        #expect(model.isa.isSupported)
        for isa in KernelISA.allCases where isa.rawValue > model.isa.rawValue { #expect(!isa.isSupported) }
    }

    @Test("every supported ISA runs a whole ResNet-20 to the same logits within rounding")
    func wholeModel() throws {
        let model = try Model(bytes: try BenchmarkModels.build("resnet20", seed: 3))
        var rng = SeededRNG(seed: 5)
        let x = randomArray(2 * model.inputElementCount, &rng)
        let base = try Session(model: model, options: SessionOptions(maxBatch: 2, isa: .baseline))
        let want = try base.run(x, batch: 2)
        for isa in supportedISAs {
            let s = try Session(model: model, options: SessionOptions(maxBatch: 2, isa: isa))
            #expect(s.isa == isa)
            let got = try s.run(x, batch: 2)
            // FMA (one rounding) against separate multiply and add (two) over 19 layers.
            #expect(maxAbsDiff(got, want) <= 1e-3 * max(1, maxAbs(want)), "\(isa.name)")
        }
    }
}

/// `acnet bench --arch conv:IN:OUT:HW[:K[:S]]`: one convolution layer of the given shape.
@Suite("Single-layer benchmark models")
struct LayerSpecTests {
    @Test("conv:IN:OUT:HW[:K[:S]] builds one K×K stride-S convolution with padding K/2")
    func shapes() throws {
        let cases: [(spec: String, input: [Int], output: [Int], macs: Int)] = [
            ("conv:16:16:32", [16, 32, 32], [16, 32, 32], 16 * 16 * 9 * 32 * 32),
            ("conv:3:20:9:5:2", [3, 9, 9], [20, 5, 5], 20 * 3 * 25 * 5 * 5),
            ("conv:8:4:7:1", [8, 7, 7], [4, 7, 7], 4 * 8 * 49),
        ]
        for c in cases {
            let model = try Model(bytes: try BenchmarkModels.build(c.spec))
            #expect(model.inputShape == c.input, "\(c.spec)")
            #expect(model.outputShape == c.output, "\(c.spec)")
            #expect(model.macs == c.macs, "\(c.spec)")
        }
    }

    @Test("malformed layer specs are errors, not crashes")
    func malformed() {
        for spec in [
            "conv:", "conv:16", "conv:16:16", "conv:16:16:x", "conv:0:16:8", "conv:16:16:8:3:1:1",
            "conv:16:16:8:17", "conv:16:16:8:3:9", "conv:-1:16:8", "conv:16:16:99999",
        ] {
            #expect(throws: WriterError.self, "\(spec)") { _ = try BenchmarkModels.build(spec) }
        }
    }
}
