/// Scalar reference implementations of every op on plain NCHW tensors with unpacked weights
/// (OIHW for convolutions, [out][in] for Linear). They are the test oracle for the optimised
/// kernels: straightforward loops in the definitions' own order, no SIMD, no blocking, no
/// packing. Not for production use (slow, allocate their results).
public enum Reference {
    @inline(__always) private static func activate(_ v: Float, _ a: Activation) -> Float { a.apply(v) }

    /// A plain NCHW (rank 4) or [N, F] (rank 2, h = w = 1) tensor.
    public struct Tensor: Sendable {
        public var n: Int, c: Int, h: Int, w: Int
        public var data: [Float]
        public init(n: Int, c: Int, h: Int = 1, w: Int = 1, data: [Float]) {
            precondition(
                data.count == n * c * h * w, "Reference.Tensor: \(data.count) elements for \(n)x\(c)x\(h)x\(w)")
            self.n = n
            self.c = c
            self.h = h
            self.w = w
            self.data = data
        }
        @inline(__always) func at(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Float {
            data[((n * self.c + c) * h + y) * w + x]
        }
    }

    /// 2-D convolution, PyTorch semantics (cross-correlation, zero padding):
    /// y[n,o,oh,ow] = b[o] + Σ_{ci,kh,kw} x[n, g·C/G + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] · W[o,ci,kh,kw],
    /// with g = o / (O/G); then `residual` is added and `activation` applied.
    /// Weight: OIHW, O × C/groups × KH × KW.
    public static func conv2d(
        _ x: Tensor, weight: [Float], bias: [Float]?, outputChannels o: Int,
        kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1,
        activation: Activation = .none, residual: Tensor? = nil
    ) -> Tensor {
        let (kh, kw) = kernelSize
        let (sh, sw) = stride
        let (dh, dw) = dilation
        let oh = (x.h + padding.top + padding.bottom - dh * (kh - 1) - 1) / sh + 1
        let ow = (x.w + padding.left + padding.right - dw * (kw - 1) - 1) / sw + 1
        let cg = x.c / groups
        let og = o / groups
        precondition(weight.count == o * cg * kh * kw, "Reference.conv2d: weight must be OIHW")
        var y = [Float](repeating: 0, count: x.n * o * oh * ow)
        for n in 0..<x.n {
            for oc in 0..<o {
                let g = oc / og
                for yy in 0..<oh {
                    for xx in 0..<ow {
                        var s: Float = bias?[oc] ?? 0
                        for ci in 0..<cg {
                            for i in 0..<kh {
                                let iy = yy * sh - padding.top + i * dh
                                if iy < 0 || iy >= x.h { continue }
                                for j in 0..<kw {
                                    let ix = xx * sw - padding.left + j * dw
                                    if ix < 0 || ix >= x.w { continue }
                                    s += x.at(n, g * cg + ci, iy, ix) * weight[((oc * cg + ci) * kh + i) * kw + j]
                                }
                            }
                        }
                        let idx = ((n * o + oc) * oh + yy) * ow + xx
                        if let residual { s += residual.data[idx] }
                        y[idx] = activate(s, activation)
                    }
                }
            }
        }
        return Tensor(n: x.n, c: o, h: oh, w: ow, data: y)
    }

    /// Max or average pooling, PyTorch semantics (see `Pooling`).
    public static func pool(
        _ x: Tensor, max isMax: Bool, kernelSize: (Int, Int), stride: (Int, Int),
        padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
        ceilMode: Bool = false, countIncludePad: Bool = true
    ) -> Tensor {
        let oh = GraphBuilder.poolExtent(x.h, kernelSize.0, stride.0, padding.top, padding.bottom, ceilMode)!
        let ow = GraphBuilder.poolExtent(x.w, kernelSize.1, stride.1, padding.left, padding.right, ceilMode)!
        var y = [Float](repeating: 0, count: x.n * x.c * oh * ow)
        for n in 0..<x.n {
            for c in 0..<x.c {
                for yy in 0..<oh {
                    for xx in 0..<ow {
                        let hs = yy * stride.0 - padding.top
                        let ws = xx * stride.1 - padding.left
                        let he = min(hs + kernelSize.0, x.h + padding.bottom)
                        let we = min(ws + kernelSize.1, x.w + padding.right)
                        var m = -Float.infinity
                        var s: Float = 0
                        var cnt = 0
                        for iy in max(hs, 0)..<min(he, x.h) {
                            for ix in max(ws, 0)..<min(we, x.w) {
                                let v = x.at(n, c, iy, ix)
                                m = Swift.max(m, v)
                                s += v
                                cnt += 1
                            }
                        }
                        let div = countIncludePad ? (he - hs) * (we - ws) : cnt
                        y[((n * x.c + c) * oh + yy) * ow + xx] = isMax ? m : s / Float(div)
                    }
                }
            }
        }
        return Tensor(n: x.n, c: x.c, h: oh, w: ow, data: y)
    }

