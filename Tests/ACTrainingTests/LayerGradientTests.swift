import Testing

@testable import ACTraining

@Suite("Layer gradients (finite differences)")
struct LayerGradientTests {
    struct ConvCase: CustomStringConvertible, Sendable {
        var cin: Int, cout: Int, k: (Int, Int), stride: (Int, Int), pad: Padding2D
        var dilation: (Int, Int), groups: Int, mode: PaddingMode, h: Int, w: Int
        var description: String {
            "\(cin)->\(cout) k\(k) s\(stride) p(\(pad.top),\(pad.left),\(pad.bottom),\(pad.right)) d\(dilation) g\(groups) \(mode) \(h)x\(w)"
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(
            cin: 3, cout: 5, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1, mode: .zeros,
            h: 6, w: 7),
        ConvCase(
            cin: 4, cout: 6, k: (3, 3), stride: (2, 2), pad: .symmetric(1), dilation: (1, 1), groups: 2, mode: .zeros,
            h: 7, w: 6),
        ConvCase(
            cin: 2, cout: 3, k: (3, 3), stride: (1, 1), pad: .symmetric(2), dilation: (2, 2), groups: 1, mode: .zeros,
            h: 6, w: 6),
        ConvCase(
            cin: 2, cout: 3, k: (3, 2), stride: (1, 2), pad: Padding2D(top: 0, left: 2, bottom: 1, right: 0),
            dilation: (1, 1), groups: 1, mode: .zeros, h: 5, w: 7),
        ConvCase(
            cin: 2, cout: 3, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1, mode: .reflect,
            h: 5, w: 6),
        ConvCase(
            cin: 2, cout: 3, k: (3, 3), stride: (2, 1), pad: .symmetric(2), dilation: (1, 1), groups: 1,
            mode: .replicate, h: 5, w: 6),
        ConvCase(
            cin: 2, cout: 2, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 2), groups: 2,
            mode: .circular, h: 5, w: 6),
        ConvCase(
            cin: 4, cout: 4, k: (1, 1), stride: (2, 2), pad: .zero, dilation: (1, 1), groups: 1, mode: .zeros, h: 5,
            w: 5),
        // Direct-convolution path (stride 1, "same"): several 8-channel output and input-gradient
        // blocks with partial last blocks, a partial 4-row weight-gradient tile, 5x5 taps.
        ConvCase(
            cin: 10, cout: 13, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1, mode: .zeros,
            h: 6, w: 7),
        ConvCase(
            cin: 9, cout: 17, k: (5, 5), stride: (1, 1), pad: .symmetric(2), dilation: (1, 1), groups: 1, mode: .zeros,
            h: 7, w: 5),
    ]

    @Test("Conv2d", arguments: convCases)
    func conv(_ c: ConvCase) {
        let m = Conv2d(
            inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
            padding: c.pad, dilation: c.dilation, groups: c.groups, bias: true,
            paddingMode: c.mode, seed: 3)
        GradientCheck.check(m, input: GradientCheck.randomTensor([2, c.cin, c.h, c.w], seed: 1))
    }

    @Test("Conv2d matches a direct scalar convolution", arguments: convCases)
    func convOracle(_ c: ConvCase) {
        let m = Conv2d(
            inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
            padding: c.pad, dilation: c.dilation, groups: c.groups, bias: true,
            paddingMode: c.mode, seed: 3)
        let x = GradientCheck.randomTensor([2, c.cin, c.h, c.w], seed: 1)
        let y = m.forward(x, training: false)
        let ref = ScalarReference.conv2d(x, m)
        #expect(y.shape == ref.shape)
        #expect(y.maxAbsDifference(ref) <= 1e-5 * (1 + ref.maxAbs))
    }

