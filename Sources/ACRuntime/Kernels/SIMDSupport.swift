/// Vector helpers for the kernels. `V16` is one block of 16 lanes (one AVX-512 register, two
/// AVX2 registers, four NEON registers).
typealias V16 = SIMD16<Float>

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) func store16(_ p: UnsafeMutablePointer<Float>, _ v: V16) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
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
