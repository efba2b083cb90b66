/// Errors raised when a block cannot be built as asked.
public enum ACBlockError: Error, CustomStringConvertible, Equatable {
    /// ACBs need an odd kernel so that the Kx1 and 1xK kernels have a centre row/column.
    case evenKernel(Int)
    /// A parameter outside its domain.
    case invalid(String)

    public var description: String {
        switch self {
        case .evenKernel(let k):
            return
                "ACBlock: kernel size \(k) is even; an Asymmetric Convolution Block needs an odd K ≥ 3 (docs/DESIGN.md §3)"
        case .invalid(let m): return "ACBlock: \(m)"
        }
    }
}

/// Asymmetric Convolution Block (Ding et al., ICCV 2019, §3; docs/DESIGN.md §3): three parallel
/// convolutions on the same NCHW input — KxK `square`, Kx1 `ver`, 1xK `hor` — each without
/// bias and followed by its own BatchNorm2d; the output is the sum of the three branches.
///
/// Alignment (docs/DESIGN.md §3, dilation-aware): with c = dilation·(K/2), if padding p ≥ c the hor
/// branch pads (H: p−c, W: p) and ver pads (H: p, W: p−c); otherwise crop = c − p and ver sees
/// the input cropped by `crop` columns per side with padding (p, 0), hor by `crop` rows with
/// padding (0, p). Both are exactly the rows of the square branch's im2col with kernel column
/// (ver) or kernel row (hor) K/2, which is how `forward` computes them: one im2col, three
/// SGEMMs, and in backward three SGEMMs into one col gradient and one col2im (`ConvEngine`).
///
/// Names (PyTorch reference): `square_conv.weight` [O, C/g, K, K], `ver_conv.weight`
/// [O, C/g, K, 1], `hor_conv.weight` [O, C/g, 1, K], `{square,ver,hor}_bn.{weight,bias,
/// running_mean,running_var}` [O]. `useAffine == false` drops the BN weight/bias
/// (γ = 1, β = 0 at fusion). `gammaInit` sets the initial γ of all three BNs (CIFAR recipes: 1/3).
/// Ablations: `useVer`/`useHor` false drop a branch; `normalization: .afterSum` replaces the
/// three branch BatchNorms by one BatchNorm of the sum (then `squareBN` is that BN, named
/// `bn`, and `verBN`/`horBN` are nil).
public final class ACBlock: Module {
    /// Where the block normalises: per branch (the paper) or once after the sum (ablation).
    public enum Normalization: Sendable, Equatable { case perBranch, afterSum }

    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let groups: Int
    public let paddingMode: PaddingMode
    public let useAffine: Bool
    public let normalization: Normalization
    /// Rows (hor) / columns (ver) cropped from each side of the input; 0 when p ≥ d·(K/2).
    public let crop: Int

    public let squareConv: Conv2d
    public let squareBN: BatchNorm2d
    public let verConv: Conv2d?
    public let verBN: BatchNorm2d?
    public let horConv: Conv2d?
    public let horBN: BatchNorm2d?
    /// Set to false for a first layer: backward skips dL/dinput (returns zeros).
    public var needsInputGradient = true
    /// Applies ReLU to the output inside the block's last pass (set by `ACBReLU`).
    var fusedReLU = false
    private var output = Tensor(shape: [0])