    /// Input gradients on images large enough for one image per engine chunk (and a partial
    /// last chunk): the adjoint identity <conv(x), dy> = <x, dx> with the bias off.
    @Test(
        "Conv2d input gradient is the adjoint of forward (large images, chunked)",
        arguments: [
            ConvCase(
                cin: 3, cout: 5, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1,
                mode: .zeros, h: 30, w: 29),
            ConvCase(
                cin: 4, cout: 2, k: (5, 5), stride: (1, 1), pad: .symmetric(2), dilation: (1, 1), groups: 1,
                mode: .zeros, h: 12, w: 13),
            ConvCase(
                cin: 2, cout: 3, k: (3, 2), stride: (1, 1), pad: Padding2D(top: 0, left: 1, bottom: 2, right: 0),
                dilation: (2, 1), groups: 1, mode: .zeros, h: 33, w: 31),
            ConvCase(
                cin: 2, cout: 3, k: (5, 5), stride: (1, 1), pad: .zero, dilation: (1, 1), groups: 1, mode: .zeros,
                h: 32, w: 32),
        ])
    func convAdjoint(_ c: ConvCase) {
        for batch in [1, 3, 17] {
            let m = Conv2d(
                inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
                padding: c.pad, dilation: c.dilation, groups: c.groups, bias: false,
                paddingMode: c.mode, seed: 3)
            let x = GradientCheck.randomTensor([batch, c.cin, c.h, c.w], seed: 1)
            let y = m.forward(x, training: true)
            let dy = GradientCheck.randomTensor(y.shape, seed: 2)
            let dx = m.backward(dy)
            #expect(dx.shape == x.shape)
            var lhs = 0.0
            var rhs = 0.0
            var scale = 0.0
            for i in 0..<y.count {
                lhs += Double(y.data[i]) * Double(dy.data[i])
                scale += abs(Double(y.data[i] * dy.data[i]))
            }
            for i in 0..<x.count { rhs += Double(x.data[i]) * Double(dx.data[i]) }
            #expect(abs(lhs - rhs) <= 1e-5 * scale, "\(c) batch \(batch): \(lhs) vs \(rhs)")
        }
    }

    /// Weight gradients of the direct path (output channels in the lanes: 32- and 16-channel
    /// tiles, a partial last vector, sources padded to whole 12-source tiles, several images
    /// per chunk, dilation and asymmetric padding, with and without the input gradient)
    /// against a float64 scalar reference.
    @Test(
        "Conv2d weight gradient matches a scalar reference (direct path shapes)",
        arguments: [
            ConvCase(
                cin: 5, cout: 40, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1,
                mode: .zeros, h: 9, w: 11),
            ConvCase(
                cin: 3, cout: 17, k: (5, 5), stride: (1, 1), pad: .symmetric(2), dilation: (1, 1), groups: 1,
                mode: .zeros, h: 8, w: 6),
            ConvCase(
                cin: 1, cout: 8, k: (3, 3), stride: (1, 1), pad: .symmetric(2), dilation: (2, 2), groups: 1,
                mode: .zeros, h: 7, w: 7),
            ConvCase(
                cin: 3, cout: 20, k: (3, 3), stride: (1, 1), pad: .symmetric(1), dilation: (1, 1), groups: 1,
                mode: .zeros, h: 6, w: 6),
            ConvCase(
                cin: 2, cout: 33, k: (3, 2), stride: (1, 1), pad: Padding2D(top: 0, left: 1, bottom: 2, right: 0),
                dilation: (2, 1), groups: 1, mode: .zeros, h: 13, w: 5),
        ])
    func convWeightGradOracle(_ c: ConvCase) {
        for (batch, inputGradient) in [(1, true), (5, true), (4, false)] {
            let m = Conv2d(
                inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
                padding: c.pad, dilation: c.dilation, groups: 1, bias: false,
                paddingMode: .zeros, seed: 3)
            m.needsInputGradient = inputGradient
            let x = GradientCheck.randomTensor([batch, c.cin, c.h, c.w], seed: 1)
            let y = m.forward(x, training: true)
            let dy = GradientCheck.randomTensor(y.shape, seed: 2)
            _ = m.backward(dy)
            let (oh, ow) = (y.shape[2], y.shape[3])
            var worst = 0.0
            var scale = 0.0
            for o in 0..<c.cout {
                for ci in 0..<c.cin {
                    for kh in 0..<c.k.0 {
                        for kw in 0..<c.k.1 {
                            var ref = 0.0
                            for n in 0..<batch {
                                for i in 0..<oh {
                                    for j in 0..<ow {
                                        let ih = i - c.pad.top + kh * c.dilation.0
                                        let iw = j - c.pad.left + kw * c.dilation.1
                                        guard ih >= 0, ih < c.h, iw >= 0, iw < c.w else { continue }
                                        ref +=
                                            Double(dy.data[((n * c.cout + o) * oh + i) * ow + j])
                                            * Double(x.data[((n * c.cin + ci) * c.h + ih) * c.w + iw])
                                    }
                                }
                            }
                            let got = Double(m.weight.grad.data[((o * c.cin + ci) * c.k.0 + kh) * c.k.1 + kw])
                            worst = max(worst, abs(got - ref))
                            scale = max(scale, abs(ref))
                        }
                    }
                }
            }
            #expect(worst <= 1e-5 * (1 + scale), "\(c) batch \(batch): max |Δ| \(worst), scale \(scale)")
        }
    }

