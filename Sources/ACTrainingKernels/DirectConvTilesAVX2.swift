// The direct-convolution tile loops of DirectConvKernels.swift, sized for AVX2's 16 ymm
// registers (8 floats each; compiled into ACTrainingKernelsAVX2 with -target-cpu haswell, FMA).
// Same contracts and data layouts as the AVX-512 tiles (16-float row granularity, 8-row weight
// blocks, 32/16-channel weight-gradient tiles with 12 sources), so ACTraining drives both with
// one code path; only the register blocking differs:
//
//   forward / input gradient: 4 rows × 3 ymm = 12 accumulators + 3 loaded input vectors + 1
//     broadcast weight = 16 registers (per source: 3 loads + 4 broadcasts for 12 FMAs). An
//     8-row weight block is two 4-row passes over the same 24-float strip, back to back, so the
//     second pass reads its inputs from L1. (6 rows × 2 ymm also fits — 12 + 2 + 1 — but needs
//     8 loads per 12 FMAs and does not divide the 8-row block.)
//   weight gradient: 16 output channels (2 ymm) × 6 sources = 12 accumulators + 2 dZ vectors +
//     1 broadcast x value = 15 registers (per pixel: 2 loads + 6 broadcasts for 12 FMAs); a
//     32-channel × 12-source tile is four such sub-tiles.
//
// Compiled only with ACNET_ISA_AVX2 (elsewhere this file is empty).

#if ACNET_ISA_AVX2
typealias V8 = SIMD8<Float>

@inline(__always) private func vld8(_ p: UnsafePointer<Float>) -> V8 {
    UnsafeRawPointer(p).assumingMemoryBound(to: V8.self).pointee
}

@inline(__always) private func vst8(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: V8.self).pointee = v
}

/// Rows r0..r0+3 of `directTiles` for the 8-float vectors [u, u + 3): 12 accumulators.
@inline(__always) private func tile4x3(
    _ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int,
    _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ ld: Int, _ q: Int
) {
    var a0 = V8()
    var a1 = V8()
    var a2 = V8()
    var b0 = V8()
    var b1 = V8()
    var b2 = V8()
    var c0 = V8()
    var c1 = V8()
    var c2 = V8()
    var d0 = V8()
    var d1 = V8()
    var d2 = V8()
    var s = 0
    while s < S {
        let p = base + (offs[s] &+ q)
        let x0 = vld8(p)
        let x1 = vld8(p + 8)
        let x2 = vld8(p + 16)
        let ws = w + (s &* 8)
        var k = V8(repeating: ws[0])
        a0 = a0.addingProduct(x0, k)
        a1 = a1.addingProduct(x1, k)
        a2 = a2.addingProduct(x2, k)
        k = V8(repeating: ws[1])
        b0 = b0.addingProduct(x0, k)
        b1 = b1.addingProduct(x1, k)
        b2 = b2.addingProduct(x2, k)
        k = V8(repeating: ws[2])
        c0 = c0.addingProduct(x0, k)
        c1 = c1.addingProduct(x1, k)
        c2 = c2.addingProduct(x2, k)
        k = V8(repeating: ws[3])
        d0 = d0.addingProduct(x0, k)
        d1 = d1.addingProduct(x1, k)
        d2 = d2.addingProduct(x2, k)
        s &+= 1
    }
    let o = out + q
    vst8(a0, o)
    vst8(a1, o + 8)
    vst8(a2, o + 16)
    vst8(b0, o + ld)
    vst8(b1, o + (ld &+ 8))
    vst8(b2, o + (ld &+ 16))
    vst8(c0, o + 2 &* ld)
    vst8(c1, o + (2 &* ld &+ 8))
    vst8(c2, o + (2 &* ld &+ 16))
    vst8(d0, o + 3 &* ld)
    vst8(d1, o + (3 &* ld &+ 8))
    vst8(d2, o + (3 &* ld &+ 16))
}

