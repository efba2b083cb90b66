#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Vector helpers for the kernels. `V16` is one block of 16 lanes (one AVX-512 register, two
/// AVX2 registers, four NEON registers).
typealias V16 = SIMD16<Float>

// Integer and float minimum/maximum for the kernels. The standard library's generic `min`/`max`
// are specialised into the calling module under a name without the module's (`$ss3min…Tg5`):
// two ISA modules emitting it would be merged by the linker and one ISA's copy would run for
// all (scripts/check_isa.sh fails on such symbols). These are module-internal, so every ISA
// module gets its own; they use the standard library's definitions (same NaN behaviour).
@inline(__always) func kmin(_ a: Int, _ b: Int) -> Int { b < a ? b : a }
@inline(__always) func kmax(_ a: Int, _ b: Int) -> Int { b >= a ? b : a }
@inline(__always) func kmax(_ a: Float, _ b: Float) -> Float { b >= a ? b : a }

extension SIMD16 where Scalar == Float {
    /// self + x·w. With ACNET_ISA_FMA (the AVX2, AVX-512 and aarch64 builds) one fused
    /// multiply-add per lane; in the x86_64 baseline build a separate multiply and add, because
    /// without an FMA instruction the compiler lowers `addingProduct` to a libm `fmaf` call
    /// per lane (~0.8 GFLOP/s). The two round differently (one rounding vs two).
    @inline(__always) func madd(_ x: Float, _ w: V16) -> V16 {
        #if ACNET_ISA_FMA
        addingProduct(x, w)
        #else
        self + x * w
        #endif
    }

    /// self + x·w lane by lane (see the scalar-broadcast overload).
    @inline(__always) func madd(_ x: V16, _ w: V16) -> V16 {
        #if ACNET_ISA_FMA
        addingProduct(x, w)
        #else
        self + x * w
        #endif
    }
}

/// Loads 16 floats from a 64-byte-aligned address. Every block the kernels touch is aligned:
/// constants start on 64-byte boundaries and hold whole 16-float blocks, arena offsets are
/// multiples of 64, and blocked activations advance in whole blocks. (The generic
/// `loadUnaligned(as:)` was measured not to inline here: an out-of-line call per weight load.)
@inline(__always) func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).assumingMemoryBound(to: V16.self).pointee
}

/// Stores 16 floats to a 64-byte-aligned address (see `load16`).
@inline(__always) func store16(_ p: UnsafeMutablePointer<Float>, _ v: V16) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: V16.self).pointee = v
}

/// Loads 16 floats from any float-aligned address (caller buffers: the model input). A fixed
/// 64-byte copy, which LLVM lowers to unaligned vector loads.
@inline(__always) func loadUnaligned16(_ p: UnsafePointer<Float>) -> V16 {
    var v = V16()
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: 64) }
    return v
}

/// Stores 16 floats to any float-aligned address (caller buffers: the model output).
@inline(__always) func storeUnaligned16(_ p: UnsafeMutablePointer<Float>, _ v: V16) {
    withUnsafeBytes(of: v) { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: 64) }
}

/// Scratch for `transpose16x16`: 32 vectors (two 16 × 16 matrices) on the stack.
struct TransposeTile {
    typealias Rows = (V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16)
    private var a: Rows
    private var b: Rows

    init() {
        let z = V16()
        a = (z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z)
        b = a
    }

    /// Calls `body` with the 16 rows of the matrix (row i at `rows[i]`) and its transpose
    /// function: fill the rows, call `transpose()`, read the rows back.
    @inline(__always) mutating func withRows<R>(_ body: (UnsafeMutablePointer<V16>, () -> Void) -> R) -> R {
        withUnsafeMutablePointer(to: &self) { t in
            let m = UnsafeMutableRawPointer(t).assumingMemoryBound(to: V16.self)
            return body(m) { transpose16x16(m, via: m + 16) }
        }
    }
}

/// (a₀, b₀, a₁, b₁, …, a₇, b₇): the interleaved low halves (one two-source shuffle).
@inline(__always) func zipLow(_ a: V16, _ b: V16) -> V16 {
    V16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// (a₈, b₈, …, a₁₅, b₁₅): the interleaved high halves.
@inline(__always) func zipHigh(_ a: V16, _ b: V16) -> V16 {
    V16(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
}

/// Transposes the 16 × 16 matrix whose rows are `m[0..<16]`, in place (`via`: 16 vectors of
/// scratch). One round maps rows (r[i], r[i+8]) to (zipLow, zipHigh) at rows 2i, 2i+1, which
/// moves element (row i, column j) so that the 8 bits (i, j) rotate left by one; four rounds
/// rotate by four, i.e. swap i and j. 64 shuffles per 256 elements.
@inline(__always) func transpose16x16(_ m: UnsafeMutablePointer<V16>, via t: UnsafeMutablePointer<V16>) {
    @inline(__always) func round(_ from: UnsafeMutablePointer<V16>, _ to: UnsafeMutablePointer<V16>) {
        for i in 0..<8 {
            let lo = from[i], hi = from[i + 8]
            to[2 * i] = zipLow(lo, hi)
            to[2 * i + 1] = zipHigh(lo, hi)
        }
    }
    round(m, t)
    round(t, m)
    round(m, t)
    round(t, m)
}

@inline(__always) func activate(_ v: V16, _ a: Activation) -> V16 {
    switch a {
    case .none: return v
    case .relu: return v.replacing(with: 0, where: v .< 0)
    case .relu6:
        let r = v.replacing(with: 0, where: v .< 0)
        return r.replacing(with: 6, where: r .> 6)
    }
}

@inline(__always) func activate(_ v: Float, _ a: Activation) -> Float {
    switch a {
    case .none: return v
    case .relu: return v < 0 ? 0 : v
    case .relu6: return v < 0 ? 0 : (v > 6 ? 6 : v)
    }
}

/// Address arithmetic of an activation in either layout: channel `c`'s element at pixel `p`
/// (p = y·W + x) is at `channelBase(c) + p · pixelStride`.
struct ActivationAddressing {
    let base: UnsafePointer<Float>
    let planeElements: Int  // H·W
    let blocked: Bool

    @inline(__always) var pixelStride: Int { blocked ? 16 : 1 }

    @inline(__always) func channelBase(_ c: Int) -> UnsafePointer<Float> {
        blocked ? base + (c >> 4) * planeElements * 16 + (c & 15) : base + c * planeElements
    }
}
