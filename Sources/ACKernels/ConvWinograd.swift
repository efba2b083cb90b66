#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Winograd F(4×4, 3×3) and F(2×2, 5×5) convolution (Lavin & Gray 2016; matrices and weight
/// layout in `Winograd`) for 3×3 and 5×5, stride-1, dilation-1, groups-1 layers.
///
/// Input and output blocked ([N][⌈C/16⌉][H][W][16]); weights packing `winograd43`, already
/// transformed (U = G·g·Gᵀ) by the writer (`winograd43` / `winograd25`); bias [⌈O/16⌉·16]. Fused epilogue: bias, residual
/// add, activation (the same order as `ConvDirect`).
///
/// The output tiles of an image are processed in chunks of at most `chunkTiles` tiles, in
/// three passes over the chunk, all in `scratch` (`Winograd.scratchElements` floats, 64-byte
/// aligned):
/// 1. input transform, 16 channels per vector: V[p][t][c] = (Bᵀ·d·B)[p];
/// 2. 36 independent GEMMs, M[p][t][o] = Σ_c U[p][o][c]·V[p][t][c], with the same register
///    tiles as the direct kernel (4 output blocks × 6 tiles, or 1 block × 6 tiles);
/// 3. output transform Y = Aᵀ·M·A (4×4 or 2×2), bias, residual, activation, clipped to the image.
///
/// Cost per output tile: 36·C·O multiply-adds (direct: 144·C·O for a 4×4 tile of a 3×3
/// kernel, 100·C·O for a 2×2 tile of a 5×5) plus O(36·(C + O)) for the transforms. Numerics:
/// the transforms amplify rounding; docs/WINOGRAD.md gives the measured logit errors (≤ 2.8e-6
/// relative on three trained models).
enum ConvWinograd {
    /// Computes `part` of the output: the work units are (image, group of 4 output blocks —
    /// 1 without the wide register file —, output tile), tiles fastest; a part owns a
    /// contiguous range and runs each (image, group) it touches on its tiles, chunked like a
    /// whole image. So two threads split a wide layer by output blocks (each streams half of the
    /// transformed weights) and a one-group layer by tiles. Every output element is computed
    /// the same way whatever the split (the GEMM sums the channels of each tile and lane in
    /// order, from zero), so the output is bit-identical. Parts run concurrently need their own
    /// `scratch`.
    static func run(
        _ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, chunkTiles: Int, part: WorkPart
    ) {
        let cPad = ceilDiv(g.inC, 16) * 16
        let oPad = g.outBlocks * 16
        let mt = Winograd.outputTile(kernel: g.kernelH)  // 4 (3×3) or 2 (5×5)
        let tilesW = ceilDiv(g.outW, mt)
        let tiles = ceilDiv(g.outH, mt) * tilesW
        let groupBlocks = ConvDirect.wideRegisterFile ? 4 : 1
        let groups = ceilDiv(g.outBlocks, groupBlocks)
        let (lo, hi) = part.units(batch * groups * tiles)
        let v = scratch
        let m = scratch + 36 * chunkTiles * cPad
        let temp = m + 36 * chunkTiles * oPad
        let inPlane = g.inH * g.inW * 16
        let outPlane = g.outH * g.outW * 16
        var transformed = (-1, 0, 0)  // (image, first tile, tiles) whose V is in scratch
        for job in (lo / tiles)..<kmin(batch * groups, ceilDiv(hi, tiles)) {
            let n = job / groups
            let ob0 = job % groups * groupBlocks
            let ob1 = kmin(g.outBlocks, ob0 + groupBlocks)
            // This part's tiles [first, last) of (image n, blocks ob0..<ob1).
            let first = kmax(0, lo - job * tiles)
            let last = kmin(tiles, hi - job * tiles)
            if first >= last { continue }
            // Equal chunks: 16 tiles with room for 14 run as 8 + 8, not 14 + 2.
            let chunks = ceilDiv(last - first, chunkTiles)
            let chunk = ceilDiv(last - first, chunks)
            let xImage = UnsafePointer<Float>(x.base + n * x.imageStride)
            let yImage = y.base + n * y.imageStride
            let rImage = residual.map { UnsafePointer<Float>($0.base + n * $0.imageStride) }
            var t0 = first
            while t0 < last {
                let count = kmin(chunk, last - t0)
                // V depends on the image and the tiles only: when the previous group's chunk
                // was the same (an image in one chunk, e.g. conv 256→256 at 14×14 with its
                // four groups), it is still in scratch.
                let reuse = transformed == (n, t0, count)
                transformed = (n, t0, count)
                for t in 0..<(reuse ? 0 : count) {
                    let ty = (t0 + t) / tilesW
                    let tx = (t0 + t) % tilesW
                    for cb in 0..<ceilDiv(g.inC, 16) {
                        inputTile(
                            g, xImage + cb * inPlane, iy0: ty * mt - g.padTop, ix0: tx * mt - g.padLeft,
                            v + t * cPad + cb * 16, stride: count * cPad, temp)
                    }
                }
                for p in 0..<36 {
                    multiply(
                        g, weights, position: p, v + p * count * cPad, cPad: cPad, count: count,
                        m + p * count * oPad, oPad: oPad, blocks: ob0..<ob1)
                }
                for t in 0..<count {
                    let ty = (t0 + t) / tilesW
                    let tx = (t0 + t) % tilesW
                    for ob in ob0..<ob1 {
                        let src = m + t * oPad + ob * 16
                        let b = load16(bias + ob * 16)
                        let yb = yImage + ob * outPlane
                        let rb = rImage.map { $0 + ob * outPlane }
                        if mt == 4 {
                            outputTile4(g, src, stride: count * oPad, b, yb, rb, oy0: ty * 4, ox0: tx * 4, temp)
                        } else {
                            outputTile2(g, src, stride: count * oPad, b, yb, rb, oy0: ty * 2, ox0: tx * 2, temp)
                        }
                    }
                }
                t0 += count
            }
        }
    }

