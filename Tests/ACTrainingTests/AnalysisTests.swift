import ACNetWriter
import ACRuntime
import Foundation
import Testing

@testable import ACTraining

@Suite("Kernel analyses (skeleton, pruning, test-time transforms)")
struct AnalysisTests {
    @Test("skeleton grid of a hand-made kernel set: per-layer |W| sums normalised by their maximum, averaged")
    func skeletonKnownAnswer() {
        // Layer A: O = 1, Cg = 2. Σ|W| per position = [1 0 1; 2 8 2; 1 0 1] → /8.
        let a = ConvKernel(
            name: "a", outputChannels: 1, inputChannelsPerGroup: 2, kernelHeight: 3, kernelWidth: 3,
            weight: [
                1, 0, -1, 2, 4, 2, 0, 0, 1,
                0, 0, 0, 0, -4, 0, 1, 0, 0,
            ])
        // Layer B: O = 2, Cg = 1. Σ|W| = [1 1 1; 1 1 1; 1 1 4] → /4.
        let b = ConvKernel(
            name: "b", outputChannels: 2, inputChannelsPerGroup: 1, kernelHeight: 3, kernelWidth: 3,
            weight: [Float](repeating: -1, count: 9) + [0, 0, 0, 0, 0, 0, 0, 0, 3])
        // Skipped: a 1x1 projection and a non-square kernel; a 5x5 layer gets its own grid.
        let p = ConvKernel(
            name: "p", outputChannels: 1, inputChannelsPerGroup: 1, kernelHeight: 1, kernelWidth: 1, weight: [5])
        let ns = ConvKernel(
            name: "ns", outputChannels: 1, inputChannelsPerGroup: 1, kernelHeight: 3, kernelWidth: 1,
            weight: [1, 2, 3])
        var w5 = [Float](repeating: 0, count: 25)
        w5[12] = 2
        w5[0] = -1
        let f = ConvKernel(
            name: "f", outputChannels: 1, inputChannelsPerGroup: 1, kernelHeight: 5, kernelWidth: 5, weight: w5)

        #expect(KernelSkeleton.relativeImportance(a) == [0.125, 0, 0.125, 0.25, 1, 0.25, 0.125, 0, 0.125])
        let grids = KernelSkeleton.grids([a, p, b, ns, f])
        #expect(grids.map(\.kernelSize) == [3, 5])
        #expect(grids[0].layerCount == 2 && grids[1].layerCount == 1)
        let expected: [Double] = [0.1875, 0.125, 0.1875, 0.25, 0.625, 0.25, 0.1875, 0.125, 0.5625]
        for i in 0..<9 { #expect(abs(grids[0].values[i] - expected[i]) < 1e-12, "position \(i)") }
        #expect(grids[1][0, 0] == 0.5 && grids[1][2, 2] == 1 && grids[1][1, 1] == 0)
        #expect(KernelSkeleton.text(grids[0]).split(separator: "\n").first == "0.188  0.125  0.188")
        #expect(KernelSkeleton.svg(grids, title: "t<").contains("t&lt;"))
    }

    @Test("weights read back from an .acnb equal the OIHW weights written (oc16 with O % 16 ≠ 0, groups, depthwise)")
    func acnbWeightsRoundTrip() throws {
        var b = ModelBuilder(
            inputChannels: 4, height: 6, width: 6,
            inputSpec: InputSpec(channelOrder: .none, mean: [0, 0, 0, 0], std: [1, 1, 1, 1]))
        func w(_ n: Int, _ seed: UInt64) -> [Float] { GradientCheck.randomTensor([n], seed: seed).data }
        let w1 = w(20 * 4 * 9, 1)
        let w2 = w(18 * 10 * 9, 2)
        let w3 = w(18 * 9, 3)
        let w4 = w(6 * 18, 4)
        var x = try b.conv2d(
            b.input, weight: w1, bias: nil, outputChannels: 20, kernelSize: (3, 3), padding: .symmetric(1))
        x = try b.conv2d(
            x, weight: w2, bias: nil, outputChannels: 18, kernelSize: (3, 3), padding: .symmetric(1), groups: 2)
        x = try b.conv2d(
            x, weight: w3, bias: nil, outputChannels: 18, kernelSize: (3, 3), padding: .symmetric(1), groups: 18)
        x = try b.conv2d(x, weight: w4, bias: nil, outputChannels: 6, kernelSize: (1, 1))
        let bytes = try b.serialize(output: x)
        let weights = try ACNBWeights(bytes: bytes)
        #expect(weights.convolutions.map(\.packing) == [.oc16, .oc16, .depthwise16, .oc16])
        let k = weights.kernels
        #expect(k.map(\.weight) == [w1, w2, w3, w4])
        #expect(k[1].inputChannelsPerGroup == 10 && k[2].inputChannelsPerGroup == 1)
    }

    @Test("pruning at sparsity 0 is the plain model: same bytes, same predictions as the eval forward")
    func pruneZeroIsPlainEval() throws {
        let (m, bytes) = try smallFashionNet()
        let pruner = try KernelPruner(bytes: bytes)
        let x = GradientCheck.randomTensor([6, 1, 28, 28], seed: 21)
        let reference = m.forward(x, training: false).argmaxRows()
        let labels = reference.enumerated().map { $0 % 2 == 0 ? $1 : ($1 + 1) % 10 }  // 3 of 6 correct
        for r in PruneRegion.allCases {
            let p = try #require(pruner.pruned(region: r, sparsity: 0, seed: 5))
            #expect(p == bytes)
            #expect(try RuntimeAccuracy.predictions(bytes: p, inputs: x.data, count: 6, batch: 4) == reference)
            #expect(try RuntimeAccuracy.accuracy(bytes: p, inputs: x.data, labels: labels) == 0.5)
        }
    }

    @Test("pruning zeroes round(s·N) weights, all inside the region; unreachable sparsities give nil")
    func pruneCountsAndRegions() throws {
        let (_, bytes) = try smallFashionNet()
        let pruner = try KernelPruner(bytes: bytes)
        let original = try ACNBWeights(bytes: bytes).kernels
        #expect(pruner.totalWeights == (32 * 1 + 32 * 32 + 64 * 32 + 64 * 64 + 128 * 64) * 9)
        #expect(abs(pruner.maximumSparsity(.corners) - 4.0 / 9) < 1e-12)
        #expect(pruner.candidateCount(.corners) + pruner.candidateCount(.skeleton) == pruner.candidateCount(.global))
        #expect(abs(pruner.maximumSparsity(.skeleton) - 5.0 / 9) < 1e-12)
        #expect(pruner.pruned(region: .corners, sparsity: 0.5, seed: 1) == nil)
        for r in PruneRegion.allCases {
            let s = 0.1
            let p = try #require(pruner.pruned(region: r, sparsity: s, seed: 2))
            _ = try Model(bytes: p)  // the CRC was re-sealed
            let pruned = try ACNBWeights(bytes: p).kernels
            var zeroed = 0
            for (k0, k1) in zip(original, pruned) {
                for i in k0.weight.indices where k0.weight[i] != k1.weight[i] {
                    #expect(k1.weight[i] == 0)
                    let t = i % 9
                    #expect(r.contains(kh: t / 3, kw: t % 3, kernelSize: 3), "\(r): position \(t)")
                    zeroed += 1
                }
            }
            #expect(zeroed == pruner.prunedCount(sparsity: s))
            #expect(pruner.pruned(region: r, sparsity: s, seed: 2) == p, "deterministic per seed")
            #expect(pruner.pruned(region: r, sparsity: s, seed: 3) != p)
        }
    }

    @Test("transforms: a flip twice, rot90 four times, rot90 then rot270 are the identity; rot180 = flipud∘fliplr")
    func transforms() {
        let (w, h, c) = (5, 3, 2)
        let img = (0..<(w * h * c)).map { Int($0) }
        func t(
            _ x: ImageTransform, _ v: (pixels: [Int], width: Int, height: Int)
        ) -> (pixels: [Int], width: Int, height: Int) {
            x.apply(v.pixels, width: v.width, height: v.height, channels: c)
        }
        let id = (pixels: img, width: w, height: h)
        for f in [ImageTransform.flipud, .fliplr, .rot180] {
            let twice = t(f, t(f, id))
            #expect(twice.pixels == img && twice.width == w && twice.height == h, "\(f)")
        }
        var r = id
        for _ in 0..<4 { r = t(.rot90, r) }
        #expect(r.pixels == img && r.width == w)
        let once = t(.rot90, id)
        #expect(once.width == h && once.height == w)
        #expect(t(.rot270, once).pixels == img)
        #expect(t(.rot180, id).pixels == t(.flipud, t(.fliplr, id)).pixels)
        // Counter-clockwise: [[1 2 3] [4 5 6]] → [[3 6] [2 5] [1 4]] (numpy.rot90).
        let small = ImageTransform.rot90.apply([1, 2, 3, 4, 5, 6], width: 3, height: 2, channels: 1)
        #expect(small.pixels == [3, 6, 2, 5, 1, 4] && small.width == 2 && small.height == 3)
        #expect(
            ImageTransform.rot270.apply([1, 2, 3, 4, 5, 6], width: 3, height: 2, channels: 1).pixels == [
                4, 1, 5, 2, 6, 3,
            ])
    }
}
