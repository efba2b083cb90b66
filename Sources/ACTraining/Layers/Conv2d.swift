/// 2-D convolution, NCHW in and out, weight OIHW
/// (`[outputChannels, inputChannels / groups, kernelH, kernelW]`), optional bias `[O]`.
///
/// Computed as im2col + one SGEMM per group (OpenBLAS), in cache-sized chunks of images
/// (`ConvEngine`): forward Y = W·col, backward dW += dY·colᵀ, dcol = Wᵀ·dY then col2im.
/// Cost: O·(C/g)·KH·KW·N·OH·OW MACs per pass. Supports stride, per-side padding in any
/// `PaddingMode`, dilation and groups.
/// Initialisation: PyTorch's default (uniform ±1/√fan_in for weight and bias).
public final class Conv2d: Module {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: (height: Int, width: Int)
    public let stride: (height: Int, width: Int)
    public let padding: Padding2D
    public let dilation: (height: Int, width: Int)
    public let groups: Int
    public let paddingMode: PaddingMode
    /// OIHW.
    public let weight: Parameter
    /// `[O]`, or nil for a convolution without bias.
    public let bias: Parameter?
    /// Set to false for a first layer: backward then skips dL/dinput (returns zeros).
    public var needsInputGradient = true

    // Cached between forward and backward; scratch reused across iterations.
    private var geometry: ConvGeometry?
    private var cachedInput = Tensor(shape: [0])
    private let engine = ConvEngine()
    private let permutedWeight = ScratchBuffer()
    private let gemmOut = ScratchBuffer()
    private let permutedGrad = ScratchBuffer()

    public init(
        inputChannels: Int, outputChannels: Int,
        kernelSize: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2D = .zero,
        dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
        paddingMode: PaddingMode = .zeros, seed: UInt64 = 0
    ) {
        precondition(inputChannels > 0 && outputChannels > 0, "Conv2d: channel counts must be positive")
        precondition(
            inputChannels % groups == 0 && outputChannels % groups == 0,
            "Conv2d: channels \(inputChannels)->\(outputChannels) not divisible by groups \(groups)")
        precondition(kernelSize.0 > 0 && kernelSize.1 > 0, "Conv2d: kernel size must be positive")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = (kernelSize.0, kernelSize.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.dilation = (dilation.0, dilation.1)
        self.groups = groups
        self.paddingMode = paddingMode
        var rng = SeededGenerator(seed: seed)
        let fanIn = inputChannels / groups * kernelSize.0 * kernelSize.1
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Parameter(
            .uniform(
                [outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1],
                bound: bound, using: &rng))
        self.bias = bias ? Parameter(.uniform([outputChannels], bound: bound, using: &rng), isBias: true) : nil
    }

    /// Square-kernel convenience: `kernelSize`×`kernelSize`, symmetric `padding`.
    public convenience init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
        paddingMode: PaddingMode = .zeros, seed: UInt64 = 0
    ) {
        self.init(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
            padding: .symmetric(padding), dilation: (dilation, dilation), groups: groups,
            bias: bias, paddingMode: paddingMode, seed: seed)
    }