    // MARK: Transforms

    /// Bᵀ applied to six vectors a0…a5 (one column or row of a 6×6 tile):
    /// (4a0 − 5a2 + a4, −4a1 − 4a2 + a3 + a4, 4a1 − 4a2 − a3 + a4, −2a1 − a2 + 2a3 + a4,
    ///  2a1 − a2 − 2a3 + a4, 4a1 − 5a3 + a5).
    @inline(__always)
    static func inputTransform(
        _ a0: V16, _ a1: V16, _ a2: V16, _ a3: V16, _ a4: V16, _ a5: V16
    )
        -> (V16, V16, V16, V16, V16, V16)
    {
        let s = a4.madd(-4, a2)
        let d = a3.madd(-4, a1)  // a4 − 4a2, a3 − 4a1
        let s2 = a4 - a2
        let d2 = (a3 - a1) * 2
        return (a4.madd(-5, a2).madd(4, a0), s + d, s - d, s2 + d2, s2 - d2, a5.madd(-5, a3).madd(4, a1))
    }

    /// Aᵀ of F(4, 3) applied to six vectors m0…m5: (m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4),
    /// m1 + m2 + 4(m3 + m4), m1 − m2 + 8(m3 − m4) + m5).
    @inline(__always)
    static func outputTransform(
        _ m0: V16, _ m1: V16, _ m2: V16, _ m3: V16, _ m4: V16, _ m5: V16
    )
        -> (V16, V16, V16, V16)
    {
        let p = m1 + m2
        let q = m1 - m2
        let r = m3 + m4
        let s = m3 - m4
        return (m0 + p + r, q.madd(2, s), p.madd(4, r), (q + m5).madd(8, s))
    }

