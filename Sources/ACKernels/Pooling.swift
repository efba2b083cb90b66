#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Max and average pooling on blocked activations (16 channels per vector), PyTorch
/// semantics: windows clipped to the input; max ignores padding; average divides by the
/// window clipped to input + padding (count_include_pad) or to the input alone.
/// Complexity: N · C · OH · OW · KH · KW comparisons or additions.
enum Pooling {
    /// Computes `part` of the output: the (image, block, row) units of `WorkPart`.
    static func run(_ g: PoolGeometry, max isMax: Bool, batch: Int, x: TensorView, y: TensorView, part: WorkPart) {
        let blocks = ceilDiv(g.c, 16)
        let inPlane = g.inH * g.inW
        let outPlane = g.outH * g.outW
        part.forEachBlock(batch: batch, blocks: blocks, rows: g.outH) { n, b, rowBegin, rowEnd in
            let xb = UnsafePointer<Float>(x.base + n * x.imageStride + b * inPlane * 16)
            let yb = y.base + n * y.imageStride + b * outPlane * 16
            // Output columns whose window lies inside the input horizontally: there, four
            // outputs run side by side (four independent dependency chains instead of one
            // chain of KH·KW compare-and-blend or add steps, ~4 cycles each).
            let owLo = kmin(g.outW, ceilDiv(g.padLeft, g.strideW))
            let owHi =
                g.inW - g.kernelW + g.padLeft < 0
                ? owLo : kmax(owLo, kmin(g.outW, (g.inW - g.kernelW + g.padLeft) / g.strideW + 1))
            for oh in rowBegin..<rowEnd {
                let hs = oh * g.strideH - g.padTop
                let he = kmin(hs + g.kernelH, g.inH + g.padBottom)
                let h0 = kmax(hs, 0)
                let h1 = kmin(he, g.inH)
                var quadEnd = owLo
                while quadEnd + 4 <= owHi {
                    let ws = quadEnd * g.strideW - g.padLeft
                    let sw = g.strideW * 16
                    let start = V16(repeating: isMax ? -Float.infinity : 0)
                    var a0 = start
                    var a1 = start
                    var a2 = start
                    var a3 = start
                    for ih in h0..<h1 {
                        var p = xb + (ih * g.inW + ws) * 16
                        for _ in 0..<g.kernelW {
                            let v0 = load16(p)
                            let v1 = load16(p + sw)
                            let v2 = load16(p + 2 * sw)
                            let v3 = load16(p + 3 * sw)
                            if isMax {
                                a0 = a0.replacing(with: v0, where: v0 .>= a0)
                                a1 = a1.replacing(with: v1, where: v1 .>= a1)
                                a2 = a2.replacing(with: v2, where: v2 .>= a2)
                                a3 = a3.replacing(with: v3, where: v3 .>= a3)
                            } else {
                                a0 += v0
                                a1 += v1
                                a2 += v2
                                a3 += v3
                            }
                            p += 16
                        }
                    }
                    if !isMax {
                        // Horizontally inside the input: the window's width is KW either way.
                        let count = g.countIncludePad ? (he - hs) * g.kernelW : (h1 - h0) * g.kernelW
                        let inv = 1 / Float(count)
                        a0 *= inv
                        a1 *= inv
                        a2 *= inv
                        a3 *= inv
                    }
                    let yp = yb + (oh * g.outW + quadEnd) * 16
                    store16(yp, a0)
                    store16(yp + 16, a1)
                    store16(yp + 32, a2)
                    store16(yp + 48, a3)
                    quadEnd += 4
                }
                for ow in TwoRanges(0..<owLo, quadEnd..<g.outW) {
                    let ws = ow * g.strideW - g.padLeft
                    let we = kmin(ws + g.kernelW, g.inW + g.padRight)
                    let w0 = kmax(ws, 0)
                    let w1 = kmin(we, g.inW)
                    var acc = V16(repeating: isMax ? -Float.infinity : 0)
                    for ih in h0..<h1 {
                        for iw in w0..<w1 {
                            let v = load16(xb + (ih * g.inW + iw) * 16)
                            // Lane-wise max as compare + blend: `pointwiseMax` compiles to a
                            // scalar loop over the 16 lanes here. Same result, NaN included
                            // (v where v ≥ acc, else acc — Swift.max's definition).
                            acc = isMax ? acc.replacing(with: v, where: v .>= acc) : acc + v
                        }
                    }
                    if !isMax {
                        let count = g.countIncludePad ? (he - hs) * (we - ws) : (h1 - h0) * (w1 - w0)
                        acc *= 1 / Float(count)
                    }
                    store16(yb + (oh * g.outW + ow) * 16, acc)
                }
            }
        }
    }

    /// Global average pooling: blocked [N][C/16][H][W][16] → plain [N][C].
    static func global(batch: Int, x: TensorView, y: TensorView) {
        let plane = x.h * x.w
        let scale = 1 / Float(plane)
        for n in 0..<batch {
            for b in 0..<ceilDiv(x.c, 16) {
                let xb = UnsafePointer<Float>(x.base + n * x.imageStride + b * plane * 16)
                var s0 = V16()
                var s1 = V16()
                var p = 0
                while p + 2 <= plane {
                    s0 += load16(xb + p * 16)
                    s1 += load16(xb + (p + 1) * 16)
                    p += 2
                }
                if p < plane { s0 += load16(xb + p * 16) }
                let mean = (s0 + s1) * scale
                let yp = y.base + n * y.imageStride + b * 16
                for l in 0..<kmin(16, x.c - b * 16) { yp[l] = mean[l] }
            }
        }
    }
}