/// The remainder of `tile4x3`: 4 rows × `n` (1 or 2) vectors.
@inline(__always) private func tile4x2(
    _ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int,
    _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ ld: Int, _ q: Int
) {
    var a0 = V8()
    var a1 = V8()
    var b0 = V8()
    var b1 = V8()
    var c0 = V8()
    var c1 = V8()
    var d0 = V8()
    var d1 = V8()
    var s = 0
    while s < S {
        let p = base + (offs[s] &+ q)
        let x0 = vld8(p)
        let x1 = vld8(p + 8)
        let ws = w + (s &* 8)
        var k = V8(repeating: ws[0])
        a0 = a0.addingProduct(x0, k)
        a1 = a1.addingProduct(x1, k)
        k = V8(repeating: ws[1])
        b0 = b0.addingProduct(x0, k)
        b1 = b1.addingProduct(x1, k)
        k = V8(repeating: ws[2])
        c0 = c0.addingProduct(x0, k)
        c1 = c1.addingProduct(x1, k)
        k = V8(repeating: ws[3])
        d0 = d0.addingProduct(x0, k)
        d1 = d1.addingProduct(x1, k)
        s &+= 1
    }
    let o = out + q
    vst8(a0, o)
    vst8(a1, o + 8)
    vst8(b0, o + ld)
    vst8(b1, o + (ld &+ 8))
    vst8(c0, o + 2 &* ld)
    vst8(c1, o + (2 &* ld &+ 8))
    vst8(d0, o + 3 &* ld)
    vst8(d1, o + (3 &* ld &+ 8))
}

@inline(__always) private func tile4x1(
    _ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int,
    _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ ld: Int, _ q: Int
) {
    var a = V8()
    var b = V8()
    var c = V8()
    var d = V8()
    var s = 0
    while s < S {
        let x = vld8(base + (offs[s] &+ q))
        let ws = w + (s &* 8)
        a = a.addingProduct(x, V8(repeating: ws[0]))
        b = b.addingProduct(x, V8(repeating: ws[1]))
        c = c.addingProduct(x, V8(repeating: ws[2]))
        d = d.addingProduct(x, V8(repeating: ws[3]))
        s &+= 1
    }
    let o = out + q
    vst8(a, o)
    vst8(b, o + ld)
    vst8(c, o + 2 &* ld)
    vst8(d, o + 3 &* ld)
}

/// out[i·ld + q] = Σ_{s<S} w[s·8 + i] · base[offs[s] + q] for i < 8 and q < 16·nv (the
/// contract of the AVX-512 `directTiles`): strips of 3 ymm (24 floats), each computed for rows
/// 0–3 then 4–7 (4 × 3 accumulators), then one 2- or 1-vector strip for the remainder.
/// 8·S·16·nv multiply-adds.
@inline(never)
public func directTiles(
    _ base: UnsafePointer<Float>, _ offs: UnsafePointer<Int>, _ S: Int, _ w: UnsafePointer<Float>,
    _ out: UnsafeMutablePointer<Float>, _ ld: Int, nv: Int
) {
    let n8 = nv &* 2
    var u = 0
    while u &+ 3 <= n8 {
        tile4x3(base, offs, S, w, out, ld, u &* 8)
        tile4x3(base, offs, S, w + 4, out + 4 &* ld, ld, u &* 8)
        u &+= 3
    }
    if u &+ 2 <= n8 {
        tile4x2(base, offs, S, w, out, ld, u &* 8)
        tile4x2(base, offs, S, w + 4, out + 4 &* ld, ld, u &* 8)
        u &+= 2
    }
    if u < n8 {
        tile4x1(base, offs, S, w, out, ld, u &* 8)
        tile4x1(base, offs, S, w + 4, out + 4 &* ld, ld, u &* 8)
    }
}

// MARK: - Weight gradient with output channels in the lanes

