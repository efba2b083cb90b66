import ACRuntime

/// Where the pruning experiment draws the weights it zeroes (ACNet paper, Fig. 5), per
/// KxK kernel (K > 1, square): the skeleton is the centre row and the centre column (2K − 1
/// positions), the corners are every other position ((K − 1)² of them: the 4 corners for 3x3),
/// global is all K² positions.
public enum PruneRegion: String, CaseIterable, Sendable {
    case corners, skeleton, global

    /// Whether position (kh, kw) of a K×K kernel belongs to the region.
    public func contains(kh: Int, kw: Int, kernelSize k: Int) -> Bool {
        let onSkeleton = kh == k / 2 || kw == k / 2
        switch self {
        case .corners: return !onSkeleton
        case .skeleton: return onSkeleton
        case .global: return true
        }
    }
}

/// Random pruning of individual kernel weights of a fused model (the paper's Fig. 5): at
/// global sparsity s, round(s · N) weights are set to zero, N being the number of weights of all
/// square KxK convolutions with K > 1; they are drawn uniformly without replacement from the
/// region's positions of all those layers together. A sparsity larger than the region's share
/// of N (corners of 3x3: 4/9) cannot be reached and is reported as nil.
public struct KernelPruner {
    public let weights: ACNBWeights
    /// N: weights of all square KxK convolutions, K > 1.
    public let totalWeights: Int
    /// Byte offsets of the region's weights in the image, per region.
    private let candidates: [PruneRegion: [Int]]

    public init(bytes: [UInt8]) throws {
        weights = try ACNBWeights(bytes: bytes)
        var c = [PruneRegion: [Int]]()
        var total = 0
        for (i, v) in weights.convolutions.enumerated()
        where v.kernelHeight == v.kernelWidth && v.kernelHeight > 1 {
            let K = v.kernelHeight
            total += v.weightCount
            for o in 0..<v.outputChannels {
                for ci in 0..<v.inputChannelsPerGroup {
                    for kh in 0..<K {
                        for kw in 0..<K {
                            let at = weights.byteOffset(convolution: i, o: o, c: ci, kh: kh, kw: kw)
                            for r in PruneRegion.allCases where r.contains(kh: kh, kw: kw, kernelSize: K) {
                                c[r, default: []].append(at)
                            }
                        }
                    }
                }
            }
        }
        candidates = c
        totalWeights = total
    }

    /// The number of weights in the region (over all square KxK convs, K > 1).
    public func candidateCount(_ region: PruneRegion) -> Int { candidates[region]?.count ?? 0 }

    /// The largest sparsity the region can reach (its share of N).
    public func maximumSparsity(_ region: PruneRegion) -> Double {
        totalWeights > 0 ? Double(candidateCount(region)) / Double(totalWeights) : 0
    }

    /// The number of weights zeroed at `sparsity`: round(sparsity · N).
    public func prunedCount(sparsity: Double) -> Int { Int((sparsity * Double(totalWeights)).rounded()) }

    /// The .acnb image with round(sparsity · N) weights of `region` zeroed (drawn by a partial
    /// Fisher–Yates shuffle seeded with `seed` and the region), CRC re-sealed; nil if the region
    /// has fewer weights than that. Sparsity 0 returns the original bytes.
    public func pruned(region: PruneRegion, sparsity: Double, seed: UInt64) -> [UInt8]? {
        let n = prunedCount(sparsity: sparsity)
        var pool = candidates[region] ?? []
        guard n <= pool.count else { return nil }
        if n == 0 { return weights.bytes }
        let regionIndex = UInt64(PruneRegion.allCases.firstIndex(of: region)!)
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ regionIndex &+ 1)
        for i in 0..<n {
            let j = i + Int(rng.next() % UInt64(pool.count - i))
            pool.swapAt(i, j)
        }
        var w = weights
        w.zero(byteOffsets: pool[0..<n])
        w.reseal()
        return w.bytes
    }
}
