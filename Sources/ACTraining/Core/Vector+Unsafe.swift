// SIMD helpers for the elementwise and reduction loops of ACTraining.
//
// Swift does not reorder float additions, so a plain `s += p[i]` loop runs one dependent add
// per element; these helpers keep 16-wide partial sums (SIMD16<Float>), which changes the
// summation order (results differ from a sequential sum in the last bits; all reductions are
// then combined in Double by the callers where it matters).

typealias V16 = SIMD16<Float>

/// Σ of the 16 lanes, as a tree of halving adds (the generic `SIMD.sum()` is an out-of-line
/// call here).
@inline(__always) func hsum(_ v: V16) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return (b[0] + b[2]) + (b[1] + b[3])
}

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Σ p[0..<n].
@inline(__always) func vsum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = V16()
    var i = 0
    while i + 16 <= n {
        acc += load16(p + i)
        i += 16
    }
    var s = hsum(acc)
    while i < n {
        s += p[i]
        i += 1
    }
    return s
}

/// Σ (p[i] − mu)².
@inline(__always) func vsumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var acc = V16()
    var i = 0
    let m = V16(repeating: mu)
    while i + 16 <= n {
        let d = load16(p + i) - m
        acc += d * d
        i += 16
    }
    var s = hsum(acc)
    while i < n {
        let d = p[i] - mu
        s += d * d
        i += 1
    }
    return s
}

/// (Σ g[i], Σ g[i]·(p[i] − mu)).
@inline(__always) func vsumGradAndProduct(
    _ g: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ n: Int, _ mu: Float
) -> (Float, Float) {
    var a = V16()
    var b = V16()
    var i = 0
    let m = V16(repeating: mu)
    while i + 16 <= n {
        let gv = load16(g + i)
        a += gv
        b += gv * (load16(p + i) - m)
        i += 16
    }
    var sa = hsum(a)
    var sb = hsum(b)
    while i < n {
        sa += g[i]
        sb += g[i] * (p[i] - mu)
        i += 1
    }
    return (sa, sb)
}

/// q[i] = p[i]·a + b  (or q[i] += … when `accumulate`).
@inline(__always) func vaffine(
    _ p: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float,
    accumulate: Bool
) {
    let av = V16(repeating: a)
    let bv = V16(repeating: b)
    var i = 0
    if accumulate {
        while i + 16 <= n {
            store16(load16(q + i) + load16(p + i) * av + bv, q + i)
            i += 16
        }
        while i < n {
            q[i] += p[i] * a + b
            i += 1
        }
    } else {
        while i + 16 <= n {
            store16(load16(p + i) * av + bv, q + i)
            i += 16
        }
        while i < n {
            q[i] = p[i] * a + b
            i += 1
        }
    }
}

/// d[i] = k·(g[i] − c1 − (p[i] − mu)·c2)   (BatchNorm backward; d may alias p or g).
@inline(__always) func vbatchNormInputGrad(
    _ g: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
    k: Float, c1: Float, mu: Float, c2: Float
) {
    let kv = V16(repeating: k)
    let c1v = V16(repeating: c1)
    let mv = V16(repeating: mu)
    let c2v = V16(repeating: c2)
    var i = 0
    while i + 16 <= n {
        store16(kv * (load16(g + i) - c1v - (load16(p + i) - mv) * c2v), d + i)
        i += 16
    }
    while i < n {
        d[i] = k * (g[i] - c1 - (p[i] - mu) * c2)
        i += 1
    }
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always) func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// d[i] += s[i]. Short runs (im2col rows of 7–32 floats) take 8- and 4-wide steps before the
/// scalar tail; elementwise, so the result does not depend on the step widths.
@inline(__always) func vadd(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
        store16(load16(d + i) + load16(s + i), d + i)
        i += 16
    }
    if i + 8 <= n {
        store8(load8(d + i) + load8(s + i), d + i)
        i += 8
    }
    if i + 4 <= n {
        store4(load4(d + i) + load4(s + i), d + i)
        i += 4
    }
    while i < n {
        d[i] += s[i]
        i += 1
    }
}