    private var geometry: ConvGeometry?
    private var cachedInput = Tensor(shape: [0])
    private let engine = ConvEngine()
    private let wSquare = ScratchBuffer(), wVer = ScratchBuffer(), wHor = ScratchBuffer()
    private let zSquare = ScratchBuffer(), zVer = ScratchBuffer(), zHor = ScratchBuffer()
    private let dWSquare = ScratchBuffer(), dWVer = ScratchBuffer(), dWHor = ScratchBuffer()

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros,
        useAffine: Bool = true, gammaInit: Float = 1, useVer: Bool = true, useHor: Bool = true,
        normalization: Normalization = .perBranch, seed: UInt64 = 0
    ) throws {
        guard kernelSize % 2 == 1 else { throw ACBlockError.evenKernel(kernelSize) }
        guard kernelSize >= 3 else { throw ACBlockError.invalid("kernel size \(kernelSize) < 3") }
        guard stride > 0, dilation > 0, padding >= 0, groups > 0,
            inputChannels % groups == 0, outputChannels % groups == 0
        else {
            throw ACBlockError.invalid(
                "bad geometry (in \(inputChannels), out \(outputChannels), stride \(stride), padding \(padding), dilation \(dilation), groups \(groups))"
            )
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.paddingMode = paddingMode
        self.useAffine = useAffine
        self.normalization = normalization
        let perBranch = normalization == .perBranch
        let c = dilation * (kernelSize / 2)
        let verPad: Padding2D
        let horPad: Padding2D
        if padding >= c {
            crop = 0
            horPad = Padding2D(height: padding - c, width: padding)
            verPad = Padding2D(height: padding, width: padding - c)
        } else {
            crop = c - padding
            horPad = Padding2D(height: 0, width: padding)
            verPad = Padding2D(height: padding, width: 0)
        }
        squareConv = Conv2d(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
            padding: .symmetric(padding), dilation: (dilation, dilation), groups: groups,
            bias: false, paddingMode: paddingMode, seed: seed)
        squareBN = BatchNorm2d(outputChannels, affine: useAffine, gammaInit: gammaInit)
        if useVer {
            verConv = Conv2d(
                inputChannels: inputChannels, outputChannels: outputChannels,
                kernelSize: (kernelSize, 1), stride: (stride, stride), padding: verPad,
                dilation: (dilation, dilation), groups: groups, bias: false,
                paddingMode: paddingMode, seed: seed &+ 1)
            verBN = perBranch ? BatchNorm2d(outputChannels, affine: useAffine, gammaInit: gammaInit) : nil
        } else {
            verConv = nil
            verBN = nil
        }
        if useHor {
            horConv = Conv2d(
                inputChannels: inputChannels, outputChannels: outputChannels,
                kernelSize: (1, kernelSize), stride: (stride, stride), padding: horPad,
                dilation: (dilation, dilation), groups: groups, bias: false,
                paddingMode: paddingMode, seed: seed &+ 2)
            horBN = perBranch ? BatchNorm2d(outputChannels, affine: useAffine, gammaInit: gammaInit) : nil
        } else {
            horConv = nil
            horBN = nil
        }
    }

    public var children: [(String, any Module)] {
        if normalization == .afterSum {
            var c: [(String, any Module)] = [("square_conv", squareConv)]
            if let verConv { c.append(("ver_conv", verConv)) }
            if let horConv { c.append(("hor_conv", horConv)) }
            return c + [("bn", squareBN)]
        }
        var c: [(String, any Module)] = [("square_conv", squareConv), ("square_bn", squareBN)]
        if let verConv, let verBN { c += [("ver_conv", verConv), ("ver_bn", verBN)] }
        if let horConv, let horBN { c += [("hor_conv", horConv), ("hor_bn", horBN)] }
        return c
    }

    /// The GEMMs of the active branches over the square branch's im2col (see `ConvBranch`):
    /// square reads all rows, ver the rows with kernel column K/2 (offset K/2, stride K), hor
    /// the contiguous block with kernel row K/2 (offset (K/2)·Cg·K). With `.afterSum` all
    /// three write (forward: accumulate) and read (backward) the one Z of the square branch.
    private func branches(
        _ z: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
        dW: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)?
    )
        -> [ConvBranch]
    {
        let K = kernelSize
        let cg = inputChannels / groups
        let shared = normalization == .afterSum
        var b = [ConvBranch(weight: wSquare.pointer, kb: K * cg * K, rowOffset: 0, rowStride: 1, z: z.0, dW: dW?.0)]
        if verConv != nil {
            b.append(
                ConvBranch(
                    weight: wVer.pointer, kb: K * cg, rowOffset: K / 2, rowStride: K,
                    z: shared ? z.0 : z.1, dW: dW?.1, accumulate: shared))
        }
        if horConv != nil {
            b.append(
                ConvBranch(
                    weight: wHor.pointer, kb: cg * K, rowOffset: (K / 2) * cg * K, rowStride: 1,
                    z: shared ? z.0 : z.2, dW: dW?.2, accumulate: shared))
        }
        return b
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let g = squareConv.geometry(for: x)
        let O = outputChannels
        let P = g.columns
        let ohw = g.outH * g.outW
        prepareWeights()
        let z = (
            zSquare.ensure(O * P), zVer.ensure(verConv == nil ? 1 : O * P), zHor.ensure(horConv == nil ? 1 : O * P)
        )
        var bns: [BatchNorm2d] = [squareBN]
        var zs: [UnsafePointer<Float>] = [UnsafePointer(z.0)]
        if let verBN {
            bns.append(verBN)
            zs.append(UnsafePointer(z.1))
        }
        if let horBN {
            bns.append(horBN)
            zs.append(UnsafePointer(z.2))
        }
        // Training: batch moments gathered inside the GEMM loop, shifted by the running mean.
        let shifts = training ? bns.map { $0.runningMean.value.data } : nil
        let moments = x.withUnsafeBufferPointer { xp in
            engine.forward(g, x: xp.baseAddress!, outputChannels: O, branches: branches(z, dW: nil), statsShift: shifts)
        }
        // BN of each branch and the sum in one pass, written straight to NCHW.
        let Lz = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: P, outerStride: ohw)
        let Ly = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: ohw, outerStride: O * ohw)
        let coef = bns.enumerated().map { i, bn in
            if let moments, let shifts {
                return bn.coefficients(
                    shift: shifts[i], sum: moments[i].sum, sumSquares: moments[i].sumSquares,
                    count: P)
            }
            return bn.coefficients(zs[i], Lz, training: false)
        }
        var y = Tensor(uninitializedShape: [g.batch, O, g.outH, g.outW])
        y.withUnsafeMutableBufferPointer { d in
            branchAffineSum(
                zs, Lz, scale: coef.map(\.scale), shift: coef.map(\.shift), d.baseAddress!, Ly,
                relu: fusedReLU)
        }
        if training && fusedReLU { output = y }
        if training {
            geometry = g
            cachedInput = x
        } else {
            geometry = nil
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("ACBlock.backward without a training forward") }
        let K = kernelSize
        let O = outputChannels
        let cg = inputChannels / groups
        let P = g.columns
        let ohw = g.outH * g.outW
        precondition(
            gradOutput.shape == [g.batch, O, g.outH, g.outW],
            "ACBlock.backward: gradient shape \(gradOutput.shape)")
        // BN backward of all branches at once, reading dY in NCHW; dZ overwrites Z.
        let Lz = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: P, outerStride: ohw)
        let Ldy = ChannelLayout(channels: O, outer: g.batch, inner: ohw, channelStride: ohw, outerStride: O * ohw)
        let z = (zSquare.pointer, zVer.pointer, zHor.pointer)
        var bns: [BatchNorm2d] = [squareBN]
        var zs = [z.0]
        if let verBN {
            bns.append(verBN)
            zs.append(z.1)
        }
        if let horBN {
            bns.append(horBN)
            zs.append(z.2)
        }
        var dGamma = [[Float]](repeating: [Float](repeating: 0, count: O), count: bns.count)
        var dBeta = dGamma
        let means = bns.map(\.mean)
        let invStds = bns.map(\.invStd)
        let gammas = bns.map { $0.weight?.value.data }
        withPointers(means) { mp in
            withPointers(invStds) { sp in
                withOptionalPointers(gammas) { gp in
                    withMutablePointers(&dGamma) { dgp in
                        withMutablePointers(&dBeta) { dbp in
                            gradOutput.withUnsafeBufferPointer { dy in
                                output.withUnsafeBufferPointer { y in
                                    branchBatchNormBackward(
                                        z: zs, Lz, dy: dy.baseAddress!, Ldy, mean: mp, invStd: sp,
                                        gamma: gp, dGamma: dgp, dBeta: dbp,
                                        reluOutput: fusedReLU ? y.baseAddress! : nil)
                                }
                            }
                        }
                    }
                }
            }
        }
        for (i, bn) in bns.enumerated() { bn.accumulateGrads(dGamma: dGamma[i], dBeta: dBeta[i]) }
        let nS = O * cg * K * K
        let nV = O * K * cg
        let nH = O * cg * K
        let dW = (dWSquare.ensure(nS), dWVer.ensure(nV), dWHor.ensure(nH))
        dW.0.update(repeating: 0, count: nS)
        dW.1.update(repeating: 0, count: nV)
        dW.2.update(repeating: 0, count: nH)
        var dx = Tensor(uninitializedShape: [g.batch, g.channels, g.height, g.width])
        cachedInput.withUnsafeBufferPointer { xp in
            dx.withUnsafeMutableBufferPointer { dxp in
                engine.backward(
                    g, x: xp.baseAddress!, outputChannels: O, branches: branches(z, dW: dW),
                    dx: needsInputGradient ? dxp.baseAddress! : nil)
            }
        }
        if !needsInputGradient { dx.zero() }
        // Scatter the permuted weight gradients back to OIHW.
        squareConv.weight.grad.withUnsafeMutableBufferPointer { d in
            for o in 0..<O {
                for c in 0..<cg {
                    for kh in 0..<K {
                        for kw in 0..<K {
                            d[((o * cg + c) * K + kh) * K + kw] += dW.0[((o * K + kh) * cg + c) * K + kw]
                        }
                    }
                }
            }
        }
        if let verConv {
            verConv.weight.grad.withUnsafeMutableBufferPointer { d in
                for o in 0..<O {
                    for c in 0..<cg {
                        for kh in 0..<K {
                            d[(o * cg + c) * K + kh] += dW.1[(o * K + kh) * cg + c]
                        }
                    }
                }
            }
        }
        if let horConv {
            horConv.weight.grad.withUnsafeMutableBufferPointer { d in
                vadd(dW.2, d.baseAddress!, d.count)
            }
        }
        geometry = nil
        cachedInput = Tensor(shape: [0])
        output = Tensor(shape: [0])
        return dx
    }

    /// Square OIHW → (o, kh, cg, kw); ver [O, Cg, K, 1] → (o, kh, cg); hor stays (o, cg, kw).
    private func prepareWeights() {
        let K = kernelSize
        let O = outputChannels
        let cg = inputChannels / groups
        let d = wSquare.ensure(O * cg * K * K)
        squareConv.weight.value.withUnsafeBufferPointer { s in
            for o in 0..<O {
                for c in 0..<cg {
                    for kh in 0..<K {
                        for kw in 0..<K {
                            d[((o * K + kh) * cg + c) * K + kw] = s[((o * cg + c) * K + kh) * K + kw]
                        }
                    }
                }
            }
        }
        if let verConv {
            let d = wVer.ensure(O * K * cg)
            verConv.weight.value.withUnsafeBufferPointer { s in
                for o in 0..<O {
                    for c in 0..<cg {
                        for kh in 0..<K {
                            d[(o * K + kh) * cg + c] = s[(o * cg + c) * K + kh]
                        }
                    }
                }
            }
        }
        if let horConv {
            let d = wHor.ensure(O * cg * K)
            horConv.weight.value.withUnsafeBufferPointer { s in d.update(from: s.baseAddress!, count: s.count) }
        }
    }

    /// The block computed the way the reference writes it: three separate convolutions (ver/hor
    /// on the cropped input when `crop > 0`), three BatchNorms, a sum. Slower; a test oracle.
    public func referenceForward(_ x: Tensor, training: Bool) -> Tensor {
        if normalization == .afterSum {
            var s = squareConv.forward(x, training: training)
            if let verConv { s.add(verConv.forward(cropped(x, rows: 0, columns: crop), training: training)) }
            if let horConv { s.add(horConv.forward(cropped(x, rows: crop, columns: 0), training: training)) }
            return squareBN.forward(s, training: training)
        }
        var y = squareBN.forward(squareConv.forward(x, training: training), training: training)
        if let verConv, let verBN {
            let v = verBN.forward(
                verConv.forward(cropped(x, rows: 0, columns: crop), training: training), training: training)
            y.add(v)
        }
        if let horConv, let horBN {
            let h = horBN.forward(
                horConv.forward(cropped(x, rows: crop, columns: 0), training: training), training: training)
            y.add(h)
        }
        return y
    }
}

