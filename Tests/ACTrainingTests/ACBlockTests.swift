import Testing

@testable import ACTraining

@Suite("ACBlock")
struct ACBlockTests {
    struct Case: CustomStringConvertible, Sendable {
        var cin: Int, cout: Int, k: Int, stride: Int, pad: Int, dilation: Int, groups: Int
        var mode: PaddingMode = .zeros, affine: Bool = true, h: Int = 7, w: Int = 6
        var description: String {
            "\(cin)->\(cout) k\(k) s\(stride) p\(pad) d\(dilation) g\(groups) \(mode) affine=\(affine)"
        }
    }

    static let cases: [Case] = [
        Case(cin: 3, cout: 4, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        Case(cin: 3, cout: 4, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 0, dilation: 1, groups: 1),  // crop 1
        Case(cin: 2, cout: 3, k: 5, stride: 2, pad: 1, dilation: 1, groups: 1, h: 8, w: 9),  // crop 1, stride 2
        Case(cin: 4, cout: 6, k: 3, stride: 1, pad: 1, dilation: 1, groups: 2),
        Case(cin: 4, cout: 4, k: 3, stride: 2, pad: 1, dilation: 1, groups: 4),  // depthwise
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 2, dilation: 2, groups: 1),  // dilation, no crop
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 1, dilation: 2, groups: 1, h: 8, w: 8),  // dilation, crop 1
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 3, dilation: 1, groups: 1),  // p > c
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1, affine: false),
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1, mode: .reflect),
        Case(cin: 2, cout: 3, k: 3, stride: 2, pad: 2, dilation: 1, groups: 1, mode: .replicate),
        Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 1, dilation: 2, groups: 1, mode: .circular, h: 8, w: 8),
    ]

    func make(_ c: Case) throws -> ACBlock {
        let b = try ACBlock(
            inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
            padding: c.pad, dilation: c.dilation, groups: c.groups, paddingMode: c.mode,
            useAffine: c.affine, seed: 5)
        // Non-trivial BN state so every term of the sum matters.
        for (i, bn) in [b.squareBN, b.verBN!, b.horBN!].enumerated() {
            bn.runningMean.value = GradientCheck.randomTensor([c.cout], seed: 40 + UInt64(i), scale: 0.1)
            bn.runningVar.value = Tensor(shape: [c.cout], data: (0..<c.cout).map { 0.5 + Float($0 + i) * 0.1 })
            if let w = bn.weight { w.value = GradientCheck.randomTensor([c.cout], seed: 50 + UInt64(i)) }
            if let bb = bn.bias { bb.value = GradientCheck.randomTensor([c.cout], seed: 60 + UInt64(i)) }
        }
        return b
    }

    @Test("shared-im2col forward equals three separate convolutions (eval and train)", arguments: cases)
    func sharedIm2colMatchesReference(_ c: Case) throws {
        let b = try make(c)
        let x = GradientCheck.randomTensor([2, c.cin, c.h, c.w], seed: 9)
        let ref = b.referenceForward(x, training: false)
        let y = b.forward(x, training: false)
        #expect(y.shape == ref.shape)
        #expect(y.maxAbsDifference(ref) <= 1e-5 * (1 + ref.maxAbs))
        let b2 = try make(c)
        let yt = b.forward(x, training: true)
        let rt = b2.referenceForward(x, training: true)
        #expect(yt.maxAbsDifference(rt) <= 1e-4 * (1 + rt.maxAbs))
        // Running statistics were updated identically.
        #expect(b.verBN!.runningVar.value.maxAbsDifference(b2.verBN!.runningVar.value) < 1e-5)
    }

    @Test("finite-difference gradients", arguments: cases)
    func gradients(_ c: Case) throws {
        let b = try make(c)
        GradientCheck.check(b, input: GradientCheck.randomTensor([2, c.cin, c.h, c.w], seed: 9), h: 1e-2)
    }

    @Test("several image chunks over two threads: same output as three convolutions, correct gradients")
    func chunked() throws {
        // 20x20 outputs: ConvEngine takes 3 images per chunk, so a batch of 5 is two chunks.
        let c = Case(cin: 3, cout: 4, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 20, w: 20)
        let b = try make(c)
        let x = GradientCheck.randomTensor([5, 3, 20, 20], seed: 4)
        let ref = b.referenceForward(x, training: false)
        #expect(b.forward(x, training: false).maxAbsDifference(ref) <= 1e-5 * (1 + ref.maxAbs))
        GradientCheck.check(b, input: x, h: 1e-2, samples: 8)
        let conv = Conv2d(3, 4, kernelSize: 3, padding: 1, seed: 2)
        let y = conv.forward(x, training: false)
        #expect(y.maxAbsDifference(ScalarReference.conv2d(x, conv)) <= 1e-5 * (1 + y.maxAbs))
        GradientCheck.check(conv, input: x, h: 1e-2, samples: 8)
    }

    @Test(
        "ablation: one BatchNorm after the sum",
        arguments: [
            Case(cin: 3, cout: 4, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Case(cin: 2, cout: 4, k: 5, stride: 2, pad: 1, dilation: 1, groups: 2),
            Case(cin: 2, cout: 3, k: 3, stride: 1, pad: 1, dilation: 2, groups: 1, h: 8, w: 8),
        ])
    func afterSum(_ c: Case) throws {
        func make() throws -> ACBlock {
            try ACBlock(
                inputChannels: c.cin, outputChannels: c.cout, kernelSize: c.k, stride: c.stride,
                padding: c.pad, dilation: c.dilation, groups: c.groups, normalization: .afterSum, seed: 5)
        }
        let b = try make()
        let b2 = try make()
        #expect(b.verBN == nil && b.horBN == nil)
        #expect(
            Set(b.namedParameters().map(\.0)) == [
                "square_conv.weight", "ver_conv.weight", "hor_conv.weight",
                "bn.weight", "bn.bias",
            ])
        let x = GradientCheck.randomTensor([2, c.cin, c.h, c.w], seed: 9)
        let yt = b.forward(x, training: true)
        let rt = b2.referenceForward(x, training: true)
        #expect(yt.maxAbsDifference(rt) <= 1e-4 * (1 + rt.maxAbs))
        let y = b.forward(x, training: false)
        let r = b.referenceForward(x, training: false)
        #expect(y.maxAbsDifference(r) <= 1e-5 * (1 + r.maxAbs))
        GradientCheck.check(b, input: x, h: 1e-2)
        // (The gradient check ran training forwards: take the eval output again.)
        let ye = b.forward(x, training: false)
        let fused = try FusedGraph(b)
        #expect(fused.forward(x).maxAbsDifference(ye) <= 1e-4 * (1 + ye.maxAbs))
    }

    @Test(
        "ACBReLU equals Sequential(ACBlock, ReLU): names, forward, gradients, fusion",
        arguments: [
            Case(cin: 3, cout: 4, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 20, w: 20),
            Case(cin: 2, cout: 4, k: 5, stride: 2, pad: 0, dilation: 1, groups: 2, h: 9, w: 9),
        ])
    func fusedReLU(_ c: Case) throws {
        let fused = ACBReLU(try make(c))
        let plain = Sequential([try make(c), ReLU()])
        #expect(fused.namedParameters().map(\.0) == plain.namedParameters().map(\.0))
        #expect(fused.namedBuffers().map(\.0) == plain.namedBuffers().map(\.0))
        let x = GradientCheck.randomTensor([5, c.cin, c.h, c.w], seed: 3)
        let yf = fused.forward(x, training: true)
        let yp = plain.forward(x, training: true)
        #expect(yf.maxAbsDifference(yp) <= 1e-4 * (1 + yp.maxAbs))
        let r = GradientCheck.randomTensor(yp.shape, seed: 4)
        let df = fused.backward(r)
        let dp = plain.backward(r)
        #expect(df.maxAbsDifference(dp) <= 1e-4 * (1 + dp.maxAbs))
        for ((n, p), (_, q)) in zip(fused.namedParameters(), plain.namedParameters()) {
            #expect(p.grad.maxAbsDifference(q.grad) <= 1e-3 * (1 + q.grad.maxAbs), "\(n)")
        }
        let ye = fused.forward(x, training: false)
        #expect(ye.maxAbsDifference(plain.forward(x, training: false)) <= 1e-4 * (1 + ye.maxAbs))
        let g = try FusedGraph(fused)
        #expect(g.forward(x).maxAbsDifference(ye) <= 1e-4 * (1 + ye.maxAbs))
        // (Gradients are checked against the unfused pair above; ACBlock and ReLU each have
        // finite-difference checks of their own, which avoid ReLU kinks.)
    }

    @Test("even kernels are rejected with a clear error")
    func evenKernel() {
        #expect(throws: ACBlockError.evenKernel(4)) {
            try ACBlock(inputChannels: 2, outputChannels: 2, kernelSize: 4, padding: 1)
        }
        #expect(ACBlockError.evenKernel(4).description.contains("odd"))
    }

    @Test("PyTorch-style names")
    func names() throws {
        let b = try ACBlock(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1)
        let p = b.namedParameters(prefix: "stage1.0.conv1").map { $0.0 }
        #expect(p.contains("stage1.0.conv1.square_conv.weight"))
        #expect(p.contains("stage1.0.conv1.hor_bn.bias"))
        let s = b.namedBuffers().map { $0.0 }
        #expect(s.contains("ver_bn.running_var"))
        #expect(b.verConv!.weight.value.shape == [4, 2, 3, 1])
        #expect(b.horConv!.weight.value.shape == [4, 2, 1, 3])
    }
}