/// (a₀, b₀, a₁, b₁, a₂, b₂, a₃, b₃) and (a₄, b₄, …, a₇, b₇): one round of the 8 × 8 transpose.
@inline(__always) private func zip8(_ a: V8, _ b: V8) -> (V8, V8) {
    (V8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]), V8(a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]))
}

/// The contract of the AVX-512 `transposeToPixelMajor` (dst[p·ldd + o] = src[o·lds + p] for
/// p < n and o < 16·⌈rows/16⌉, zeros for o ≥ rows) with 8 × 8 in-register transposes: three
/// rounds of `zip8` map rows (r[i], r[i+4]) to rows 2i, 2i+1, rotating the 6 index bits (i, j)
/// left by one each, so three rounds swap i and j (8 ymm rows, no spills).
@inline(never)
public func transposeToPixelMajor(
    _ src: UnsafePointer<Float>, _ lds: Int, rows: Int, _ n: Int,
    _ dst: UnsafeMutablePointer<Float>, _ ldd: Int
) {
    let oPad = (rows &+ 15) / 16 &* 16
    var o0 = 0
    while o0 < oPad {
        let count = max(0, min(8, rows &- o0))
        let s = src + o0 &* lds
        let d = dst + o0
        @inline(__always) func r(_ k: Int, _ p: Int) -> V8 { k < count ? vld8(s + (k &* lds &+ p)) : V8() }
        var p = 0
        while p &+ 8 <= n {
            var t = (r(0, p), r(1, p), r(2, p), r(3, p), r(4, p), r(5, p), r(6, p), r(7, p))
            var round = 0
            while round < 3 {
                let (a0, a1) = zip8(t.0, t.4)
                let (b0, b1) = zip8(t.1, t.5)
                let (c0, c1) = zip8(t.2, t.6)
                let (d0, d1) = zip8(t.3, t.7)
                t = (a0, a1, b0, b1, c0, c1, d0, d1)
                round &+= 1
            }
            let q = d + p &* ldd
            vst8(t.0, q)
            vst8(t.1, q + ldd)
            vst8(t.2, q + 2 &* ldd)
            vst8(t.3, q + 3 &* ldd)
            vst8(t.4, q + 4 &* ldd)
            vst8(t.5, q + 5 &* ldd)
            vst8(t.6, q + 6 &* ldd)
            vst8(t.7, q + 7 &* ldd)
            p &+= 8
        }
        while p < n {
            var v = V8()
            var k = 0
            while k < count {
                v[k] = s[k &* lds &+ p]
                k &+= 1
            }
            vst8(v, d + p &* ldd)
            p &+= 1
        }
        o0 &+= 8
    }
}