/// x[:, :, rows:H−rows, columns:W−columns] of an NCHW tensor.
func cropped(_ x: Tensor, rows: Int, columns: Int) -> Tensor {
    if rows == 0 && columns == 0 { return x }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let h2 = h - 2 * rows
    let w2 = w - 2 * columns
    precondition(h2 > 0 && w2 > 0, "crop \(rows)x\(columns) larger than input \(h)x\(w)")
    var y = Tensor(shape: [n, c, h2, w2])
    for p in 0..<(n * c) {
        for i in 0..<h2 {
            for j in 0..<w2 {
                y.data[(p * h2 + i) * w2 + j] = x.data[(p * h + i + rows) * w + j + columns]
            }
        }
    }
    return y
}

/// Calls `body` with base addresses of every array (arrays stay alive and unmoved during it).
func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
    func go(_ i: Int, _ acc: [UnsafePointer<Float>]) -> R {
        if i == arrays.count { return body(acc) }
        return arrays[i].withUnsafeBufferPointer { go(i + 1, acc + [$0.baseAddress!]) }
    }
    return go(0, [])
}

func withOptionalPointers<R>(_ arrays: [[Float]?], _ body: ([UnsafePointer<Float>?]) -> R) -> R {
    func go(_ i: Int, _ acc: [UnsafePointer<Float>?]) -> R {
        if i == arrays.count { return body(acc) }
        guard let a = arrays[i] else { return go(i + 1, acc + [nil]) }
        return a.withUnsafeBufferPointer { go(i + 1, acc + [$0.baseAddress!]) }
    }
    return go(0, [])
}

func withMutablePointers<R>(_ arrays: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> R) -> R {
    // Flatten into one buffer so the pointers stay valid, then copy back.
    let n = arrays.first?.count ?? 0
    var flat = arrays.flatMap { $0 }
    let r = flat.withUnsafeMutableBufferPointer { p in
        body((0..<arrays.count).map { p.baseAddress! + $0 * n })
    }
    for i in 0..<arrays.count { arrays[i] = Array(flat[(i * n)..<((i + 1) * n)]) }
    return r
}

/// `Sequential([ACBlock, ReLU])` computed as one layer: the ReLU is applied in the block's
/// output pass and its mask inside the fused BatchNorm backward. The only child is the block,
/// named "0", so parameter names equal those of the Sequential ("0.square_conv.weight", …).
public final class ACBReLU: Module {
    public let block: ACBlock

    public init(_ block: ACBlock) {
        self.block = block
        block.fusedReLU = true
    }

    public var children: [(String, any Module)] { [("0", block)] }
    public func forward(_ x: Tensor, training: Bool) -> Tensor { block.forward(x, training: training) }
    public func backward(_ gradOutput: Tensor) -> Tensor { block.backward(gradOutput) }
}