    /// Transforms the 6×6 tile at input (iy0, ix0) of one 16-channel block: V[p] is stored at
    /// `dst + p·stride`. Pixels outside the input are zero (the padding).
    @inline(__always)
    static func inputTile(
        _ g: ConvGeometry, _ xBlock: UnsafePointer<Float>, iy0: Int, ix0: Int,
        _ dst: UnsafeMutablePointer<Float>, stride: Int, _ temp: UnsafeMutablePointer<Float>
    ) {
        let interior = iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= g.inH && ix0 + 6 <= g.inW
        @inline(__always) func d(_ r: Int, _ c: Int) -> V16 {
            let iy = iy0 + r
            let ix = ix0 + c
            if interior || (iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW) {
                return load16(xBlock + (iy * g.inW + ix) * 16)
            }
            return V16(repeating: 0)
        }
        // Columns: t = Bᵀ·d.
        for c in 0..<6 {
            let o = inputTransform(d(0, c), d(1, c), d(2, c), d(3, c), d(4, c), d(5, c))
            store16(temp + (0 * 6 + c) * 16, o.0)
            store16(temp + (1 * 6 + c) * 16, o.1)
            store16(temp + (2 * 6 + c) * 16, o.2)
            store16(temp + (3 * 6 + c) * 16, o.3)
            store16(temp + (4 * 6 + c) * 16, o.4)
            store16(temp + (5 * 6 + c) * 16, o.5)
        }
        // Rows: V = t·B.
        for r in 0..<6 {
            let row = temp + r * 6 * 16
            let o = inputTransform(
                load16(row), load16(row + 16), load16(row + 32), load16(row + 48),
                load16(row + 64), load16(row + 80))
            let out = dst + r * 6 * stride
            store16(out, o.0)
            store16(out + stride, o.1)
            store16(out + 2 * stride, o.2)
            store16(out + 3 * stride, o.3)
            store16(out + 4 * stride, o.4)
            store16(out + 5 * stride, o.5)
        }
    }

    /// Aᵀ of F(2, 5): (m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4) + m5).
    @inline(__always)
    static func outputTransform2(_ m0: V16, _ m1: V16, _ m2: V16, _ m3: V16, _ m4: V16, _ m5: V16) -> (V16, V16) {
        (m0 + (m1 + m2) + (m3 + m4), (m1 - m2 + m5).madd(2, m3 - m4))
    }

    /// F(2×2, 5×5)'s output tile: like `outputTile4`, 2×2 pixels.
    @inline(__always)
    static func outputTile2(
        _ g: ConvGeometry, _ src: UnsafePointer<Float>, stride: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, oy0: Int, ox0: Int,
        _ temp: UnsafeMutablePointer<Float>
    ) {
        // Columns: s = Aᵀ·M (2 × 6).
        for c in 0..<6 {
            let col = src + c * stride
            let o = outputTransform2(
                load16(col), load16(col + 6 * stride), load16(col + 12 * stride),
                load16(col + 18 * stride), load16(col + 24 * stride), load16(col + 30 * stride))
            store16(temp + c * 16, o.0)
            store16(temp + (6 + c) * 16, o.1)
        }
        let rows = kmin(2, g.outH - oy0)
        let cols = kmin(2, g.outW - ox0)
        for r in 0..<rows {
            let row = temp + r * 6 * 16
            let o = outputTransform2(
                load16(row), load16(row + 16), load16(row + 32), load16(row + 48),
                load16(row + 64), load16(row + 80))
            let p = (oy0 + r) * g.outW + ox0
            ConvDirect.finish(o.0 + biasV, g, yBlock, rBlock, p)
            if cols > 1 { ConvDirect.finish(o.1 + biasV, g, yBlock, rBlock, p + 1) }
        }
    }

    /// Transforms M (36 vectors at `src + p·stride`) of one tile and output block back to the
    /// 4×4 output tile at (oy0, ox0), adds bias and residual, applies the activation and
    /// stores the pixels inside the output.
    @inline(__always)
    static func outputTile4(
        _ g: ConvGeometry, _ src: UnsafePointer<Float>, stride: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, oy0: Int, ox0: Int,
        _ temp: UnsafeMutablePointer<Float>
    ) {
        // Columns: s = Aᵀ·M (4 × 6).
        for c in 0..<6 {
            let col = src + c * stride
            let o = outputTransform(
                load16(col), load16(col + 6 * stride), load16(col + 12 * stride),
                load16(col + 18 * stride), load16(col + 24 * stride), load16(col + 30 * stride))
            store16(temp + (0 * 6 + c) * 16, o.0)
            store16(temp + (1 * 6 + c) * 16, o.1)
            store16(temp + (2 * 6 + c) * 16, o.2)
            store16(temp + (3 * 6 + c) * 16, o.3)
        }
        // Rows: Y = s·A, then the epilogue.
        let rows = kmin(4, g.outH - oy0)
        let cols = kmin(4, g.outW - ox0)
        for r in 0..<rows {
            let row = temp + r * 6 * 16
            let o = outputTransform(
                load16(row), load16(row + 16), load16(row + 32), load16(row + 48),
                load16(row + 64), load16(row + 80))
            let p = (oy0 + r) * g.outW + ox0
            ConvDirect.finish(o.0 + biasV, g, yBlock, rBlock, p)
            if cols > 1 { ConvDirect.finish(o.1 + biasV, g, yBlock, rBlock, p + 1) }
            if cols > 2 { ConvDirect.finish(o.2 + biasV, g, yBlock, rBlock, p + 2) }
            if cols > 3 { ConvDirect.finish(o.3 + biasV, g, yBlock, rBlock, p + 3) }
        }
    }

