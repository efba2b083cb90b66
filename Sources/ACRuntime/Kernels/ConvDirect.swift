/// Direct convolution on 16-output-channel blocks, register-blocked over output width.
///
/// Output: blocked [N][ceil(O/16)][OH][OW][16]. Input: plain NCHW or blocked. Weights: packing
/// `oc16`, block b = [inputChannelCount(b)][KH][KW][16], block-diagonal for groups (lanes of
/// a block that belong to another group have zero weights). Bias: [ceil(O/16)·16].
///
/// Each output pixel tile keeps 8 pixels × 16 channels of accumulators in registers
/// (8 ZMM on AVX-512) and streams broadcast input values against one weight
/// vector per tap. Taps that fall on padding are skipped, never read: rows by clipping the
/// kernel-row range, columns by handling edge pixels one at a time with bounds checks.
///
/// Complexity: N · O · OH · OW · (C/groups) · KH · KW multiply-accumulates (plus at most
/// 15/16 extra for partially filled blocks and block-diagonal group padding).
enum ConvDirect {
    static let tile = 8

    static func run(_ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
                    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, blockOffsets: [Int])
    {
        let kk = g.kernelH * g.kernelW
        let outPlane = g.outH * g.outW
        // Interior output columns: every tap in bounds horizontally.
        let span = (g.kernelW - 1) * g.dilationW
        let owLo = min(g.outW, ceilDiv(g.padLeft, g.strideW))
        let hiNum = g.inW - 1 - span + g.padLeft
        let owHi = hiNum < 0 ? owLo : max(owLo, min(g.outW, hiNum / g.strideW + 1))
        blockOffsets.withUnsafeBufferPointer { offsets in
            for n in 0..<batch {
                let xa = ActivationAddressing(base: UnsafePointer(x.base + n * x.imageStride),
                                              planeElements: g.inH * g.inW, blocked: x.blocked)
                let yImage = y.base + n * y.imageStride
                let rImage = residual.map { UnsafePointer($0.base + n * $0.imageStride) }
                for b in 0..<g.outBlocks {
                    let (cBegin, cCount) = g.blockInputRange(b)
                    let wBlock = weights + offsets[b]
                    let biasV = load16(bias + b * 16)
                    let yBlock = yImage + b * outPlane * 16
                    let rBlock = rImage.map { $0 + b * outPlane * 16 }
                    for oh in 0..<g.outH {
                        let ih0 = oh * g.strideH - g.padTop
                        var khBegin = 0
                        while khBegin < g.kernelH && ih0 + khBegin * g.dilationH < 0 { khBegin += 1 }
                        var khEnd = g.kernelH
                        while khEnd > khBegin && ih0 + (khEnd - 1) * g.dilationH >= g.inH { khEnd -= 1 }
                        let rows = Rows(ih0: ih0, khBegin: khBegin, khEnd: khEnd)
                        var ow = 0
                        while ow < owLo {
                            edgePixel(g, xa, wBlock, cBegin, cCount, kk, rows, ow, biasV, yBlock, rBlock, oh)
                            ow += 1
                        }
                        while ow + tile <= owHi {
                            interiorTile(g, xa, wBlock, cBegin, cCount, kk, rows, ow, biasV, yBlock, rBlock, oh)
                            ow += tile
                        }
                        while ow < owHi {
                            interiorPixel(g, xa, wBlock, cBegin, cCount, kk, rows, ow, biasV, yBlock, rBlock, oh)
                            ow += 1
                        }
                        while ow < g.outW {
                            edgePixel(g, xa, wBlock, cBegin, cCount, kk, rows, ow, biasV, yBlock, rBlock, oh)
                            ow += 1
                        }
                    }
                }
            }
        }
    }

    struct Rows {
        var ih0: Int
        var khBegin: Int
        var khEnd: Int
    }

    @inline(__always)
    static func finish(_ acc: V16, _ g: ConvGeometry, _ yBlock: UnsafeMutablePointer<Float>,
                       _ rBlock: UnsafePointer<Float>?, _ pixel: Int)
    {
        var v = acc
        if let rBlock { v += load16(rBlock + pixel * 16) }
        store16(yBlock + pixel * 16, activate(v, g.activation))
    }

