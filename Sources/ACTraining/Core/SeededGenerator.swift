// Seeded random numbers for reproducible initialisation and dropout.

/// A small, fast, seedable generator (SplitMix64). Same seed, same sequence, on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextUnit() }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9007199254740992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9007199254740992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

// Double log/cos without Foundation in this file.
@inline(__always) func _log(_ x: Double) -> Double { x.logNatural }
@inline(__always) func _cos(_ x: Double) -> Double { x.cosine }

extension Double {
    var logNatural: Double {
        _stdlibLog(self)
    }
    var cosine: Double { _stdlibCos(self) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _stdlibLog(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _stdlibCos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _stdlibLog(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _stdlibCos(_ x: Double) -> Double { Darwin.cos(x) }
#endif

extension Tensor {
    /// Uniform(−bound, bound) samples, PyTorch's default initialisation for conv/linear
    /// (`kaiming_uniform_(a=√5)` gives bound = 1/√fan_in).
    public static func uniform(
        _ shape: [Int], bound: Float, using rng: inout SeededGenerator
    ) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(-bound, bound) }
        return t
    }

    /// Normal(0, std) samples.
    public static func normal(
        _ shape: [Int], std: Float, using rng: inout SeededGenerator
    ) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
        return t
    }
}
