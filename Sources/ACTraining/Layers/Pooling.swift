/// Output length of a pooling window (PyTorch's `pooling_output_shape`): with `ceilMode` the
/// last window may start inside the right padding only if it starts before the padded end.
public func poolOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int, ceilMode: Bool) -> Int {
    var out = (input + 2 * padding - kernel + (ceilMode ? stride - 1 : 0)) / stride + 1
    if ceilMode && (out - 1) * stride >= input + padding { out -= 1 }
    return out
}

/// Max pooling over NCHW; padded positions never win. Backward routes each output gradient to
/// its arg-max (first maximum in row-major window order).
public final class MaxPool2d: Module {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let ceilMode: Bool
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        precondition(
            kernelSize > 0 && padding >= 0 && padding * 2 <= kernelSize,
            "MaxPool2d: padding must be at most half the kernel")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 4, "MaxPool2d: expected NCHW, got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = poolOutputSize(h, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        let ow = poolOutputSize(w, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        var y = Tensor(uninitializedShape: [n, c, oh, ow])
        if training {
            inputShape = x.shape
            if argmax.count != y.count { argmax = [Int32](repeating: 0, count: y.count) }
        }
        let k = kernelSize
        let s = stride
        let p = padding
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    let box = UnsafeSendableBox((xp.baseAddress!, yp.baseAddress!, ap.baseAddress!))
                    let stride2 =
                        (k == 2 || k == 3) && s == 2 && p == 0 && 2 * (oh - 1) + k <= h && 2 * (ow - 1) + k <= w
                    parallelChunks(n * c, minWork: x.count) { planes in
                        let (xp, yp, ap) = box.value
                        if stride2, let kernels = DirectConvKernelTable.active {
                            // The same scan as below, built for the CPU's ISA (ACTrainingKernels*).
                            kernels.maxPoolStride2(
                                xp, planes.lowerBound, planes.upperBound, h, w, k, oh, ow,
                                yp, training ? ap : nil, xp + n * c * h * w)
                            return
                        }
                        for plane in planes {
                            let src = xp + plane * h * w
                            var o = plane * oh * ow
                            if (k == 2 || k == 3) && s == 2 && p == 0 && 2 * (oh - 1) + k <= h && 2 * (ow - 1) + k <= w
                            {
                                // 2x2 / 3x3 stride-2 windows inside the input: the same first-maximum
                                // scan (strict >, from −∞, row-major window order), 8 windows per step.
                                let ninf = SIMD8<Float>(repeating: -.infinity)
                                let planeBase = Int32(plane * h * w)
                                let end = xp + n * c * h * w
                                for i in 0..<oh {
                                    let r0 = src + 2 * i * w
                                    var j = 0
                                    // Lanes read up to 2j + 17 of the last window row (unused lanes may
                                    // run into the next row, never past the buffer).
                                    while j + 8 <= ow && r0 + (k - 1) * w + 2 * j + 18 <= end {
                                        var best = ninf
                                        var off = SIMD8<Int32>(repeating: 0)
                                        for a in 0..<k {
                                            let ra = r0 + a * w + 2 * j
                                            let u = load16(ra)
                                            let cand0 = u.evenHalf
                                            let cand1 = u.oddHalf
                                            var m = cand0 .> best
                                            best.replace(with: cand0, where: m)
                                            off.replace(with: Int32(a * w), where: m)
                                            m = cand1 .> best
                                            best.replace(with: cand1, where: m)
                                            off.replace(with: Int32(a * w + 1), where: m)
                                            if k == 3 {
                                                let cand2 = load16(ra + 2).evenHalf
                                                m = cand2 .> best
                                                best.replace(with: cand2, where: m)
                                                off.replace(with: Int32(a * w + 2), where: m)
                                            }
                                        }
                                        store8(best, yp + o)
                                        if training {
                                            let base =
                                                SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
                                                &+ SIMD8<Int32>(repeating: planeBase + Int32(2 * i * w + 2 * j))
                                            UnsafeMutableRawPointer(ap + o).storeBytes(
                                                of: base &+ off, as: SIMD8<Int32>.self)
                                        }
                                        o += 8
                                        j += 8
                                    }
                                    while j < ow {
                                        let i0 = 2 * i * w + 2 * j
                                        var best = -Float.infinity
                                        var bi = i0
                                        for a in 0..<k {
                                            for b in 0..<k where src[i0 + a * w + b] > best {
                                                best = src[i0 + a * w + b]
                                                bi = i0 + a * w + b
                                            }
                                        }
                                        yp[o] = best
                                        if training { ap[o] = Int32(plane * h * w + bi) }
                                        o += 1
                                        j += 1
                                    }
                                }
                                continue
                            }
                            for i in 0..<oh {
                                let h0 = max(i * s - p, 0)
                                let h1 = min(i * s - p + k, h)
                                for j in 0..<ow {
                                    let w0 = max(j * s - p, 0)
                                    let w1 = min(j * s - p + k, w)
                                    var best = -Float.infinity
                                    var bi = h0 * w + w0
                                    for a in h0..<h1 {
                                        for b in w0..<w1 where src[a * w + b] > best {
                                            best = src[a * w + b]
                                            bi = a * w + b
                                        }
                                    }
                                    yp[o] = best
                                    if training { ap[o] = Int32(plane * h * w + bi) }
                                    o += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.count == argmax.count, "MaxPool2d.backward: no matching forward")
        var dx = Tensor(uninitializedShape: inputShape)
        // Every arg-max lies in its own output's input plane: planes are independent, so each
        // worker zeroes its own planes (in parallel, and cache-warm for the scatter).
        let planes = inputShape[0] * inputShape[1]
        let per = argmax.count / max(planes, 1)
        let planeSize = inputShape.count == 4 ? inputShape[2] * inputShape[3] : 0
        gradOutput.withUnsafeBufferPointer { g in
            argmax.withUnsafeBufferPointer { a in
                dx.withUnsafeMutableBufferPointer { d in
                    let box = UnsafeSendableBox((g.baseAddress!, a.baseAddress!, d.baseAddress!))
                    parallelChunks(planes, minWork: d.count) { ps in
                        let (g, a, d) = box.value
                        (d + ps.lowerBound * planeSize).update(repeating: 0, count: ps.count * planeSize)
                        for i in (ps.lowerBound * per)..<(ps.upperBound * per) { d[Int(a[i])] += g[i] }
                    }
                }
            }
        }
        return dx
    }
}

/// Average pooling over NCHW (PyTorch semantics): the divisor is the window size clipped to
/// the padded input when `countIncludePad`, else the number of real input pixels in it.
public final class AvgPool2d: Module {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let ceilMode: Bool
    public let countIncludePad: Bool
    private var inputShape: [Int] = []

    public init(
        kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
        countIncludePad: Bool = true
    ) {
        precondition(
            kernelSize > 0 && padding >= 0 && padding * 2 <= kernelSize,
            "AvgPool2d: padding must be at most half the kernel")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }

    /// Visits every (output index, window rows, window columns, 1/divisor).
    private func windows(h: Int, w: Int, _ body: (Int, Range<Int>, Range<Int>, Float) -> Void) {
        let oh = poolOutputSize(h, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        let ow = poolOutputSize(w, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        for i in 0..<oh {
            var h0 = i * stride - padding
            var h1 = min(h0 + kernelSize, h + padding)
            let ph = h1 - h0
            h0 = max(h0, 0)
            h1 = min(h1, h)
            for j in 0..<ow {
                var w0 = j * stride - padding
                var w1 = min(w0 + kernelSize, w + padding)
                let pw = w1 - w0
                w0 = max(w0, 0)
                w1 = min(w1, w)
                let div = countIncludePad ? ph * pw : (h1 - h0) * (w1 - w0)
                body(i * ow + j, h0..<h1, w0..<w1, 1 / Float(max(div, 1)))
            }
        }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 4, "AvgPool2d: expected NCHW, got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = poolOutputSize(h, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        let ow = poolOutputSize(w, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        var y = Tensor(uninitializedShape: [n, c, oh, ow])
        if training { inputShape = x.shape }
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                let box = UnsafeSendableBox((xp.baseAddress!, yp.baseAddress!))
                parallelChunks(n * c, minWork: x.count) { planes in
                    let (xp, yp) = box.value
                    for plane in planes {
                        let src = xp + plane * h * w
                        let dst = yp + plane * oh * ow
                        windows(h: h, w: w) { o, rows, cols, inv in
                            var s: Float = 0
                            for a in rows { for b in cols { s += src[a * w + b] } }
                            dst[o] = s * inv
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(inputShape.count == 4, "AvgPool2d.backward: no matching forward")
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let ohw = gradOutput.shape[2] * gradOutput.shape[3]
        var dx = Tensor(shape: inputShape)
        gradOutput.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { dp in
                let box = UnsafeSendableBox((gp.baseAddress!, dp.baseAddress!))
                parallelChunks(n * c, minWork: n * c * h * w) { planes in
                    let (gp, dp) = box.value
                    for plane in planes {
                        let g = gp + plane * ohw
                        let d = dp + plane * h * w
                        windows(h: h, w: w) { o, rows, cols, inv in
                            let v = g[o] * inv
                            for a in rows { for b in cols { d[a * w + b] += v } }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Global average pooling: [N, C, H, W] → [N, C, 1, 1] (`nn.AdaptiveAvgPool2d(1)`; follow it
/// with `Flatten` for [N, C]).
public final class GlobalAvgPool: Module {
    private var inputShape: [Int] = []
    public init() {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 4, "GlobalAvgPool: expected NCHW, got \(x.shape)")
        let hw = x.shape[2] * x.shape[3]
        let planes = x.shape[0] * x.shape[1]
        if training { inputShape = x.shape }
        var y = Tensor(uninitializedShape: [x.shape[0], x.shape[1], 1, 1])
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                let box = UnsafeSendableBox((xp.baseAddress!, yp.baseAddress!))
                parallelChunks(planes, minWork: x.count) { ps in
                    let (xp, yp) = box.value
                    for p in ps { yp[p] = vsum(xp + p * hw, hw) / Float(hw) }
                }
            }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let hw = inputShape[2] * inputShape[3]
        let planes = inputShape[0] * inputShape[1]
        var dx = Tensor(uninitializedShape: inputShape)
        gradOutput.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { d in
                let box = UnsafeSendableBox((gp.baseAddress!, d.baseAddress!))
                parallelChunks(planes, minWork: planes * hw) { ps in
                    let (gp, d) = box.value
                    for p in ps { (d + p * hw).update(repeating: gp[p] / Float(hw), count: hw) }
                }
            }
        }
        return dx
    }
}
