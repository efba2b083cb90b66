// The register-tiled loops of ACTraining's direct convolution (see ACTraining's
// Core/DirectConv.swift for the layout and the three passes that call them). Built on x86_64
// with -target-cpu skylake-avx512 (one 16-float vector per ZMM register, 2 FMA ports) and
// called only when the CPU and OS support that ISA (`acnet_support_cpu_features`); elsewhere
// ACTraining keeps its im2col + OpenBLAS path. Like the runtime's ISA modules it calls no
// standard-library generic that is not inlined, so it emits no symbol another module could
// also emit (scripts/check_isa.sh's rule).

typealias V16 = SIMD16<Float>

/// Loads 16 floats (any 4-byte alignment: AVX-512 loads and FMA memory operands do not fault
/// on misalignment). `loadUnaligned` is not always inlined; this is (see ACRuntime's kernels).
@inline(__always) private func vld(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).assumingMemoryBound(to: V16.self).pointee
}

@inline(__always) private func vst(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: V16.self).pointee = v
}

/// Σ of the 16 lanes as a tree of halving adds.
@inline(__always) private func hsum(_ v: V16) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return (b[0] + b[2]) + (b[1] + b[3])
}

@inline(__always) private func vst3(_ a: V16, _ b: V16, _ c: V16, _ p: UnsafeMutablePointer<Float>) {
    vst(a, p); vst(b, p + 16); vst(c, p + 32)
}

@inline(__always) private func fma3(_ a: inout V16, _ b: inout V16, _ c: inout V16,
                                    _ x0: V16, _ x1: V16, _ x2: V16, _ w: Float) {
    a = a.addingProduct(x0, w)
    b = b.addingProduct(x1, w)
    c = c.addingProduct(x2, w)
}

/// out[i·ld + q] = Σ_{s<S} w[s·8 + i] · base[offs[s] + q] for i < 8 and q < 16·nv: 8 rows ×
/// 3 vectors (24 accumulators) per tile, single vectors for the remainder.
@inline(never)
public func directTiles(_ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int, _ w: UnsafePointer<Float>,
                 _ out: UnsafeMutablePointer<Float>, _ ld: Int, nv: Int) {
    var v = 0
    while v &+ 3 <= nv {
        let q = v &* 16
        var a0 = V16(), a1 = V16(), a2 = V16(), b0 = V16(), b1 = V16(), b2 = V16()
        var c0 = V16(), c1 = V16(), c2 = V16(), d0 = V16(), d1 = V16(), d2 = V16()
        var e0 = V16(), e1 = V16(), e2 = V16(), f0 = V16(), f1 = V16(), f2 = V16()
        var g0 = V16(), g1 = V16(), g2 = V16(), h0 = V16(), h1 = V16(), h2 = V16()
        var s = 0
        while s < S {
            let p = base + (offs[s] &+ q)
            let x0 = vld(p), x1 = vld(p + 16), x2 = vld(p + 32)
            let ws = w + (s &* 8)
            fma3(&a0, &a1, &a2, x0, x1, x2, ws[0])
            fma3(&b0, &b1, &b2, x0, x1, x2, ws[1])
            fma3(&c0, &c1, &c2, x0, x1, x2, ws[2])
            fma3(&d0, &d1, &d2, x0, x1, x2, ws[3])
            fma3(&e0, &e1, &e2, x0, x1, x2, ws[4])
            fma3(&f0, &f1, &f2, x0, x1, x2, ws[5])
            fma3(&g0, &g1, &g2, x0, x1, x2, ws[6])
            fma3(&h0, &h1, &h2, x0, x1, x2, ws[7])
            s &+= 1
        }
        let o = out + q
        vst3(a0, a1, a2, o); vst3(b0, b1, b2, o + ld); vst3(c0, c1, c2, o + 2 &* ld)
        vst3(d0, d1, d2, o + 3 &* ld); vst3(e0, e1, e2, o + 4 &* ld); vst3(f0, f1, f2, o + 5 &* ld)
        vst3(g0, g1, g2, o + 6 &* ld); vst3(h0, h1, h2, o + 7 &* ld)
        v &+= 3
    }
    while v < nv {
        let q = v &* 16
        var a = V16(), b = V16(), c = V16(), d = V16(), e = V16(), f = V16(), g = V16(), h = V16()
        var s = 0
        while s < S {
            let x0 = vld(base + (offs[s] &+ q))
            let ws = w + (s &* 8)
            a = a.addingProduct(x0, ws[0]); b = b.addingProduct(x0, ws[1])
            c = c.addingProduct(x0, ws[2]); d = d.addingProduct(x0, ws[3])
            e = e.addingProduct(x0, ws[4]); f = f.addingProduct(x0, ws[5])
            g = g.addingProduct(x0, ws[6]); h = h.addingProduct(x0, ws[7])
            s &+= 1
        }
        let o = out + q
        vst(a, o); vst(b, o + ld); vst(c, o + 2 &* ld); vst(d, o + 3 &* ld)
        vst(e, o + 4 &* ld); vst(f, o + 5 &* ld); vst(g, o + 6 &* ld); vst(h, o + 7 &* ld)
        v &+= 1
    }
}

