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

@inline(__always) private func vst3(_ a: V16, _ b: V16, _ c: V16, _ p: UnsafeMutablePointer<Float>) {
    vst(a, p)
    vst(b, p + 16)
    vst(c, p + 32)
}

@inline(__always) private func fma3(
    _ a: inout V16, _ b: inout V16, _ c: inout V16,
    _ x0: V16, _ x1: V16, _ x2: V16, _ w: Float
) {
    a = a.addingProduct(x0, w)
    b = b.addingProduct(x1, w)
    c = c.addingProduct(x2, w)
}

#if !ACNET_ISA_AVX2
/// out[i·ld + q] = Σ_{s<S} w[s·8 + i] · base[offs[s] + q] for i < 8 and q < 16·nv: 8 rows ×
/// 3 vectors (24 accumulators) per tile, single vectors for the remainder.
@inline(never)
public func directTiles(
    _ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int, _ w: UnsafePointer<Float>,
    _ out: UnsafeMutablePointer<Float>, _ ld: Int, nv: Int
) {
    var v = 0
    while v &+ 3 <= nv {
        let q = v &* 16
        var a0 = V16()
        var a1 = V16()
        var a2 = V16()
        var b0 = V16()
        var b1 = V16()
        var b2 = V16()
        var c0 = V16()
        var c1 = V16()
        var c2 = V16()
        var d0 = V16()
        var d1 = V16()
        var d2 = V16()
        var e0 = V16()
        var e1 = V16()
        var e2 = V16()
        var f0 = V16()
        var f1 = V16()
        var f2 = V16()
        var g0 = V16()
        var g1 = V16()
        var g2 = V16()
        var h0 = V16()
        var h1 = V16()
        var h2 = V16()
        var s = 0
        while s < S {
            let p = base + (offs[s] &+ q)
            let x0 = vld(p)
            let x1 = vld(p + 16)
            let x2 = vld(p + 32)
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
        vst3(a0, a1, a2, o)
        vst3(b0, b1, b2, o + ld)
        vst3(c0, c1, c2, o + 2 &* ld)
        vst3(d0, d1, d2, o + 3 &* ld)
        vst3(e0, e1, e2, o + 4 &* ld)
        vst3(f0, f1, f2, o + 5 &* ld)
        vst3(g0, g1, g2, o + 6 &* ld)
        vst3(h0, h1, h2, o + 7 &* ld)
        v &+= 3
    }
    while v < nv {
        let q = v &* 16
        var a = V16()
        var b = V16()
        var c = V16()
        var d = V16()
        var e = V16()
        var f = V16()
        var g = V16()
        var h = V16()
        var s = 0
        while s < S {
            let x0 = vld(base + (offs[s] &+ q))
            let ws = w + (s &* 8)
            a = a.addingProduct(x0, ws[0])
            b = b.addingProduct(x0, ws[1])
            c = c.addingProduct(x0, ws[2])
            d = d.addingProduct(x0, ws[3])
            e = e.addingProduct(x0, ws[4])
            f = f.addingProduct(x0, ws[5])
            g = g.addingProduct(x0, ws[6])
            h = h.addingProduct(x0, ws[7])
            s &+= 1
        }
        let o = out + q
        vst(a, o)
        vst(b, o + ld)
        vst(c, o + 2 &* ld)
        vst(d, o + 3 &* ld)
        vst(e, o + 4 &* ld)
        vst(f, o + 5 &* ld)
        vst(g, o + 6 &* ld)
        vst(h, o + 7 &* ld)
        v &+= 1
    }
}
#endif

// MARK: - Weight gradient with output channels in the lanes

#if !ACNET_ISA_AVX2
/// dst[p·ldd + o] = src[o·lds + p] for p < n and o < 16·⌈rows/16⌉, with zeros for o ≥ rows
/// (channel-major rows → pixel-major, lanes padded to whole vectors). ldd ≥ 16·⌈rows/16⌉.
@inline(never)
public func transposeToPixelMajor(
    _ src: UnsafePointer<Float>, _ lds: Int, rows: Int, _ n: Int,
    _ dst: UnsafeMutablePointer<Float>, _ ldd: Int
) {
    var o0 = 0
    while o0 < rows {
        let count = min(16, rows &- o0)
        let s = src + o0 &* lds
        let d = dst + o0
        @inline(__always) func r(_ k: Int, _ p: Int) -> V16 { k < count ? vld(s + (k &* lds &+ p)) : V16() }
        var p = 0
        while p &+ 16 <= n {
            let t = transposed(
                (
                    r(0, p), r(1, p), r(2, p), r(3, p), r(4, p), r(5, p), r(6, p), r(7, p),
                    r(8, p), r(9, p), r(10, p), r(11, p), r(12, p), r(13, p), r(14, p), r(15, p)
                ))
            let q = d + p &* ldd
            vst(t.0, q)
            vst(t.1, q + ldd)
            vst(t.2, q + 2 &* ldd)
            vst(t.3, q + 3 &* ldd)
            vst(t.4, q + 4 &* ldd)
            vst(t.5, q + 5 &* ldd)
            vst(t.6, q + 6 &* ldd)
            vst(t.7, q + 7 &* ldd)
            vst(t.8, q + 8 &* ldd)
            vst(t.9, q + 9 &* ldd)
            vst(t.10, q + 10 &* ldd)
            vst(t.11, q + 11 &* ldd)
            vst(t.12, q + 12 &* ldd)
            vst(t.13, q + 13 &* ldd)
            vst(t.14, q + 14 &* ldd)
            vst(t.15, q + 15 &* ldd)
            p &+= 16
        }
        while p < n {
            var v = V16()
            var k = 0
            while k < count {
                v[k] = s[k &* lds &+ p]
                k &+= 1
            }
            vst(v, d + p &* ldd)
            p &+= 1
        }
        o0 &+= 16
    }
}
#endif

#if !ACNET_ISA_AVX2
@inline(__always) private func fma2(_ a: inout V16, _ b: inout V16, _ d0: V16, _ d1: V16, _ s: Float) {
    a = a.addingProduct(d0, s)
    b = b.addingProduct(d1, s)
}

/// Weight-gradient tile with 32 output channels in the lanes and 12 input sources:
///   acc[k·lda + v·16 + l] += Σ_img Σ_{i<H, j<W} dz[img·zImage + (i·W + j)·ldz + v·16 + l]
///                                              · x[img·xImage + xo[k] + i·Wp + j]
/// for k < 12, v < 2 (dz pixel-major, see `transposeToPixelMajor`; x in padded planes). Only
/// the H·W interior pixels are visited; every x value is a broadcast scalar, so no load splits
/// a cache line, and the accumulators stay vectors (no horizontal sums).
@inline(never)
public func directWeightTileT2(
    _ dz: UnsafePointer<Float>, ldz: Int, _ x: UnsafePointer<Float>, _ xo: UnsafePointer<Int>,
    H: Int, W: Int, Wp: Int, images: Int, zImage: Int, xImage: Int,
    _ acc: UnsafeMutablePointer<Float>, lda: Int
) {
    var a0 = vld(acc)
    var b0 = vld(acc + 16)
    var a1 = vld(acc + lda)
    var b1 = vld(acc + (lda &+ 16))
    var a2 = vld(acc + 2 &* lda)
    var b2 = vld(acc + (2 &* lda &+ 16))
    var a3 = vld(acc + 3 &* lda)
    var b3 = vld(acc + (3 &* lda &+ 16))
    var a4 = vld(acc + 4 &* lda)
    var b4 = vld(acc + (4 &* lda &+ 16))
    var a5 = vld(acc + 5 &* lda)
    var b5 = vld(acc + (5 &* lda &+ 16))
    var a6 = vld(acc + 6 &* lda)
    var b6 = vld(acc + (6 &* lda &+ 16))
    var a7 = vld(acc + 7 &* lda)
    var b7 = vld(acc + (7 &* lda &+ 16))
    var a8 = vld(acc + 8 &* lda)
    var b8 = vld(acc + (8 &* lda &+ 16))
    var a9 = vld(acc + 9 &* lda)
    var b9 = vld(acc + (9 &* lda &+ 16))
    var a10 = vld(acc + 10 &* lda)
    var b10 = vld(acc + (10 &* lda &+ 16))
    var a11 = vld(acc + 11 &* lda)
    var b11 = vld(acc + (11 &* lda &+ 16))
    var img = 0
    while img < images {
        var i = 0
        while i < H {
            var zp = dz + (img &* zImage &+ i &* W &* ldz)
            let xr = x + (img &* xImage &+ i &* Wp)
            let p0 = xr + xo[0]
            let p1 = xr + xo[1]
            let p2 = xr + xo[2]
            let p3 = xr + xo[3]
            let p4 = xr + xo[4]
            let p5 = xr + xo[5]
            let p6 = xr + xo[6]
            let p7 = xr + xo[7]
            let p8 = xr + xo[8]
            let p9 = xr + xo[9]
            let p10 = xr + xo[10]
            let p11 = xr + xo[11]
            var j = 0
            while j < W {
                let d0 = vld(zp)
                let d1 = vld(zp + 16)
                fma2(&a0, &b0, d0, d1, p0[j])
                fma2(&a1, &b1, d0, d1, p1[j])
                fma2(&a2, &b2, d0, d1, p2[j])
                fma2(&a3, &b3, d0, d1, p3[j])
                fma2(&a4, &b4, d0, d1, p4[j])
                fma2(&a5, &b5, d0, d1, p5[j])
                fma2(&a6, &b6, d0, d1, p6[j])
                fma2(&a7, &b7, d0, d1, p7[j])
                fma2(&a8, &b8, d0, d1, p8[j])
                fma2(&a9, &b9, d0, d1, p9[j])
                fma2(&a10, &b10, d0, d1, p10[j])
                fma2(&a11, &b11, d0, d1, p11[j])
                zp += ldz
                j &+= 1
            }
            i &+= 1
        }
        img &+= 1
    }
    vst(a0, acc)
    vst(b0, acc + 16)
    vst(a1, acc + lda)
    vst(b1, acc + (lda &+ 16))
    vst(a2, acc + 2 &* lda)
    vst(b2, acc + (2 &* lda &+ 16))
    vst(a3, acc + 3 &* lda)
    vst(b3, acc + (3 &* lda &+ 16))
    vst(a4, acc + 4 &* lda)
    vst(b4, acc + (4 &* lda &+ 16))
    vst(a5, acc + 5 &* lda)
    vst(b5, acc + (5 &* lda &+ 16))
    vst(a6, acc + 6 &* lda)
    vst(b6, acc + (6 &* lda &+ 16))
    vst(a7, acc + 7 &* lda)
    vst(b7, acc + (7 &* lda &+ 16))
    vst(a8, acc + 8 &* lda)
    vst(b8, acc + (8 &* lda &+ 16))
    vst(a9, acc + 9 &* lda)
    vst(b9, acc + (9 &* lda &+ 16))
    vst(a10, acc + 10 &* lda)
    vst(b10, acc + (10 &* lda &+ 16))
    vst(a11, acc + 11 &* lda)
    vst(b11, acc + (11 &* lda &+ 16))
}

/// `directWeightTileT2` for a single vector of 16 output channels (the last block when the
/// channel count is an odd number of vectors).
@inline(never)
public func directWeightTileT1(
    _ dz: UnsafePointer<Float>, ldz: Int, _ x: UnsafePointer<Float>, _ xo: UnsafePointer<Int>,
    H: Int, W: Int, Wp: Int, images: Int, zImage: Int, xImage: Int,
    _ acc: UnsafeMutablePointer<Float>, lda: Int
) {
    var a0 = vld(acc)
    var a1 = vld(acc + lda)
    var a2 = vld(acc + 2 &* lda)
    var a3 = vld(acc + 3 &* lda)
    var a4 = vld(acc + 4 &* lda)
    var a5 = vld(acc + 5 &* lda)
    var a6 = vld(acc + 6 &* lda)
    var a7 = vld(acc + 7 &* lda)
    var a8 = vld(acc + 8 &* lda)
    var a9 = vld(acc + 9 &* lda)
    var a10 = vld(acc + 10 &* lda)
    var a11 = vld(acc + 11 &* lda)
    var img = 0
    while img < images {
        var i = 0
        while i < H {
            var zp = dz + (img &* zImage &+ i &* W &* ldz)
            let xr = x + (img &* xImage &+ i &* Wp)
            let p0 = xr + xo[0]
            let p1 = xr + xo[1]
            let p2 = xr + xo[2]
            let p3 = xr + xo[3]
            let p4 = xr + xo[4]
            let p5 = xr + xo[5]
            let p6 = xr + xo[6]
            let p7 = xr + xo[7]
            let p8 = xr + xo[8]
            let p9 = xr + xo[9]
            let p10 = xr + xo[10]
            let p11 = xr + xo[11]
            var j = 0
            while j < W {
                let d = vld(zp)
                a0 = a0.addingProduct(d, p0[j])
                a1 = a1.addingProduct(d, p1[j])
                a2 = a2.addingProduct(d, p2[j])
                a3 = a3.addingProduct(d, p3[j])
                a4 = a4.addingProduct(d, p4[j])
                a5 = a5.addingProduct(d, p5[j])
                a6 = a6.addingProduct(d, p6[j])
                a7 = a7.addingProduct(d, p7[j])
                a8 = a8.addingProduct(d, p8[j])
                a9 = a9.addingProduct(d, p9[j])
                a10 = a10.addingProduct(d, p10[j])
                a11 = a11.addingProduct(d, p11[j])
                zp += ldz
                j &+= 1
            }
            i &+= 1
        }
        img &+= 1
    }
    vst(a0, acc)
    vst(a1, acc + lda)
    vst(a2, acc + 2 &* lda)
    vst(a3, acc + 3 &* lda)
    vst(a4, acc + 4 &* lda)
    vst(a5, acc + 5 &* lda)
    vst(a6, acc + 6 &* lda)
    vst(a7, acc + 7 &* lda)
    vst(a8, acc + 8 &* lda)
    vst(a9, acc + 9 &* lda)
    vst(a10, acc + 10 &* lda)
    vst(a11, acc + 11 &* lda)
}
#endif

// MARK: - Row copies between the compact and the padded layouts

@inline(__always) private func copyRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n {
        vst(vld(s + i), d + i)
        i &+= 16
    }
    if i &+ 8 <= n {
        UnsafeMutableRawPointer(d + i).storeBytes(
            of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD8<Float>.self),
            as: SIMD8<Float>.self)
        i &+= 8
    }
    if i &+ 4 <= n {
        UnsafeMutableRawPointer(d + i).storeBytes(
            of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self),
            as: SIMD4<Float>.self)
        i &+= 4
    }
    while i < n {
        d[i] = s[i]
        i &+= 1
    }
}

