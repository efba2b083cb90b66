/// Conv2d (no bias) → BatchNorm2d → ReLU computed as one layer, with the parameter names of
/// `Sequential([Conv2d, BatchNorm2d, ReLU])` ("0.weight", "1.weight", "1.bias",
/// "1.running_mean", "1.running_var"), so checkpoints are interchangeable with that form.
///
/// Same arithmetic as the three modules; fewer passes over memory: the BN batch moments are
/// gathered inside the convolution's GEMM loop, normalisation + ReLU + the NCHW layout change
/// are one pass, and backward applies the ReLU mask while changing layout. As for every
/// module, no other forward of this layer may run between a training forward and its backward
/// (the pre-BN activations live in the convolution's scratch buffer).
public final class ConvBNReLU: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d
    private var output = Tensor(shape: [0])

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
        let O = conv.outputChannels, P = g.columns, ohw = g.outH * g.outW
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
        if training { output = y }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.shape == output.shape, "ConvBNReLU.backward: no matching forward")
        let (n, O, oh, ow) = (output.shape[0], output.shape[1], output.shape[2], output.shape[3])
        let ohw = oh * ow, P = n * ohw
        let Lz = ChannelLayout(channels: O, outer: n, inner: ohw, channelStride: P, outerStride: ohw)
        let Ly = ChannelLayout(channels: O, outer: n, inner: ohw, channelStride: ohw, outerStride: O * ohw)
        let dz = conv.gradientBufferCN
        // ReLU mask + NCHW → CN, then BN backward in place (dz overwrites the masked dy).
        var dy = [Float](unsafeUninitializedCapacity: O * P) { _, c in c = O * P }
        output.withUnsafeBufferPointer { y in
            gradOutput.withUnsafeBufferPointer { g in
                dy.withUnsafeMutableBufferPointer { d in
                    maskedTranspose(y: y.baseAddress!, g: g.baseAddress!, Ly, d.baseAddress!, Lz)
                }
            }
        }
        // The conv's buffer still holds the pre-BN activations of the training forward.
        dy.withUnsafeBufferPointer { d in
            bn.backwardCore(x: dz, dy: d.baseAddress!, dx: dz, Lz)
        }
        output = Tensor(shape: [0])
        return conv.backwardCN()
    }
}
