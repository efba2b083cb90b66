/// 2-D convolution, NCHW in and out, weight OIHW
/// (`[outputChannels, inputChannels / groups, kernelH, kernelW]`), optional bias `[O]`.
///
/// Computed as im2col + one SGEMM per group (OpenBLAS): forward Y = W·col,
/// backward dW += dY·colᵀ, dcol = Wᵀ·dY then col2im. Cost: O·(C/g)·KH·KW·N·OH·OW MACs per
/// pass. Supports stride, per-side padding in any `PaddingMode`, dilation and groups.
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

    // Cached between forward and backward, reused across iterations.
    private var geometry: ConvGeometry?
    private var col: [Float] = []
    private var permutedWeight: [Float] = []
    private var gemmOut: [Float] = []

    public init(
        inputChannels: Int, outputChannels: Int,
        kernelSize: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2D = .zero,
        dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
        paddingMode: PaddingMode = .zeros, seed: UInt64 = 0
    ) {
        precondition(inputChannels > 0 && outputChannels > 0, "Conv2d: channel counts must be positive")
        precondition(inputChannels % groups == 0 && outputChannels % groups == 0,
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
        weight = Parameter(.uniform([outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1],
                                    bound: bound, using: &rng))
        self.bias = bias ? Parameter(.uniform([outputChannels], bound: bound, using: &rng), isBias: true) : nil
    }

    /// Square-kernel convenience: `kernelSize`×`kernelSize`, symmetric `padding`.
    public convenience init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
        paddingMode: PaddingMode = .zeros, seed: UInt64 = 0
    ) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels,
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
        precondition(x.rank == 4 && x.shape[1] == inputChannels,
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
        let g = geometry(for: x)
        if training { geometry = g }
        permuteKernelRowsOut(weight.value, into: &permutedWeight)
        resize(&col, g.colCount)
        resize(&gemmOut, outputChannels * g.columns)
        let O = outputChannels, Og = O / groups, R = g.rowsPerGroup, P = g.columns
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in im2col(g, xp.baseAddress!, cp.baseAddress!) }
        }
        col.withUnsafeBufferPointer { cp in
            permutedWeight.withUnsafeBufferPointer { wp in
                gemmOut.withUnsafeMutableBufferPointer { yp in
                    for grp in 0..<groups {
                        sgemm(m: Og, n: P, k: R, a: wp.baseAddress! + grp * Og * R, lda: R,
                              b: cp.baseAddress! + grp * R * P, ldb: P,
                              c: yp.baseAddress! + grp * Og * P, ldc: P)
                    }
                    if let bias {
                        bias.value.withUnsafeBufferPointer { bp in
                            for o in 0..<O {
                                let row = yp.baseAddress! + o * P, b = bp[o]
                                for i in 0..<P { row[i] += b }
                            }
                        }
                    }
                }
            }
        }
        var y = Tensor(uninitializedShape: [g.batch, O, g.outH, g.outW])
        gemmOut.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { dst in
                transposeCNtoNC(src.baseAddress!, dst.baseAddress!, n: g.batch, c: O, inner: g.outH * g.outW)
            }
        }
        if !training { col = []; gemmOut = [] }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("Conv2d.backward without a training forward") }
        let O = outputChannels, Og = O / groups, R = g.rowsPerGroup, P = g.columns
        precondition(gradOutput.shape == [g.batch, O, g.outH, g.outW],
                     "Conv2d.backward: gradient shape \(gradOutput.shape)")
        // dY in [O, N·OH·OW] layout (reuses gemmOut).
        gradOutput.withUnsafeBufferPointer { src in
            gemmOut.withUnsafeMutableBufferPointer { dst in
                transposeNCtoCN(src.baseAddress!, dst.baseAddress!, n: g.batch, c: O, inner: g.outH * g.outW)
            }
        }
        if let bias {
            gemmOut.withUnsafeBufferPointer { dy in
                bias.grad.withUnsafeMutableBufferPointer { gb in
                    for o in 0..<O {
                        gb[o] += vsum(dy.baseAddress! + o * P, P)
                    }
                }
            }
        }
        var dWp = [Float](repeating: 0, count: O * R)
        var dx = Tensor(uninitializedShape: [g.batch, g.channels, g.height, g.width])
        gemmOut.withUnsafeBufferPointer { dy in
            col.withUnsafeMutableBufferPointer { cp in
                dWp.withUnsafeMutableBufferPointer { dw in
                    for grp in 0..<groups {
                        sgemm(transB: true, m: Og, n: R, k: P,
                              a: dy.baseAddress! + grp * Og * P, lda: P,
                              b: cp.baseAddress! + grp * R * P, ldb: P,
                              c: dw.baseAddress! + grp * Og * R, ldc: R)
                    }
                }
                guard needsInputGradient else { dx.zero(); return }
                permutedWeight.withUnsafeBufferPointer { wp in
                    // dcol overwrites col (no longer needed).
                    for grp in 0..<groups {
                        sgemm(transA: true, m: R, n: P, k: Og,
                              a: wp.baseAddress! + grp * Og * R, lda: R,
                              b: dy.baseAddress! + grp * Og * P, ldb: P,
                              c: cp.baseAddress! + grp * R * P, ldc: P)
                    }
                }
                dx.withUnsafeMutableBufferPointer { dxp in col2im(g, cp.baseAddress!, dxp.baseAddress!) }
            }
        }
        accumulateKernelRowsIn(dWp, into: &weight.grad)
        geometry = nil
        return dx
    }

    /// OIHW → O,H,I,W (the im2col row order, see `ConvGeometry`).
    private func permuteKernelRowsOut(_ w: Tensor, into dst: inout [Float]) {
        let O = outputChannels, cg = inputChannels / groups, KH = kernelSize.height, KW = kernelSize.width
        resize(&dst, w.count)
        w.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                for o in 0..<O { for c in 0..<cg { for kh in 0..<KH { for kw in 0..<KW {
                    d[((o * KH + kh) * cg + c) * KW + kw] = s[((o * cg + c) * KH + kh) * KW + kw]
                } } } }
            }
        }
    }

    /// grad(OIHW) += permuted (O,H,I,W) gradient.
    private func accumulateKernelRowsIn(_ src: [Float], into grad: inout Tensor) {
        let O = outputChannels, cg = inputChannels / groups, KH = kernelSize.height, KW = kernelSize.width
        src.withUnsafeBufferPointer { s in
            grad.withUnsafeMutableBufferPointer { d in
                for o in 0..<O { for c in 0..<cg { for kh in 0..<KH { for kw in 0..<KW {
                    d[((o * cg + c) * KH + kh) * KW + kw] += s[((o * KH + kh) * cg + c) * KW + kw]
                } } } }
            }
        }
    }
}

/// Resizes a scratch buffer (contents unspecified afterwards).
@inline(__always)
func resize(_ a: inout [Float], _ n: Int) {
    if a.count != n { a = [Float](repeating: 0, count: n) }
}