    /// Mean over H and W: [N, C, H, W] → [N, C].
    public static func globalAvgPool(_ x: Tensor) -> Tensor {
        var y = [Float](repeating: 0, count: x.n * x.c)
        for n in 0..<x.n {
            for c in 0..<x.c {
                var s: Float = 0
                for i in 0..<(x.h * x.w) { s += x.data[(n * x.c + c) * x.h * x.w + i] }
                y[n * x.c + c] = s / Float(x.h * x.w)
            }
        }
        return Tensor(n: x.n, c: x.c, data: y)
    }

    /// y = x·Wᵀ + b; x: [N, F] (or any rank, flattened), weight: [O][F].
    public static func linear(
        _ x: Tensor, weight: [Float], bias: [Float]?, outputFeatures o: Int,
        activation: Activation = .none
    ) -> Tensor {
        let f = x.c * x.h * x.w
        var y = [Float](repeating: 0, count: x.n * o)
        for n in 0..<x.n {
            for j in 0..<o {
                var s: Float = bias?[j] ?? 0
                for i in 0..<f { s += x.data[n * f + i] * weight[j * f + i] }
                y[n * o + j] = activate(s, activation)
            }
        }
        return Tensor(n: x.n, c: o, data: y)
    }

    /// Elementwise act(a + b).
    public static func add(_ a: Tensor, _ b: Tensor, activation: Activation = .none) -> Tensor {
        var r = a
        for i in r.data.indices { r.data[i] = activate(a.data[i] + b.data[i], activation) }
        return r
    }

    /// Elementwise act(x).
    public static func activation(_ x: Tensor, _ act: Activation) -> Tensor {
        var r = x
        for i in r.data.indices { r.data[i] = activate(x.data[i], act) }
        return r
    }

    /// Per channel act(x·scale[c] + shift[c]).
    public static func scaleShift(_ x: Tensor, scale: [Float], shift: [Float], activation: Activation = .none) -> Tensor
    {
        var r = x
        for i in r.data.indices {
            let c = (i / (x.h * x.w)) % x.c
            r.data[i] = activate(x.data[i] * scale[c] + shift[c], activation)
        }
        return r
    }

    /// Concatenation along channels.
    public static func concat(_ xs: [Tensor]) -> Tensor {
        let c = xs.reduce(0) { $0 + $1.c }
        var y = [Float]()
        for n in 0..<xs[0].n {
            for x in xs { y += x.data[(n * x.c * x.h * x.w)..<((n + 1) * x.c * x.h * x.w)] }
        }
        return Tensor(n: xs[0].n, c: c, h: xs[0].h, w: xs[0].w, data: y)
    }

    /// [N, C, H, W] → [N, C·H·W] (NCHW order; the data does not move).
    public static func flatten(_ x: Tensor) -> Tensor {
        Tensor(n: x.n, c: x.c * x.h * x.w, data: x.data)
    }

    /// Row-wise softmax of [N, F].
    public static func softmax(_ x: Tensor) -> Tensor {
        var r = x
        let f = x.c * x.h * x.w
        for n in 0..<x.n {
            let row = x.data[(n * f)..<((n + 1) * f)]
            let m = row.max()!
            var s: Float = 0
            for i in 0..<f {
                r.data[n * f + i] = KernelMath.exp(x.data[n * f + i] - m)
                s += r.data[n * f + i]
            }
            for i in 0..<f { r.data[n * f + i] /= s }
        }
        return r
    }
}