    @Test("BatchNorm2d", arguments: [true, false])
    func batchNorm(affine: Bool) {
        let m = BatchNorm2d(3, affine: affine, gammaInit: 0.7)
        if affine { m.bias!.value = GradientCheck.randomTensor([3], seed: 5) }
        GradientCheck.check(m, input: GradientCheck.randomTensor([3, 3, 4, 5], seed: 2), h: 1e-2)
    }

    @Test("BatchNorm2d running statistics follow PyTorch (momentum 0.1, unbiased var)")
    func batchNormRunningStats() {
        let m = BatchNorm2d(1)
        let x = Tensor(shape: [2, 1, 1, 2], data: [1, 2, 3, 6])
        _ = m.forward(x, training: true)
        // mean 3, biased var 3.5, unbiased 14/3.
        #expect(abs(m.runningMean.value.data[0] - 0.3) < 1e-6)
        #expect(abs(m.runningVar.value.data[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6)
        let y = m.forward(x, training: false)
        let s = 1 / (m.runningVar.value.data[0] + 1e-5).squareRoot()
        #expect(abs(y.data[3] - (6 - 0.3) * s) < 1e-5)
    }

    /// MaxPool 2x2 (the vectorised path for rows of ≥ 8 windows, odd sizes, ties, −∞ and NaN)
    /// against a scalar first-maximum reference, values and argmax routing.
    @Test("MaxPool2d 2x2 / 3x3 stride 2 match a scalar first-maximum reference", arguments: [2, 3])
    func maxPool2x2(k: Int) {
        let (n, c, h, w) = (2, 3, 19, 37)
        var x = GradientCheck.randomTensor([n, c, h, w], seed: 9)
        for i in stride(from: 0, to: x.count, by: 7) { x.data[i] = 0.5 }  // ties
        x.data[3] = -.infinity
        x.data[4] = -.infinity
        x.data[3 + w] = -.infinity
        x.data[4 + w] = -.infinity
        x.data[40] = .nan
        let m = MaxPool2d(kernelSize: k, stride: 2)
        let y = m.forward(x, training: true)
        let (oh, ow) = ((h - k) / 2 + 1, (w - k) / 2 + 1)
        #expect(y.shape == [n, c, oh, ow])
        let g = GradientCheck.randomTensor(y.shape, seed: 10)
        let dx = m.backward(g)
        var ref = [Float](repeating: 0, count: x.count)
        var mismatches = 0
        for p in 0..<(n * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Float.infinity
                    var bi = p * h * w + 2 * i * w + 2 * j
                    for a in 2 * i..<2 * i + k {
                        for b in 2 * j..<2 * j + k where x.data[p * h * w + a * w + b] > best {
                            best = x.data[p * h * w + a * w + b]
                            bi = p * h * w + a * w + b
                        }
                    }
                    let o = (p * oh + i) * ow + j
                    if !(y.data[o] == best || (y.data[o].isNaN && best.isNaN)) { mismatches += 1 }
                    ref[bi] += g.data[o]
                }
            }
        }
        #expect(mismatches == 0)
        #expect(dx.data == ref)
    }

    @Test("ReLU, pools, GAP, Flatten, Linear")
    func simpleLayers() {
        let x = GradientCheck.randomTensor([2, 3, 7, 6], seed: 4)
        GradientCheck.check(ReLU(), input: x, h: 1e-3)
        GradientCheck.check(MaxPool2d(kernelSize: 2), input: x, h: 1e-3)
        GradientCheck.check(MaxPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true), input: x, h: 1e-3)
        GradientCheck.check(AvgPool2d(kernelSize: 3, stride: 2), input: x)
        GradientCheck.check(AvgPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true), input: x)
        GradientCheck.check(
            AvgPool2d(kernelSize: 2, stride: 2, padding: 1, ceilMode: true, countIncludePad: false), input: x)
        GradientCheck.check(GlobalAvgPool(), input: x)
        GradientCheck.check(Sequential([Flatten(), Linear(126, 5, seed: 2)]), input: x)
    }

    @Test("Pool output sizes follow PyTorch (floor and ceil)")
    func poolSizes() {
        #expect(poolOutputSize(32, kernel: 3, stride: 2, padding: 0, ceilMode: false) == 15)
        #expect(poolOutputSize(32, kernel: 3, stride: 2, padding: 0, ceilMode: true) == 16)
        #expect(poolOutputSize(15, kernel: 3, stride: 2, padding: 0, ceilMode: false) == 7)
        #expect(poolOutputSize(6, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 4)
        #expect(poolOutputSize(5, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 3)
    }

    @Test("AvgPool2d divisor matches PyTorch at a ceil-mode edge")
    func avgPoolDivisor() {
        // 1x1x3x3 ones, k2 s2 ceil: windows at the edge hold fewer pixels;
        // count_include_pad=true still divides by the window clipped to the padded input.
        let x = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        let y = AvgPool2d(kernelSize: 2, stride: 2, ceilMode: true).forward(x, training: false)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.data == [1, 1, 1, 1])
        let z = AvgPool2d(kernelSize: 2, stride: 2, padding: 1, ceilMode: false).forward(x, training: false)
        #expect(z.data == [0.25, 0.5, 0.5, 1])
    }

    /// Stride 2 takes the im2col path, stride 1 the direct path (BN backward fused into the
    /// convolution's per-image dZ), with a partial last 16-channel vector and, for a first layer,
    /// no input gradient. (The finite-difference input is one whose outputs stay clear of the
    /// ReLU kink at h = 1e-3: seed 1 puts a pre-activation of channel 17 within h of it.)
    @Test(
        "ConvBNReLU equals Sequential(Conv2d, BatchNorm2d, ReLU): names, forward, gradients",
        arguments: [(2, 4, true), (1, 20, true), (1, 20, false)])
    func convBNReLU(stride: Int, cout: Int, inputGradient: Bool) {
        func parts() -> (Conv2d, BatchNorm2d) {
            let bn = BatchNorm2d(cout, gammaInit: 0.8)
            bn.bias!.value = GradientCheck.randomTensor([cout], seed: 3, scale: 0.3)
            let c = Conv2d(3, cout, kernelSize: 3, stride: stride, padding: 1, bias: false, seed: 6)
            c.needsInputGradient = inputGradient
            return (c, bn)
        }
        let (c1, b1) = parts()
        let (c2, b2) = parts()
        let fused = ConvBNReLU(conv: c1, bn: b1)
        let plain = Sequential([c2, b2, ReLU()])
        #expect(fused.namedParameters().map(\.0) == plain.namedParameters().map(\.0))
        #expect(fused.namedBuffers().map(\.0) == plain.namedBuffers().map(\.0))
        let x = GradientCheck.randomTensor([5, 3, 21, 21], seed: 2)  // several image chunks
        let o = (21 - 1) / stride + 1
        let r = GradientCheck.randomTensor([5, cout, o, o], seed: 8)
        let yf = fused.forward(x, training: true)
        let yp = plain.forward(x, training: true)
        #expect(yf.maxAbsDifference(yp) <= 1e-4 * (1 + yp.maxAbs))
        let df = fused.backward(r)
        let dp = plain.backward(r)
        #expect(df.maxAbsDifference(dp) <= 1e-4 * (1 + dp.maxAbs))
        for ((n, p), (_, q)) in zip(fused.namedParameters(), plain.namedParameters()) {
            #expect(p.grad.maxAbsDifference(q.grad) <= 1e-3 * (1 + q.grad.maxAbs), "\(n)")
        }
        #expect(b1.runningVar.value.maxAbsDifference(b2.runningVar.value) < 1e-5)
        let ye = fused.forward(x, training: false)
        let pe = plain.forward(x, training: false)
        #expect(ye.maxAbsDifference(pe) <= 1e-4 * (1 + pe.maxAbs))
        if inputGradient {
            GradientCheck.check(fused, input: GradientCheck.randomTensor([2, 3, 6, 6], seed: 2), h: 1e-3)
        }
    }

    @Test("Residual BasicBlock, plain and ACB, with projection")
    func basicBlock() throws {
        let x = GradientCheck.randomTensor([2, 3, 6, 6], seed: 8)
        GradientCheck.check(try BasicBlock(3, 4, stride: 2, acb: false, seed: 1), input: x, h: 3e-3)
        GradientCheck.check(try BasicBlock(3, 3, stride: 1, acb: true, seed: 1), input: x, h: 5e-4)
    }

    @Test("Softmax cross-entropy gradient, with label smoothing", arguments: [Float(0), 0.1])
    func crossEntropy(smoothing: Float) {
        let ce = SoftmaxCrossEntropy(labelSmoothing: smoothing)
        var logits = GradientCheck.randomTensor([4, 5], seed: 3, scale: 2)
        let labels = [0, 3, 4, 1]
        let (_, grad, _) = ce(logits, labels: labels)
        for i in 0..<logits.count {
            let h: Float = 1e-2
            logits.data[i] += h
            let lp = Double(ce(logits, labels: labels).loss)
            logits.data[i] -= 2 * h
            let lm = Double(ce(logits, labels: labels).loss)
            logits.data[i] += h
            #expect(abs((lp - lm) / (2 * Double(h)) - Double(grad.data[i])) < 2e-3)
        }
    }

    @Test("Dropout: identity in eval, inverted scaling and matching backward mask in training")
    func dropout() {
        let d = Dropout(p: 0.5, seed: 1)
        let x = Tensor(shape: [1, 1000], repeating: 1)
        #expect(d.forward(x, training: false) == x)
        let y = d.forward(x, training: true)
        let kept = y.data.filter { $0 != 0 }
        #expect(kept.allSatisfy { $0 == 2 })
        #expect(kept.count > 400 && kept.count < 600)
        #expect(d.backward(x) == y)
    }
}