    /// Eight adjacent interior output pixels: no horizontal bounds checks.
    @inline(__always)
    static func interiorTile(_ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
                             _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
                             _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int)
    {
        var a0 = biasV, a1 = biasV, a2 = biasV, a3 = biasV, a4 = biasV, a5 = biasV, a6 = biasV, a7 = biasV
        let ps = xa.pixelStride
        let step = g.strideW * ps
        let iw0 = ow * g.strideW - g.padLeft
        let kw = g.kernelW
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let wc = w + ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var wp = wc + kh * kw * 16
                for _ in 0..<kw {
                    let wv = load16(wp)
                    a0 = a0.addingProduct(xp[0], wv)
                    a1 = a1.addingProduct(xp[step], wv)
                    a2 = a2.addingProduct(xp[2 * step], wv)
                    a3 = a3.addingProduct(xp[3 * step], wv)
                    a4 = a4.addingProduct(xp[4 * step], wv)
                    a5 = a5.addingProduct(xp[5 * step], wv)
                    a6 = a6.addingProduct(xp[6 * step], wv)
                    a7 = a7.addingProduct(xp[7 * step], wv)
                    xp += dws
                    wp += 16
                }
            }
        }
        let p = oh * g.outW + ow
        finish(a0, g, yBlock, rBlock, p)
        finish(a1, g, yBlock, rBlock, p + 1)
        finish(a2, g, yBlock, rBlock, p + 2)
        finish(a3, g, yBlock, rBlock, p + 3)
        finish(a4, g, yBlock, rBlock, p + 4)
        finish(a5, g, yBlock, rBlock, p + 5)
        finish(a6, g, yBlock, rBlock, p + 6)
        finish(a7, g, yBlock, rBlock, p + 7)
    }

    /// One interior output pixel (every tap in bounds horizontally).
    @inline(__always)
    static func interiorPixel(_ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
                              _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
                              _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int)
    {
        pixel(g, xa, w, cBegin, cCount, kk, rows, ow, 0, g.kernelW, biasV, yBlock, rBlock, oh)
    }

    /// One output pixel whose taps may fall on the left or right padding.
    static func edgePixel(_ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
                          _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
                          _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int)
    {
        let iw0 = ow * g.strideW - g.padLeft
        var kwBegin = 0
        while kwBegin < g.kernelW && iw0 + kwBegin * g.dilationW < 0 { kwBegin += 1 }
        var kwEnd = g.kernelW
        while kwEnd > kwBegin && iw0 + (kwEnd - 1) * g.dilationW >= g.inW { kwEnd -= 1 }
        pixel(g, xa, w, cBegin, cCount, kk, rows, ow, kwBegin, kwEnd, biasV, yBlock, rBlock, oh)
    }

    /// One output pixel over kernel columns [kwBegin, kwEnd) (the columns whose taps are in
    /// bounds).
    @inline(__always)
    static func pixel(_ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
                      _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ kwBegin: Int, _ kwEnd: Int,
                      _ biasV: V16, _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int)
    {
        var a0 = biasV
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let wc = w + ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                let xr = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                let wr = wc + kh * g.kernelW * 16
                for kw in kwBegin..<kwEnd {
                    a0 = a0.addingProduct(xr[kw * g.dilationW * ps], load16(wr + kw * 16))
                }
            }
        }
        finish(a0, g, yBlock, rBlock, oh * g.outW + ow)
    }
}

/// Depthwise convolution (groups == C == O): channels in lanes, one block of 16 channels at a
/// time. Input and output blocked; weights `depthwise16`: [ceil(C/16)][KH][KW][16].
/// Complexity: N · C · OH · OW · KH · KW multiply-accumulates.
enum ConvDepthwise {
    static func run(_ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
                    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>)
    {
        let kk = g.kernelH * g.kernelW
        let inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        for n in 0..<batch {
            for b in 0..<g.outBlocks {
                let xb = UnsafePointer(x.base + n * x.imageStride + b * inPlane * 16)
                let yb = y.base + n * y.imageStride + b * outPlane * 16
                let rb = residual.map { UnsafePointer($0.base + n * $0.imageStride + b * outPlane * 16) }
                let wb = weights + b * kk * 16
                let biasV = load16(bias + b * 16)
                for oh in 0..<g.outH {
                    let ih0 = oh * g.strideH - g.padTop
                    for ow in 0..<g.outW {
                        let iw0 = ow * g.strideW - g.padLeft
                        var acc = biasV
                        for kh in 0..<g.kernelH {
                            let ih = ih0 + kh * g.dilationH
                            if ih < 0 || ih >= g.inH { continue }
                            for kw in 0..<g.kernelW {
                                let iw = iw0 + kw * g.dilationW
                                if iw < 0 || iw >= g.inW { continue }
                                acc = acc.addingProduct(load16(xb + (ih * g.inW + iw) * 16), load16(wb + (kh * g.kernelW + kw) * 16))
                            }
                        }
                        let p = oh * g.outW + ow
                        if let rb { acc += load16(rb + p * 16) }
                        store16(yb + p * 16, activate(acc, g.activation))
                    }
                }
            }
        }
    }
}