/// d[i] = max(s[i], 0)  (NaN → 0).
@inline(__always) func vrelu(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let z = V16()
    while i + 16 <= n {
        let v = load16(s + i)
        store16(v.replacing(with: z, where: .!(v .> z)), d + i)
        i += 16
    }
    while i < n {
        d[i] = s[i] > 0 ? s[i] : 0
        i += 1
    }
}

/// d[i] = y[i] > 0 ? g[i] : 0.
@inline(__always) func vreluGrad(
    _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int
) {
    var i = 0
    let z = V16()
    while i + 16 <= n {
        let v = load16(y + i)
        store16(load16(g + i).replacing(with: z, where: .!(v .> z)), d + i)
        i += 16
    }
    while i < n {
        d[i] = y[i] > 0 ? g[i] : 0
        i += 1
    }
}

/// (Σ (p[i] − shift), Σ (p[i] − shift)²) — shifted one-pass moments (shift ≈ mean keeps the
/// E[x²] − E[x]² cancellation harmless).
@inline(__always) func vshiftedMoments(_ p: UnsafePointer<Float>, _ n: Int, _ shift: Float) -> (Float, Float) {
    var a = V16()
    var b = V16()
    var i = 0
    let s = V16(repeating: shift)
    while i + 16 <= n {
        let d = load16(p + i) - s
        a += d
        b += d * d
        i += 16
    }
    var sa = hsum(a)
    var sb = hsum(b)
    while i < n {
        let d = p[i] - shift
        sa += d
        sb += d * d
        i += 1
    }
    return (sa, sb)
}

/// With dy = (p[i]·a + b > 0 ? g[i] : 0), the ReLU mask recomputed from the pre-BN value p
/// exactly as `channelAffineReLU` computes the output (multiply, then add; NaN → masked):
/// (Σ dy, Σ dy·(p[i] − mu)) — BatchNorm backward statistics behind a ReLU, reading g and p only.
@inline(__always) func vmaskedGradAndProduct(
    _ g: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ n: Int, a: Float, b: Float, mu: Float
) -> (Float, Float) {
    var sa = V16()
    var sb = V16()
    var i = 0
    let m = V16(repeating: mu)
    let z = V16()
    let av = V16(repeating: a)
    let bv = V16(repeating: b)
    while i + 16 <= n {
        let pv = load16(p + i)
        let gv = load16(g + i).replacing(with: z, where: .!(pv * av + bv .> z))
        sa += gv
        sb += gv * (pv - m)
        i += 16
    }
    var ra = hsum(sa)
    var rb = hsum(sb)
    while i < n {
        let gv: Float = p[i] * a + b > 0 ? g[i] : 0
        ra += gv
        rb += gv * (p[i] - mu)
        i += 1
    }
    return (ra, rb)
}

/// d[i] = k·(dy − c1 − (p[i] − mu)·c2) with dy = (p[i]·a + b > 0 ? g[i] : 0) (the mask as in
/// `vmaskedGradAndProduct`): `vbatchNormInputGrad` of the ReLU-masked gradient (d may alias p).
@inline(__always) func vmaskedBatchNormInputGrad(
    _ g: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
    a: Float, b: Float, k: Float, c1: Float, mu: Float, c2: Float
) {
    let kv = V16(repeating: k)
    let c1v = V16(repeating: c1)
    let mv = V16(repeating: mu)
    let c2v = V16(repeating: c2)
    let z = V16()
    let av = V16(repeating: a)
    let bv = V16(repeating: b)
    var i = 0
    while i + 16 <= n {
        let pv = load16(p + i)
        let gv = load16(g + i).replacing(with: z, where: .!(pv * av + bv .> z))
        store16(kv * (gv - c1v - (pv - mv) * c2v), d + i)
        i += 16
    }
    while i < n {
        let gv: Float = p[i] * a + b > 0 ? g[i] : 0
        d[i] = k * (gv - c1 - (p[i] - mu) * c2)
        i += 1
    }
}
