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
