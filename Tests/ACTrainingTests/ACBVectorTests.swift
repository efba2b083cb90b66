import ACNetWriter
import ACRuntime
import Foundation
import Testing

@testable import ACTraining

/// The ACB reference vectors of an independent implementation (in Fixtures/acb): an independent
/// PyTorch implementation's eval-mode ACB outputs and fused kernels.
@Suite("ACB reference vectors")
struct ACBVectorTests {
    static let names = [
        "k3p1", "k3p0_crop", "k5p2", "k5p6", "k3p1s2_odd", "k3p1g4", "k3p1dw_s2",
        "k3p1_noaffine", "k3p1_c64",
    ]

    static func fixture(_ name: String) throws -> SafeTensors {
        let rel = "Fixtures/acb/acb_\(name).safetensors"
        if let base = Bundle.module.resourceURL {
            let path = base.appendingPathComponent(rel).path
            if FileManager.default.fileExists(atPath: path) { return try SafeTensors(contentsOfFile: path) }
        }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return try SafeTensors(contentsOfFile: here.appendingPathComponent(rel).path)
    }

    static func tensor(_ f: SafeTensors, _ name: String) throws -> Tensor {
        let (shape, values) = try f.floats(name)
        return Tensor(shape: shape, data: values)
    }

    static func meta(_ f: SafeTensors, _ key: String) throws -> String {
        let v = try #require(f.metadata[key], "metadata \(key)")
        return v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// Builds the block from the branch tensors of a fixture.
    static func block(_ f: SafeTensors) throws -> ACBlock {
        let int = { (k: String) throws -> Int in try #require(Int(try meta(f, k)), "\(k)") }
        let affine = try meta(f, "use_affine") == "true"
        let b = try ACBlock(
            inputChannels: try int("in_channels"), outputChannels: try int("out_channels"),
            kernelSize: try int("kernel_size"), stride: try int("stride"), padding: try int("padding"),
            dilation: try int("dilation"), groups: try int("groups"),
            paddingMode: try #require(PaddingMode(rawValue: try meta(f, "padding_mode"))), useAffine: affine)
        b.squareConv.weight.value = try tensor(f, "square_conv.weight")
        b.verConv!.weight.value = try tensor(f, "ver_conv.weight")
        b.horConv!.weight.value = try tensor(f, "hor_conv.weight")
        for (prefix, bn) in [("square_bn", b.squareBN), ("ver_bn", b.verBN!), ("hor_bn", b.horBN!)] {
            bn.runningMean.value = try tensor(f, prefix + ".running_mean")
            bn.runningVar.value = try tensor(f, prefix + ".running_var")
            if affine {
                bn.weight!.value = try tensor(f, prefix + ".weight")
                bn.bias!.value = try tensor(f, prefix + ".bias")
            }
        }
        return b
    }

    @Test("eval-mode block reproduces `output`", arguments: names)
    func output(_ name: String) throws {
        let f = try Self.fixture(name)
        let b = try Self.block(f)
        let x = try Self.tensor(f, "input")
        let expected = try Self.tensor(f, "output")
        let y = b.forward(x, training: false)
        #expect(y.shape == expected.shape)
        #expect(y.maxAbsDifference(expected) <= 1e-4 * (1 + expected.maxAbs))
        // The three-convolution formulation agrees too.
        #expect(b.referenceForward(x, training: false).maxAbsDifference(expected) <= 1e-4 * (1 + expected.maxAbs))
    }

    @Test("fusion reproduces fused.weight / fused.bias and the output", arguments: names)
    func fusion(_ name: String) throws {
        let f = try Self.fixture(name)
        let fused = try Fusion.fuse(try Self.block(f))
        let w = try Self.tensor(f, "fused.weight")
        let bias = try Self.tensor(f, "fused.bias")
        #expect(fused.weight.shape == w.shape)
        #expect(fused.weight.maxAbsDifference(w) <= 1e-5 * (1 + w.maxAbs))
        #expect(Tensor(shape: [bias.count], data: fused.bias).maxAbsDifference(bias) <= 1e-5 * (1 + bias.maxAbs))
        let x = try Self.tensor(f, "input")
        let expected = try Self.tensor(f, "output")
        let y = fused.makeConv2d().forward(x, training: false)
        #expect(y.maxAbsDifference(expected) <= 1e-4 * (1 + expected.maxAbs))
    }

    @Test("the fused convolution runs through ACRuntime", arguments: names)
    func runtime(_ name: String) throws {
        let f = try Self.fixture(name)
        let block = try Self.block(f)
        let x = try Self.tensor(f, "input")
        let expected = try Self.tensor(f, "output")
        let c = x.shape[1]
        let bytes = try Exporter.serialize(
            block, inputShape: Array(x.shape.dropFirst()),
            inputSpec: InputSpec(
                channelOrder: .none, mean: [Float](repeating: 0, count: c),
                std: [Float](repeating: 1, count: c)),
            labels: [])
        let (d, _, _) = try Exporter.maxLogitDifference(block, acnb: bytes, input: x)
        #expect(d <= 1e-4 * (1 + expected.maxAbs))
    }
}
