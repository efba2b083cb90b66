/// The seeded generator of the data pipeline (shuffling, augmentation, validation split).
///
/// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64. The whole state is four
/// `UInt64`s, so a checkpoint can store it and a resumed run continues the same stream.
/// Streams are derived, not shared: ``PipelineRandom/init(seed:stream:)`` gives independent
/// generators for (seed, epoch, batch) tuples, which makes a batch's content independent of
/// the order in which a background thread prepares it.
public struct PipelineRandom: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words (never all zero).
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded from `seed` and a list of stream selectors (e.g. `[epoch, batch]`).
    public init(seed: UInt64, stream: [UInt64] = []) {
        var sm = seed
        for s in stream { sm = PipelineRandom.splitMix(&sm) ^ (s &* 0x9E37_79B9_7F4A_7C15) }
        state = (
            PipelineRandom.splitMix(&sm), PipelineRandom.splitMix(&sm),
            PipelineRandom.splitMix(&sm), PipelineRandom.splitMix(&sm)
        )
        if state == (0, 0, 0, 0) { state.0 = 1 }
    }

    /// Restores a generator from its four state words (as saved in a checkpoint).
    public init(state words: [UInt64]) {
        precondition(words.count == 4, "PipelineRandom state needs 4 words, got \(words.count)")
        state = (words[0], words[1], words[2], words[3])
        if state == (0, 0, 0, 0) { state.0 = 1 }
    }

    /// The state words, for checkpoints.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's method, unbiased).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "PipelineRandom.below needs a positive bound")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A uniform float in [0, 1) with 24 random bits.
    public mutating func unitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A Fisher–Yates permutation of `0..<n`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, below(i + 1))
            }
        }
        return p
    }

    public static func == (a: PipelineRandom, b: PipelineRandom) -> Bool { a.stateWords == b.stateWords }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