/// For each of `planes` planes: rows × width floats from `src` (row pitch sp, plane pitch sPlane)
/// to `dst` (row pitch dp, plane pitch dPlane): compact ↔ padded-plane copies of the direct
/// convolution, 16/8/4-wide steps.
@inline(never)
public func copyPlaneRows(
    _ src: UnsafePointer<Float>, sp: Int, sPlane: Int, _ dst: UnsafeMutablePointer<Float>,
    dp: Int, dPlane: Int, planes: Int, rows: Int, width: Int
) {
    var c = 0
    while c < planes {
        let s = src + c &* sPlane
        let d = dst + c &* dPlane
        var i = 0
        while i < rows {
            copyRow(s + i &* sp, d + i &* dp, width)
            i &+= 1
        }
        c &+= 1
    }
}

// MARK: - Max pooling, 2x2 / 3x3 windows with stride 2

/// Max pooling of planes [p0, p1) of `x` (h × w planes, `end` = end of x) with k × k windows
/// (k = 2 or 3), stride 2, no padding, every window inside the plane: y[plane·oh·ow + i·ow + j]
/// is the first maximum (strict >, starting from −∞, row-major window order) of window (i, j),
/// and with `argmax` its index in x. 8 windows per step; the lanes read up to 2j + 17 of a
/// window row (unused lanes may run into the next row, never past `end`).
@inline(never)
public func maxPoolStride2(
    _ x: UnsafePointer<Float>, planes p0: Int, _ p1: Int, h: Int, w: Int, k: Int, oh: Int, ow: Int,
    _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>?,
    end: UnsafePointer<Float>
) {
    let ninf = SIMD8<Float>(repeating: -.infinity)
    let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    var plane = p0
    while plane < p1 {
        let src = x + plane &* h &* w
        let planeBase = Int32(truncatingIfNeeded: plane &* h &* w)
        var o = plane &* oh &* ow
        var i = 0
        while i < oh {
            let r0 = src + 2 &* i &* w
            var j = 0
            while j &+ 8 <= ow && r0 + ((k &- 1) &* w &+ 2 &* j &+ 18) <= end {
                var best = ninf
                var off = SIMD8<Int32>(repeating: 0)
                var a = 0
                while a < k {
                    let ra = r0 + (a &* w &+ 2 &* j)
                    let u = vld(ra)
                    let cand0 = u.evenHalf
                    let cand1 = u.oddHalf
                    var m = cand0 .> best
                    best.replace(with: cand0, where: m)
                    off.replace(with: Int32(truncatingIfNeeded: a &* w), where: m)
                    m = cand1 .> best
                    best.replace(with: cand1, where: m)
                    off.replace(with: Int32(truncatingIfNeeded: a &* w &+ 1), where: m)
                    if k == 3 {
                        let cand2 = vld(ra + 2).evenHalf
                        m = cand2 .> best
                        best.replace(with: cand2, where: m)
                        off.replace(with: Int32(truncatingIfNeeded: a &* w &+ 2), where: m)
                    }
                    a &+= 1
                }
                UnsafeMutableRawPointer(y + o).storeBytes(of: best, as: SIMD8<Float>.self)
                if let argmax {
                    let base =
                        lanes &+ SIMD8<Int32>(repeating: planeBase &+ Int32(truncatingIfNeeded: 2 &* i &* w &+ 2 &* j))
                    UnsafeMutableRawPointer(argmax + o).storeBytes(of: base &+ off, as: SIMD8<Int32>.self)
                }
                o &+= 8
                j &+= 8
            }
            while j < ow {
                let i0 = 2 &* i &* w &+ 2 &* j
                var best = -Float.infinity
                var bi = i0
                var a = 0
                while a < k {
                    var b = 0
                    while b < k {
                        let v = src[i0 &+ a &* w &+ b]
                        if v > best {
                            best = v
                            bi = i0 &+ a &* w &+ b
                        }
                        b &+= 1
                    }
                    a &+= 1
                }
                y[o] = best
                if let argmax { argmax[o] = planeBase &+ Int32(truncatingIfNeeded: bi) }
                o &+= 1
                j &+= 1
            }
            i &+= 1
        }
        plane &+= 1
    }
}