@inline(__always) private func fma6(_ a: inout (V16, V16, V16, V16, V16, V16), _ d: V16,
                                    _ x: (V16, V16, V16, V16, V16, V16)) {
    a.0 = a.0.addingProduct(d, x.0); a.1 = a.1.addingProduct(d, x.1); a.2 = a.2.addingProduct(d, x.2)
    a.3 = a.3.addingProduct(d, x.3); a.4 = a.4.addingProduct(d, x.4); a.5 = a.5.addingProduct(d, x.5)
}

/// sums[i·6 + j] = Σ_images Σ_{q < 16·nv} z[img·zImage + zo_i + q] · x[img·xImage + xo_j + q]
/// for 4 dZ rows × 6 input sources (24 vector accumulators, reduced once at the end).
@inline(never)
public func directWeightTile(_ z: UnsafePointer<Float>, _ zo: (Int, Int, Int, Int), _ x: UnsafePointer<Float>,
                      _ xo: (Int, Int, Int, Int, Int, Int), nv: Int, images: Int, zImage: Int, xImage: Int,
                      _ sums: UnsafeMutablePointer<Float>) {
    let zero = V16()
    var r0 = (zero, zero, zero, zero, zero, zero), r1 = r0, r2 = r0, r3 = r0
    var img = 0
    while img < images {
        let zb = z + img &* zImage, xb = x + img &* xImage
        let z0 = zb + zo.0, z1 = zb + zo.1, z2 = zb + zo.2, z3 = zb + zo.3
        let x0 = xb + xo.0, x1 = xb + xo.1, x2 = xb + xo.2, x3 = xb + xo.3, x4 = xb + xo.4, x5 = xb + xo.5
        var q = 0
        let end = nv &* 16
        while q < end {
            let xv = (vld(x0 + q), vld(x1 + q), vld(x2 + q), vld(x3 + q), vld(x4 + q), vld(x5 + q))
            fma6(&r0, vld(z0 + q), xv)
            fma6(&r1, vld(z1 + q), xv)
            fma6(&r2, vld(z2 + q), xv)
            fma6(&r3, vld(z3 + q), xv)
            q &+= 16
        }
        img &+= 1
    }
    @inline(__always) func put(_ r: (V16, V16, V16, V16, V16, V16), _ d: UnsafeMutablePointer<Float>) {
        d[0] = hsum(r.0); d[1] = hsum(r.1); d[2] = hsum(r.2); d[3] = hsum(r.3); d[4] = hsum(r.4); d[5] = hsum(r.5)
    }
    put(r0, sums); put(r1, sums + 6); put(r2, sums + 12); put(r3, sums + 18)
}