    // MARK: GEMM

    /// M[p][t][o] = Σ_c U[p][o][c]·V[p][t][c] for one position p, `count` tiles and the output
    /// blocks `blocks`: `vp` is V[p] ([count][cPad]), `mp` is M[p] ([count][oPad]).
    @inline(__always)
    static func multiply(
        _ g: ConvGeometry, _ u: UnsafePointer<Float>, position p: Int,
        _ vp: UnsafePointer<Float>, cPad: Int, count: Int,
        _ mp: UnsafeMutablePointer<Float>, oPad: Int, blocks: Range<Int>
    ) {
        let c = g.inC
        let blockStride = 36 * c * 16  // between output blocks' weights
        var ob = blocks.lowerBound
        while ConvDirect.wideRegisterFile && ob + 4 <= blocks.upperBound {
            let u0 = u + ob * blockStride + p * c * 16
            var t = 0
            while t < count {
                // A remainder of ≤ 4 tiles runs 4 columns (16 accumulators still cover the FMA
                // latency), not 6 of which 2 are discarded: 16 tiles = 6 + 6 + 4.
                if count - t <= 4 {
                    quadTile(
                        c, u0, blockStride, vp + t * cPad, cPad, count - t, mp + t * oPad + ob * 16, oPad, width: 4)
                } else {
                    quadTile(
                        c, u0, blockStride, vp + t * cPad, cPad, kmin(6, count - t), mp + t * oPad + ob * 16, oPad,
                        width: 6)
                }
                t += 6
            }
            ob += 4
        }
        while ob < blocks.upperBound {
            let u0 = u + ob * blockStride + p * c * 16
            var t = 0
            // 8 independent accumulators hide the FMA latency (4 cycles × 2 ports) with AVX-512;
            // with AVX2 (2 registers each) 6 fit.
            let width = ConvDirect.wideRegisterFile ? 8 : 6
            while t < count {
                singleTile(
                    c, u0, vp + t * cPad, cPad, kmin(width, count - t), mp + t * oPad + ob * 16, oPad,
                    width: width)
                t += width
            }
            ob += 1
        }
    }