/// Direct scalar convolution: the oracle for the im2col + SGEMM path (float64 accumulation).
enum ScalarReference {
    static func conv2d(_ x: Tensor, _ m: Conv2d) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let g = m.geometry(for: x)
        let (oh, ow) = (g.outH, g.outW)
        let o = m.outputChannels
        let cg = c / m.groups
        let og = o / m.groups
        let (kh, kw) = m.kernelSize
        var y = Tensor(shape: [n, o, oh, ow])
        for b in 0..<n {
            for oc in 0..<o {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s = Double(m.bias?.value.data[oc] ?? 0)
                        let grp = oc / og
                        for ci in 0..<cg {
                            for a in 0..<kh {
                                for bb in 0..<kw {
                                    let ih = sourceIndex(
                                        i * m.stride.height - m.padding.top + a * m.dilation.height, h, m.paddingMode)
                                    let iw = sourceIndex(
                                        j * m.stride.width - m.padding.left + bb * m.dilation.width, w, m.paddingMode)
                                    if ih < 0 || iw < 0 { continue }
                                    s += Double(x[b, grp * cg + ci, ih, iw]) * Double(m.weight.value[oc, ci, a, bb])
                                }
                            }
                        }
                        y[b, oc, i, j] = Float(s)
                    }
                }
            }
        }
        return y
    }
}
