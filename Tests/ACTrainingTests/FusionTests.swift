import ACRuntime
import Testing

@testable import ACTraining

@Suite("Fusion and export")
struct FusionTests {
    /// Runs a few training steps so every BatchNorm has running statistics.
    static func warmUp(_ m: any Module, inputShape: [Int], steps: Int = 2, seed: UInt64 = 3) {
        for s in 0..<steps {
            let x = GradientCheck.randomTensor([4] + inputShape, seed: seed + UInt64(s))
            _ = m.forward(x, training: true)
        }
    }

    struct ACBCase: CustomStringConvertible, Sendable {
        var k: Int, stride: Int, pad: Int, dilation: Int, groups: Int, mode: PaddingMode, affine: Bool
        var description: String { "k\(k) s\(stride) p\(pad) d\(dilation) g\(groups) \(mode) affine=\(affine)" }
    }

    static let acbCases: [ACBCase] = [
        ACBCase(k: 3, stride: 1, pad: 1, dilation: 1, groups: 1, mode: .zeros, affine: true),
        ACBCase(k: 3, stride: 2, pad: 0, dilation: 1, groups: 2, mode: .zeros, affine: true),
        ACBCase(k: 3, stride: 1, pad: 1, dilation: 2, groups: 1, mode: .zeros, affine: false),
        ACBCase(k: 5, stride: 1, pad: 4, dilation: 2, groups: 1, mode: .zeros, affine: true),
        ACBCase(k: 5, stride: 2, pad: 1, dilation: 1, groups: 1, mode: .reflect, affine: true),
        ACBCase(k: 3, stride: 1, pad: 1, dilation: 1, groups: 2, mode: .circular, affine: true),
        ACBCase(k: 3, stride: 1, pad: 2, dilation: 1, groups: 1, mode: .replicate, affine: true),
    ]

    @Test("fused ACB equals the unfused block in eval mode (every alignment and padding mode)", arguments: acbCases)
    func fusedACB(_ c: ACBCase) throws {
        let b = try ACBlock(
            inputChannels: 4, outputChannels: 6, kernelSize: c.k, stride: c.stride, padding: c.pad,
            dilation: c.dilation, groups: c.groups, paddingMode: c.mode, useAffine: c.affine, seed: 2)
        Self.warmUp(b, inputShape: [4, 9, 8])
        let x = GradientCheck.randomTensor([2, 4, 9, 8], seed: 11)
        let ref = b.forward(x, training: false)
        let g = try FusedGraph(b)
        #expect(g.convolutionCount == 1)
        #expect(g.forward(x).maxAbsDifference(ref) <= 1e-4 * (1 + ref.maxAbs))
    }

    @Test("export refuses a model without running statistics")
    func noStatistics() throws {
        let m = try Models.fashionNet(acb: true)
        #expect(throws: FusionError.self) { try FusedGraph(m) }
    }

    @Test("export refuses a non-zero padding mode, with the layer's name")
    func paddingMode() throws {
        let b = try ACBlock(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, paddingMode: .reflect)
        let m = Sequential([b, ReLU()])
        Self.warmUp(m, inputShape: [2, 5, 5])
        #expect(throws: FusionError.unsupportedPaddingMode("0", .reflect)) {
            _ = try Exporter.serialize(
                m, inputShape: [2, 5, 5],
                inputSpec: InputSpec(channelOrder: .none, mean: [0, 0], std: [1, 1]), labels: [])
        }
    }

    @Test("BatchNorm after a conv with bias and a standalone BatchNorm are folded")
    func foldings() throws {
        let conv = Conv2d(3, 4, kernelSize: 3, padding: 1, bias: true, seed: 1)
        let m = Sequential([conv, BatchNorm2d(4), ReLU(), BatchNorm2d(4), GlobalAvgPool(), Flatten(), Linear(4, 3)])
        Self.warmUp(m, inputShape: [3, 6, 6])
        let g = try FusedGraph(m)
        let x = GradientCheck.randomTensor([2, 3, 6, 6], seed: 5)
        let ref = m.forward(x, training: false)
        #expect(g.forward(x).maxAbsDifference(ref) <= 1e-4 * (1 + ref.maxAbs))
    }
}
