import ACRuntime
import Testing

@testable import ACTraining

@Suite("Models")
struct ModelTests {
    static let cases: [(String, Bool)] = ModelRegistry.names.flatMap { [($0, false), ($0, true)] }

    @Test("one training step, then fusion and an export round trip through ACRuntime", arguments: cases)
    func trainStepAndExport(_ name: String, _ acb: Bool) throws {
        let spec = try ModelRegistry.spec(name)
        let model = try spec.make(acb: acb, seed: 7)
        let batch = 4
        let x = GradientCheck.randomTensor([batch] + spec.inputShape, seed: 1)
        let labels = [1, 3, 5, 7]
        let opt = SGD(model.namedParameters(), recipe: spec.recipe)
        let before = model.namedParameters().map { $0.1.value }
        model.zeroGrad()
        let logits = model.forward(x, training: true)
        #expect(logits.shape == [batch, spec.classCount])
        let (loss, grad, _) = SoftmaxCrossEntropy()(logits, labels: labels)
        #expect(loss.isFinite)
        _ = model.backward(grad)
        opt.step(lr: 0.01)
        let after = model.namedParameters().map { $0.1.value }
        #expect(zip(before, after).allSatisfy { $0.shape == $1.shape })
        #expect(
            zip(before, after).filter { $0 != $1 }.count == before.count,
            "every parameter moves after one step")
        #expect(model.namedParameters().allSatisfy { $0.1.value.data.allSatisfy(\.isFinite) })

        // Export: fused graph in Swift and the .acnb in the runtime agree with the unfused net.
        let xe = GradientCheck.randomTensor([2] + spec.inputShape, seed: 2)
        let ref = model.forward(xe, training: false)
        let graph = try FusedGraph(model)
        #expect(graph.forward(xe).maxAbsDifference(ref) <= 1e-4 * (1 + ref.maxAbs))
        let bytes = try Exporter.serialize(
            model, inputShape: spec.inputShape, inputSpec: spec.inputSpec,
            labels: spec.labels)
        let (d, m, mismatches) = try Exporter.maxLogitDifference(model, acnb: bytes, input: xe)
        #expect(d <= 1e-4 * (1 + m), "runtime vs unfused: \(d)")
        #expect(mismatches == 0)
    }

    @Test("names follow PyTorch conventions")
    func names() throws {
        let r = try ModelRegistry.make("resnet20", acb: true)
        let p = Set(r.namedParameters().map(\.0))
        #expect(p.contains("stage1.0.conv1.square_conv.weight"))
        #expect(p.contains("stage2.0.shortcut.conv.weight"))
        #expect(p.contains("stage2.0.shortcut.bn.bias"))
        #expect(p.contains("fc.weight"))
        let b = Set(r.namedBuffers().map(\.0))
        #expect(b.contains("stage3.2.conv2.hor_bn.running_var"))
        let f = try ModelRegistry.make("fashion_net", acb: false)
        #expect(
            Set(f.namedParameters().map(\.0)).isSuperset(of: [
                "0.0.weight", "0.1.weight", "0.1.bias", "9.weight", "9.bias",
            ]))
        // ResNet-20: 0.27 M parameters plain (He et al.); ACB adds the Kx1/1xK kernels and BNs.
        #expect(abs(Double(try ModelRegistry.make("resnet20", acb: false).parameterCount) - 272_000) < 2_000)
        #expect(throws: ModelRegistryError.unknownModel("nope")) { try ModelRegistry.spec("nope") }
    }

    @Test("evalForward in sub-batches equals one eval forward")
    func evalForwardBatches() throws {
        let m = try ModelRegistry.make("fashion_net", acb: true)
        _ = m.forward(GradientCheck.randomTensor([4, 1, 28, 28], seed: 1), training: true)
        let x = GradientCheck.randomTensor([5, 1, 28, 28], seed: 2)
        let whole = m.forward(x, training: false)
        let parts = m.evalForward(x, batchSize: 2)
        #expect(parts.shape == whole.shape)
        #expect(parts.maxAbsDifference(whole) <= 1e-5 * (1 + whole.maxAbs))
    }

    @Test("ACB models replace every 1<K<7 conv; 1x1 projections stay")
    func acbReplacement() throws {
        let r = try ModelRegistry.make("resnet56", acb: true)
        let mods = r.namedModules()
        #expect(mods.filter { $0.1 is ACBlock }.count == 55)
        #expect(mods.filter { $0.1 is ConvBN }.count == 2)
        #expect(
            try ModelRegistry.make("lenet5_bn", acb: true).namedModules().compactMap { $0.1 as? ACBlock }
                .allSatisfy { $0.crop == 2 })
    }
}

@Suite("Optimiser and schedules")
struct OptimTests {
    @Test("SGD matches torch.optim.SGD with momentum and weight decay; 2x LR on biases")
    func sgd() {
        let w = Parameter(Tensor(shape: [1], data: [1]))
        let b = Parameter(Tensor(shape: [1], data: [1]), isBias: true)
        let opt = SGD([("w", w), ("b", b)], momentum: 0.9, weightDecay: 0.1)
        w.grad = Tensor(shape: [1], data: [0.5])
        b.grad = Tensor(shape: [1], data: [0.5])
        opt.step(lr: 0.1)
        // d = 0.5 + 0.1·1 = 0.6; buf = 0.6; w = 1 − 0.1·0.6
        #expect(abs(w.value.data[0] - 0.94) < 1e-6)
        #expect(abs(b.value.data[0] - 0.88) < 1e-6)
        opt.step(lr: 0.1)
        // d = 0.5 + 0.094 = 0.594; buf = 0.54 + 0.594 = 1.134; w = 0.94 − 0.1134
        #expect(abs(w.value.data[0] - 0.8266) < 1e-6)
        let nb = Parameter(Tensor(shape: [1], data: [1]), isBias: true, isNormalization: true)
        nb.grad = Tensor(shape: [1], data: [0])
        SGD([("bn.bias", nb)], momentum: 0, weightDecay: 0.1, weightDecayOnAll: false).step(lr: 1)
        #expect(nb.value.data[0] == 1)
    }

    @Test("cosine with warm-up and step schedules")
    func schedules() {
        let c = LRSchedule.cosine(base: 0.1, totalIterations: 110, warmupIterations: 10)
        #expect(abs(c.learningRate(at: 0) - 0.01) < 1e-7)
        #expect(abs(c.learningRate(at: 9) - 0.1) < 1e-7)
        #expect(abs(c.learningRate(at: 10) - 0.1) < 1e-7)
        #expect(abs(c.learningRate(at: 60) - 0.05) < 1e-6)
        #expect(c.learningRate(at: 110) < 1e-7)
        let s = LRSchedule.step(base: 0.1, milestones: [100, 150], gamma: 0.1)
        #expect(s.learningRate(at: 99) == 0.1)
        #expect(abs(s.learningRate(at: 100) - 0.01) < 1e-8)
        #expect(abs(s.learningRate(at: 200) - 0.001) < 1e-9)
    }
}
