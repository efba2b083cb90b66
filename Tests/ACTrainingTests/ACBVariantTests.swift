import ACRuntime
import Foundation
import Testing

@testable import ACTraining

/// A small fashion_net with ACBs of `variant` and running statistics (one training forward on
/// random images), and its .acnb.
func smallFashionNet(variant: ACBVariant = .full) throws -> (Sequential, [UInt8]) {
    let spec = try ModelRegistry.spec("fashion_net")
    let m = try spec.make(acb: true, seed: 3, variant: variant)
    _ = m.forward(GradientCheck.randomTensor([4, 1, 28, 28], seed: 8), training: true)
    let bytes = try Exporter.serialize(m, inputShape: spec.inputShape, inputSpec: spec.inputSpec, labels: spec.labels)
    return (m, bytes)
}

@Suite("ACB ablation variants")
struct ACBVariantTests {
    static func randomiseBatchNorms(_ b: ACBlock) {
        for (i, bn) in [b.squareBN, b.verBN, b.horBN].enumerated() {
            guard let bn else { continue }
            let o = b.outputChannels
            bn.runningMean.value = GradientCheck.randomTensor([o], seed: 40 + UInt64(i), scale: 0.1)
            bn.runningVar.value = Tensor(shape: [o], data: (0..<o).map { 0.5 + Float($0 + i) * 0.1 })
            bn.weight?.value = GradientCheck.randomTensor([o], seed: 50 + UInt64(i))
            bn.bias?.value = GradientCheck.randomTensor([o], seed: 60 + UInt64(i))
        }
    }

    @Test("branches and checkpoint names", arguments: ACBVariant.allCases)
    func names(_ v: ACBVariant) throws {
        let b = try v.makeBlock(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, seed: 1)
        let names = Set(b.namedParameters().map(\.0)).union(b.namedBuffers().map(\.0))
        let expected: Set<String>
        switch v {
        case .full:
            expected = Set(
                ["square", "ver", "hor"].flatMap { br in
                    ["\(br)_conv.weight"] + ["weight", "bias", "running_mean", "running_var"].map { "\(br)_bn.\($0)" }
                })
        case .hor:
            expected = Set(
                ["square", "hor"].flatMap { br in
                    ["\(br)_conv.weight"] + ["weight", "bias", "running_mean", "running_var"].map { "\(br)_bn.\($0)" }
                })
        case .ver:
            expected = Set(
                ["square", "ver"].flatMap { br in
                    ["\(br)_conv.weight"] + ["weight", "bias", "running_mean", "running_var"].map { "\(br)_bn.\($0)" }
                })
        case .sharedBN:
            expected = [
                "square_conv.weight", "ver_conv.weight", "hor_conv.weight",
                "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
            ]
        }
        #expect(names == expected)
    }

    @Test(
        "gradient check, and the fused conv equals the eval-mode forward",
        arguments: ACBVariant.allCases.flatMap { v in [(v, 3, 1, 1), (v, 5, 0, 2)] })
    func gradientsAndFusion(_ v: ACBVariant, _ k: Int, _ pad: Int, _ stride: Int) throws {
        let b = try v.makeBlock(
            inputChannels: 3, outputChannels: 4, kernelSize: k, stride: stride, padding: pad, seed: 5)
        Self.randomiseBatchNorms(b)
        let x = GradientCheck.randomTensor([2, 3, 9, 8], seed: 9)
        let ref = b.referenceForward(x, training: false)
        let y = b.forward(x, training: false)
        #expect(y.maxAbsDifference(ref) <= 1e-5 * (1 + ref.maxAbs))
        GradientCheck.check(b, input: x, h: 1e-2)
        let ye = b.forward(x, training: false)  // statistics moved during the check
        let g = try FusedGraph(b)
        #expect(g.convolutionCount == 1)
        #expect(g.forward(x).maxAbsDifference(ye) <= 1e-4 * (1 + ye.maxAbs))
    }

    @Test(
        "recipes: the variant builds the model, survives JSON, and old recipes decode as full",
        arguments: [ACBVariant.hor, .ver, .sharedBN])
    func recipeAndExport(_ v: ACBVariant) throws {
        let recipe = TrainingRecipe(model: "fashion_net", acb: true, epochs: 1, acbVariant: v)
        let json = try JSONEncoder().encode(recipe)
        #expect(try JSONDecoder().decode(TrainingRecipe.self, from: json) == recipe)
        var plainJSON = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        plainJSON["acbVariant"] = nil
        let old = try JSONDecoder().decode(
            TrainingRecipe.self, from: try JSONSerialization.data(withJSONObject: plainJSON))
        #expect(
            old.acbVariant == nil
                && old == TrainingRecipe(model: "fashion_net", acb: true, epochs: 1, acbVariant: .full))
        let m = try recipe.makeModel()
        let blocks = m.namedModules().compactMap { $0.1 as? ACBlock }
        #expect(blocks.count == 5)
        #expect(blocks.allSatisfy { ($0.horConv != nil) == (v != .ver) && ($0.verConv != nil) == (v != .hor) })
        #expect(blocks.allSatisfy { ($0.normalization == .afterSum) == (v == .sharedBN) })
        // Shared BN starts at γ = 1; branch BNs at the recipe's γ (fashion_net: 1).
        #expect(blocks[0].squareBN.weight!.value.data[0] == 1)
        // Export through ACRuntime agrees with the unfused eval forward.
        let (model, bytes) = try smallFashionNet(variant: v)
        let xe = GradientCheck.randomTensor([3, 1, 28, 28], seed: 2)
        let (d, mx, mism) = try Exporter.maxLogitDifference(model, acnb: bytes, input: xe)
        #expect(d <= 1e-4 * (1 + mx) && mism == 0, "runtime vs unfused: \(d)")
    }

    @Test("CIFAR ablation default γ: 1/3 per branch BN, 1 for the shared BN")
    func gammaDefaults() throws {
        let spec = try ModelRegistry.spec("cifar_quick")
        let hor = try spec.make(acb: true, variant: .hor).namedModules().compactMap { $0.1 as? ACBlock }[0]
        #expect(abs(hor.horBN!.weight!.value.data[0] - 1.0 / 3) < 1e-7)
        let shared = try spec.make(acb: true, variant: .sharedBN).namedModules().compactMap { $0.1 as? ACBlock }[0]
        #expect(shared.squareBN.weight!.value.data[0] == 1)
    }
}