    public var localParameters: [(String, Parameter)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    func geometry(for x: Tensor) -> ConvGeometry {
        precondition(
            x.rank == 4 && x.shape[1] == inputChannels,
            "Conv2d: expected [N, \(inputChannels), H, W], got \(x.shape)")
        let g = ConvGeometry(
            batch: x.shape[0], channels: inputChannels, height: x.shape[2], width: x.shape[3],
            kernelH: kernelSize.height, kernelW: kernelSize.width,
            strideH: stride.height, strideW: stride.width,
            dilationH: dilation.height, dilationW: dilation.width,
            padding: padding, groups: groups, mode: paddingMode)
        g.validate()
        return g
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let (g, z, _) = forwardCN(x, training: training, statsShift: nil)
        let O = outputChannels
        let ohw = g.outH * g.outW
        var y = Tensor(uninitializedShape: [g.batch, O, g.outH, g.outW])
        y.withUnsafeMutableBufferPointer { d in
            transposeCNtoNC(z, d.baseAddress!, n: g.batch, c: O, inner: ohw)
        }
        return y
    }

    /// Forward into the layer's [O, N·OH·OW] buffer (valid until the next call), optionally
    /// gathering per-channel moments of the output shifted by `statsShift` (for a following
    /// BatchNorm, see `ConvBNReLU`). Caches the input for `backwardCN` when training.
    func forwardCN(
        _ x: Tensor, training: Bool, statsShift: [Float]?
    )
        -> (ConvGeometry, UnsafeMutablePointer<Float>, (sum: [Double], sumSquares: [Double])?)
    {
        let g = geometry(for: x)
        let O = outputChannels
        let P = g.columns
        let w = permuteKernelRowsOut(weight.value)
        let z = gemmOut.ensure(O * P)
        if bias != nil { precondition(statsShift == nil, "Conv2d: moments with a bias are not supported") }
        let moments = x.withUnsafeBufferPointer { xp in
            engine.forward(
                g, x: xp.baseAddress!, outputChannels: O,
                branches: [ConvBranch(weight: w, kb: g.rowsPerGroup, rowOffset: 0, rowStride: 1, z: z)],
                statsShift: statsShift.map { [$0] })
        }
        if let bias {
            for o in 0..<O { vaffine(z + o * P, z + o * P, P, 1, bias.value.data[o], accumulate: false) }
        }
        if training {
            geometry = g
            cachedInput = x
        }
        return (g, z, moments?.first)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2d.backward without a training forward") }
        let O = outputChannels
        let P = g.columns
        let ohw = g.outH * g.outW
        precondition(
            gradOutput.shape == [g.batch, O, g.outH, g.outW],
            "Conv2d.backward: gradient shape \(gradOutput.shape)")
        let dz = gemmOut.ensure(O * P)
        gradOutput.withUnsafeBufferPointer { src in
            transposeNCtoCN(src.baseAddress!, dz, n: g.batch, c: O, inner: ohw)
        }
        return backwardCN()
    }

    /// The layer's [O, N·OH·OW] buffer, where `backwardCN` expects dL/doutput.
    var gradientBufferCN: UnsafeMutablePointer<Float> { gemmOut.pointer }

    /// Backward from dL/doutput already in `gradientBufferCN` ([O, N·OH·OW]), or, with
    /// `dzImage`, produced image by image by that closure (see `ConvEngine.backward`; it may
    /// read the forward output still in `gradientBufferCN`). No bias with `dzImage`.
    func backwardCN(dzImage: DZProducer? = nil) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2d.backward without a training forward") }
        let O = outputChannels
        let R = g.rowsPerGroup
        let P = g.columns
        let dz = gemmOut.pointer
        precondition(dzImage == nil || bias == nil, "Conv2d.backwardCN: dzImage with a bias")
        if let bias {
            bias.grad.withUnsafeMutableBufferPointer { gb in
                for o in 0..<O { gb[o] += vsum(dz + o * P, P) }
            }
        }
        let w = permutedWeight.pointer
        let dW = permutedGrad.ensure(O * R)
        dW.update(repeating: 0, count: O * R)
        var dx = Tensor(uninitializedShape: [g.batch, g.channels, g.height, g.width])
        cachedInput.withUnsafeBufferPointer { xp in
            dx.withUnsafeMutableBufferPointer { dxp in
                engine.backward(
                    g, x: xp.baseAddress!, outputChannels: O,
                    branches: [ConvBranch(weight: w, kb: R, rowOffset: 0, rowStride: 1, z: dz, dW: dW)],
                    dx: needsInputGradient ? dxp.baseAddress! : nil, dzImage: dzImage)
            }
        }
        if !needsInputGradient { dx.zero() }
        accumulateKernelRowsIn(dW, into: &weight.grad)
        geometry = nil
        cachedInput = Tensor(shape: [0])
        return dx
    }

    /// OIHW → O,H,I,W (the im2col row order, see `ConvGeometry`).
    private func permuteKernelRowsOut(_ w: Tensor) -> UnsafeMutablePointer<Float> {
        let O = outputChannels
        let cg = inputChannels / groups
        let KH = kernelSize.height
        let KW = kernelSize.width
        let d = permutedWeight.ensure(w.count)
        w.withUnsafeBufferPointer { s in
            for o in 0..<O {
                for c in 0..<cg {
                    for kh in 0..<KH {
                        for kw in 0..<KW {
                            d[((o * KH + kh) * cg + c) * KW + kw] = s[((o * cg + c) * KH + kh) * KW + kw]
                        }
                    }
                }
            }
        }
        return d
    }

    /// grad(OIHW) += permuted (O,H,I,W) gradient.
    private func accumulateKernelRowsIn(_ s: UnsafePointer<Float>, into grad: inout Tensor) {
        let O = outputChannels
        let cg = inputChannels / groups
        let KH = kernelSize.height
        let KW = kernelSize.width
        grad.withUnsafeMutableBufferPointer { d in
            for o in 0..<O {
                for c in 0..<cg {
                    for kh in 0..<KH {
                        for kw in 0..<KW {
                            d[((o * cg + c) * KH + kh) * KW + kw] += s[((o * KH + kh) * cg + c) * KW + kw]
                        }
                    }
                }
            }
        }
    }
}

/// Resizes a scratch buffer (contents unspecified afterwards).
@inline(__always)
func resize(_ a: inout [Float], _ n: Int) {
    if a.count != n { a = [Float](repeating: 0, count: n) }
}