    /// Four output blocks × `width` (6 or 4) tiles (24 or 16 accumulators): per input channel
    /// 4 weight loads and `width` broadcasts feed 4·`width` FMAs. Tiles count ≤ k < width repeat
    /// tile count−1's input and are not stored.
    @inline(__always)
    static func quadTile(
        _ c: Int, _ u: UnsafePointer<Float>, _ blockStride: Int, _ v: UnsafePointer<Float>,
        _ vStride: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>, _ oStride: Int,
        width: Int
    ) {
        let s1 = kmin(1, count - 1) * vStride
        let s2 = kmin(2, count - 1) * vStride
        let s3 = kmin(3, count - 1) * vStride
        let s4 = kmin(4, count - 1) * vStride
        let s5 = kmin(5, count - 1) * vStride
        let zero = V16(repeating: 0)
        var a0 = zero
        var a1 = zero
        var a2 = zero
        var a3 = zero
        var a4 = zero
        var a5 = zero
        var b0 = zero
        var b1 = zero
        var b2 = zero
        var b3 = zero
        var b4 = zero
        var b5 = zero
        var c0 = zero
        var c1 = zero
        var c2 = zero
        var c3 = zero
        var c4 = zero
        var c5 = zero
        var d0 = zero
        var d1 = zero
        var d2 = zero
        var d3 = zero
        var d4 = zero
        var d5 = zero
        let u1 = u + blockStride
        let u2 = u + 2 * blockStride
        let u3 = u + 3 * blockStride
        for ci in 0..<c {
            let off = ci * 16
            let w0 = load16(u + off)
            let w1 = load16(u1 + off)
            let w2 = load16(u2 + off)
            let w3 = load16(u3 + off)
            let x0 = v[ci]
            a0 = a0.madd(x0, w0)
            b0 = b0.madd(x0, w1)
            c0 = c0.madd(x0, w2)
            d0 = d0.madd(x0, w3)
            let x1 = v[s1 + ci]
            a1 = a1.madd(x1, w0)
            b1 = b1.madd(x1, w1)
            c1 = c1.madd(x1, w2)
            d1 = d1.madd(x1, w3)
            let x2 = v[s2 + ci]
            a2 = a2.madd(x2, w0)
            b2 = b2.madd(x2, w1)
            c2 = c2.madd(x2, w2)
            d2 = d2.madd(x2, w3)
            let x3 = v[s3 + ci]
            a3 = a3.madd(x3, w0)
            b3 = b3.madd(x3, w1)
            c3 = c3.madd(x3, w2)
            d3 = d3.madd(x3, w3)
            if width > 4 {
                let x4 = v[s4 + ci]
                a4 = a4.madd(x4, w0)
                b4 = b4.madd(x4, w1)
                c4 = c4.madd(x4, w2)
                d4 = d4.madd(x4, w3)
                let x5 = v[s5 + ci]
                a5 = a5.madd(x5, w0)
                b5 = b5.madd(x5, w1)
                c5 = c5.madd(x5, w2)
                d5 = d5.madd(x5, w3)
            }
        }
        @inline(__always) func put(_ k: Int, _ a: V16, _ b: V16, _ c: V16, _ d: V16) {
            let o = out + k * oStride
            store16(o, a)
            store16(o + 16, b)
            store16(o + 32, c)
            store16(o + 48, d)
        }
        put(0, a0, b0, c0, d0)
        if count > 1 { put(1, a1, b1, c1, d1) }
        if count > 2 { put(2, a2, b2, c2, d2) }
        if count > 3 { put(3, a3, b3, c3, d3) }
        if count > 4 { put(4, a4, b4, c4, d4) }
        if count > 5 { put(5, a5, b5, c5, d5) }
    }

    /// One output block × `width` (6 or 8) tiles: one weight load feeds `width` FMAs.
    @inline(__always)
    static func singleTile(
        _ c: Int, _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ vStride: Int,
        _ count: Int, _ out: UnsafeMutablePointer<Float>, _ oStride: Int, width: Int
    ) {
        let s1 = kmin(1, count - 1) * vStride
        let s2 = kmin(2, count - 1) * vStride
        let s3 = kmin(3, count - 1) * vStride
        let s4 = kmin(4, count - 1) * vStride
        let s5 = kmin(5, count - 1) * vStride
        let s6 = kmin(6, count - 1) * vStride
        let s7 = kmin(7, count - 1) * vStride
        let zero = V16(repeating: 0)
        var a0 = zero
        var a1 = zero
        var a2 = zero
        var a3 = zero
        var a4 = zero
        var a5 = zero
        var a6 = zero
        var a7 = zero
        for ci in 0..<c {
            let w = load16(u + ci * 16)
            a0 = a0.madd(v[ci], w)
            a1 = a1.madd(v[s1 + ci], w)
            a2 = a2.madd(v[s2 + ci], w)
            a3 = a3.madd(v[s3 + ci], w)
            a4 = a4.madd(v[s4 + ci], w)
            a5 = a5.madd(v[s5 + ci], w)
            if width > 6 {
                a6 = a6.madd(v[s6 + ci], w)
                a7 = a7.madd(v[s7 + ci], w)
            }
        }
        store16(out, a0)
        if count > 1 { store16(out + oStride, a1) }
        if count > 2 { store16(out + 2 * oStride, a2) }
        if count > 3 { store16(out + 3 * oStride, a3) }
        if count > 4 { store16(out + 4 * oStride, a4) }
        if count > 5 { store16(out + 5 * oStride, a5) }
        if count > 6 { store16(out + 6 * oStride, a6) }
        if count > 7 { store16(out + 7 * oStride, a7) }
    }
}
