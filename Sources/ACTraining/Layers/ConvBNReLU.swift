/// Conv2d (no bias) → BatchNorm2d → ReLU computed as one layer, with the parameter names of
/// `Sequential([Conv2d, BatchNorm2d, ReLU])` ("0.weight", "1.weight", "1.bias",
/// "1.running_mean", "1.running_var"), so checkpoints are interchangeable with that form.
///
/// Same arithmetic as the three modules; fewer passes over memory: the BN batch moments are
/// gathered inside the convolution's GEMM loop, normalisation + ReLU + the NCHW layout change
/// are one pass; backward gathers the BN sums behind the ReLU mask in one pass and computes
/// dz image by image inside the convolution's backward (no dy or dz tensor). As for every
/// module, no other forward of this layer may run between a training forward and its backward
/// (the pre-BN activations live in the convolution's scratch buffer).
public final class ConvBNReLU: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d
    private var output = Tensor(shape: [0])
    /// The BN affine map of the last training forward: backward recomputes the ReLU mask from z.
    private var forwardScale: [Float] = []
    private var forwardShift: [Float] = []

    public init(conv: Conv2d, bn: BatchNorm2d) {
        precondition(conv.bias == nil, "ConvBNReLU: the convolution must not have a bias")
        precondition(conv.outputChannels == bn.channels, "ConvBNReLU: channel mismatch")
        self.conv = conv
        self.bn = bn
    }

    public var children: [(String, any Module)] { [("0", conv), ("1", bn)] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let shift = training ? bn.runningMean.value.data : nil
        let (g, z, moments) = conv.forwardCN(x, training: training, statsShift: shift)
        let O = conv.outputChannels
        let P = g.columns
        let ohw = g.outH * g.outW
        let Lz = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: P, outerStride: ohw)
        let Ly = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: ohw, outerStride: O * ohw)
        let coef: (scale: [Float], shift: [Float])
        if let moments, let shift {
            coef = bn.coefficients(shift: shift, sum: moments.sum, sumSquares: moments.sumSquares, count: P)
        } else {
            coef = bn.coefficients(z, Lz, training: false)
        }
        var y = Tensor(uninitializedShape: [g.batch, O, g.outH, g.outW])
        y.withUnsafeMutableBufferPointer { d in
            channelAffineReLU(z, Lz, scale: coef.scale, shift: coef.shift, d.baseAddress!, Ly)
        }
        if training {
            output = y
            forwardScale = coef.scale
            forwardShift = coef.shift
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.shape == output.shape, "ConvBNReLU.backward: no matching forward")
        let (n, O, oh, ow) = (output.shape[0], output.shape[1], output.shape[2], output.shape[3])
        let ohw = oh * ow
        let P = n * ohw
        let Lz = ChannelLayout(channels: O, outer: n, inner: ohw, channelStride: P, outerStride: ohw)
        let Ly = ChannelLayout(channels: O, outer: n, inner: ohw, channelStride: ohw, outerStride: O * ohw)
        // The conv's buffer still holds the pre-BN activations z of the training forward.
        let z = conv.gradientBufferCN
        // BN backward behind the ReLU mask (recomputed from z and the forward's affine map, so y
        // is not read), without materialising dy: one pass for the sums, then
        // dz = k·(dy − c1 − (z − μ)·c2) image by image inside the convolution's backward.
        let sdy = UnsafeMutablePointer<Double>.allocate(capacity: 2 * O)
        defer { sdy.deallocate() }
        let sdyx = sdy + O
        let a = forwardScale
        let b = forwardShift
        let dx = gradOutput.withUnsafeBufferPointer { gb in
            let g = gb.baseAddress!
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    bn.mean.withUnsafeBufferPointer { m in
                        maskedGradMoments(
                            g: g, Ly, z: z, Lz, scale: ap.baseAddress!, shift: bp.baseAddress!,
                            mean: m.baseAddress!, sdy: sdy, sdyx: sdyx)
                    }
                }
            }
            let (k, c1, c2) = bn.backwardCoefficients(sdy: sdy, sdyx: sdyx, count: P)
            let mu = bn.mean
            return conv.backwardCN(dzImage: { img, dst, ld in
                for o in 0..<O {
                    vmaskedBatchNormInputGrad(
                        g + (img * O + o) * ohw, z + o * P + img * ohw, dst + o * ld, ohw,
                        a: a[o], b: b[o], k: k[o], c1: c1[o], mu: mu[o], c2: c2[o])
                }
            })
        }
        output = Tensor(shape: [0])
        return dx
    }
}