/// acc[k·lda + l] += Σ_img Σ_{i<H, j<W} dz[img·zImage + (i·W + j)·ldz + l] · x[img·xImage + xo[k] + i·Wp + j]
/// for k < 6, l < 16: the 16-channel × 6-source sub-tile (12 ymm accumulators).
@inline(__always) private func weightTile16x6(
    _ dz: UnsafePointer<Float>, ldz: Int, _ x: UnsafePointer<Float>,
    _ xo: UnsafePointer<Int>, H: Int, W: Int, Wp: Int, images: Int,
    zImage: Int, xImage: Int, _ acc: UnsafeMutablePointer<Float>, lda: Int
) {
    var a0 = vld8(acc)
    var b0 = vld8(acc + 8)
    var a1 = vld8(acc + lda)
    var b1 = vld8(acc + (lda &+ 8))
    var a2 = vld8(acc + 2 &* lda)
    var b2 = vld8(acc + (2 &* lda &+ 8))
    var a3 = vld8(acc + 3 &* lda)
    var b3 = vld8(acc + (3 &* lda &+ 8))
    var a4 = vld8(acc + 4 &* lda)
    var b4 = vld8(acc + (4 &* lda &+ 8))
    var a5 = vld8(acc + 5 &* lda)
    var b5 = vld8(acc + (5 &* lda &+ 8))
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
            var j = 0
            while j < W {
                let d0 = vld8(zp)
                let d1 = vld8(zp + 8)
                var k = V8(repeating: p0[j])
                a0 = a0.addingProduct(d0, k)
                b0 = b0.addingProduct(d1, k)
                k = V8(repeating: p1[j])
                a1 = a1.addingProduct(d0, k)
                b1 = b1.addingProduct(d1, k)
                k = V8(repeating: p2[j])
                a2 = a2.addingProduct(d0, k)
                b2 = b2.addingProduct(d1, k)
                k = V8(repeating: p3[j])
                a3 = a3.addingProduct(d0, k)
                b3 = b3.addingProduct(d1, k)
                k = V8(repeating: p4[j])
                a4 = a4.addingProduct(d0, k)
                b4 = b4.addingProduct(d1, k)
                k = V8(repeating: p5[j])
                a5 = a5.addingProduct(d0, k)
                b5 = b5.addingProduct(d1, k)
                zp += ldz
                j &+= 1
            }
            i &+= 1
        }
        img &+= 1
    }
    vst8(a0, acc)
    vst8(b0, acc + 8)
    vst8(a1, acc + lda)
    vst8(b1, acc + (lda &+ 8))
    vst8(a2, acc + 2 &* lda)
    vst8(b2, acc + (2 &* lda &+ 8))
    vst8(a3, acc + 3 &* lda)
    vst8(b3, acc + (3 &* lda &+ 8))
    vst8(a4, acc + 4 &* lda)
    vst8(b4, acc + (4 &* lda &+ 8))
    vst8(a5, acc + 5 &* lda)
    vst8(b5, acc + (5 &* lda &+ 8))
}

/// The contract of the AVX-512 `directWeightTileT2` (32 output channels in the lanes × 12
/// sources, see there) as four 16-channel × 6-source sub-tiles.
/// 32·12·images·H·W multiply-adds.
@inline(never)
public func directWeightTileT2(
    _ dz: UnsafePointer<Float>, ldz: Int, _ x: UnsafePointer<Float>, _ xo: UnsafePointer<Int>,
    H: Int, W: Int, Wp: Int, images: Int, zImage: Int, xImage: Int,
    _ acc: UnsafeMutablePointer<Float>, lda: Int
) {
    var c = 0
    while c < 32 {
        weightTile16x6(
            dz + c, ldz: ldz, x, xo, H: H, W: W, Wp: Wp, images: images, zImage: zImage, xImage: xImage,
            acc + c, lda: lda)
        weightTile16x6(
            dz + c, ldz: ldz, x, xo + 6, H: H, W: W, Wp: Wp, images: images, zImage: zImage, xImage: xImage,
            acc + (6 &* lda &+ c), lda: lda)
        c &+= 16
    }
}

/// The contract of the AVX-512 `directWeightTileT1` (16 output channels × 12 sources) as two
/// 16-channel × 6-source sub-tiles. 16·12·images·H·W multiply-adds.
@inline(never)
public func directWeightTileT1(
    _ dz: UnsafePointer<Float>, ldz: Int, _ x: UnsafePointer<Float>, _ xo: UnsafePointer<Int>,
    H: Int, W: Int, Wp: Int, images: Int, zImage: Int, xImage: Int,
    _ acc: UnsafeMutablePointer<Float>, lda: Int
) {
    weightTile16x6(
        dz, ldz: ldz, x, xo, H: H, W: W, Wp: Wp, images: images, zImage: zImage, xImage: xImage,
        acc, lda: lda)
    weightTile16x6(
        dz, ldz: ldz, x, xo + 6, H: H, W: W, Wp: Wp, images: images, zImage: zImage, xImage: xImage,
        acc + 6 &* lda, lda: lda)
}
#endif
