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

/// Rows k < `count` of a 16 × 16 matrix: `row(k)`; rows k ≥ count are zero.
@inline(__always) func rows16(count: Int, _ row: (Int) -> V16) -> V16x16 {
    @inline(__always) func r(_ k: Int) -> V16 { k < count ? row(k) : V16() }
    return (r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7), r(8), r(9), r(10), r(11), r(12), r(13), r(14), r(15))
}

/// Calls `body(k, row k)` for the rows k < `count` of `m`, in order.
@inline(__always) func forEachRow(_ m: V16x16, count: Int, _ body: (Int, V16) -> Void) {
    body(0, m.0)
    if count > 1 { body(1, m.1) }
    if count > 2 { body(2, m.2) }
    if count > 3 { body(3, m.3) }
    if count > 4 { body(4, m.4) }
    if count > 5 { body(5, m.5) }
    if count > 6 { body(6, m.6) }
    if count > 7 { body(7, m.7) }
    if count > 8 { body(8, m.8) }
    if count > 9 { body(9, m.9) }
    if count > 10 { body(10, m.10) }
    if count > 11 { body(11, m.11) }
    if count > 12 { body(12, m.12) }
    if count > 13 { body(13, m.13) }
    if count > 14 { body(14, m.14) }
    if count > 15 { body(15, m.15) }
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
