/// Batch normalisation over the channel dimension of NCHW (or `[N, C]`) input.
///
/// Training: y = γ·(x − μ_B)/√(σ²_B + eps) + β with batch mean and biased batch variance;
/// running statistics updated as PyTorch does: r ← (1 − momentum)·r + momentum·stat, with the
/// *unbiased* variance σ²_B·M/(M−1) for `running_var` (M = N·H·W).
/// Evaluation: the running statistics replace the batch ones.
/// Parameters `weight` (γ, init `gammaInit`) and `bias` (β, init 0), absent when `affine`
/// is false; buffers `running_mean` (init 0), `running_var` (init 1).
public final class BatchNorm2d: Module {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter?
    public let bias: Parameter?
    public let runningMean: Buffer
    public let runningVar: Buffer

    private var cachedInput = Tensor(shape: [0])
    /// Batch statistics of the last training forward (for backward).
    private(set) var mean: [Float] = []
    private(set) var invStd: [Float] = []

    public init(
        _ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true,
        gammaInit: Float = 1
    ) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Parameter(Tensor(shape: [channels], repeating: gammaInit), isNormalization: true) : nil
        bias = affine ? Parameter(Tensor(shape: [channels]), isBias: true, isNormalization: true) : nil
        runningMean = Buffer(Tensor(shape: [channels]))
        runningVar = Buffer(Tensor(shape: [channels], repeating: 1))
    }

    public var affine: Bool { weight != nil }

    public var localParameters: [(String, Parameter)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public var localBuffers: [(String, Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVar)]
    }

    func layout(_ x: Tensor) -> ChannelLayout {
        precondition(
            (x.rank == 4 || x.rank == 2) && x.shape[1] == channels,
            "BatchNorm2d: expected [N, \(channels), H, W], got \(x.shape)")
        let inner = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        return ChannelLayout(
            channels: channels, outer: x.shape[0], inner: inner,
            channelStride: inner, outerStride: channels * inner)
    }

    /// Per-channel (scale, shift) of the evaluation-mode affine map:
    /// scale = γ/√(running_var + eps), shift = β − running_mean·scale (docs/DESIGN.md §3 fusion).
    public func evalScaleShift() -> (scale: [Float], shift: [Float]) {
        var s = [Float](repeating: 0, count: channels)
        var t = s
        for c in 0..<channels {
            let g = weight?.value.data[c] ?? 1
            let b = bias?.value.data[c] ?? 0
            s[c] = g / (runningVar.value.data[c] + eps).squareRoot()
            t[c] = b - runningMean.value.data[c] * s[c]
        }
        return (s, t)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let L = layout(x)
        var y = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                normalize(xp.baseAddress!, yp.baseAddress!, L, training: training, accumulate: false)
            }
        }
        if training { cachedInput = x }
        return y
    }

    /// Normalises `x` (layout L) into y (y = or += …). In training mode records the batch
    /// statistics for `backwardCore` and updates the running statistics.
    func normalize(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ L: ChannelLayout,
        training: Bool, accumulate: Bool
    ) {
        let (scale, shift) = coefficients(x, L, training: training)
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                channelAffine(x, y, L, scale: s.baseAddress!, shift: t.baseAddress!, accumulate: accumulate)
            }
        }
    }

    /// The per-channel affine map y = x·scale + shift this BN applies to `x` (layout L): from
    /// the batch statistics in training mode (recording them for backward and updating the
    /// running statistics), from the running statistics otherwise.
    func coefficients(
        _ x: UnsafePointer<Float>, _ L: ChannelLayout, training: Bool
    )
        -> (scale: [Float], shift: [Float])
    {
        var scale: [Float]
        var shift: [Float]
        if training {
            resize(&mean, channels)
            resize(&invStd, channels)
            var variance = [Float](repeating: 0, count: channels)
            let pivot = runningMean.value.data
            mean.withUnsafeMutableBufferPointer { m in
                variance.withUnsafeMutableBufferPointer { v in
                    pivot.withUnsafeBufferPointer { sp in
                        channelMeanVarShifted(
                            x, L, shift: sp.baseAddress!, mean: m.baseAddress!, variance: v.baseAddress!)
                    }
                }
            }
            scale = [Float](repeating: 0, count: channels)
            shift = scale
            let m = Float(L.perChannel)
            let unbias = m > 1 ? m / (m - 1) : 1
            for c in 0..<channels {
                invStd[c] = 1 / (variance[c] + eps).squareRoot()
                let g = weight?.value.data[c] ?? 1
                let b = bias?.value.data[c] ?? 0
                scale[c] = g * invStd[c]
                shift[c] = b - mean[c] * scale[c]
                runningMean.value.data[c] = (1 - momentum) * runningMean.value.data[c] + momentum * mean[c]
                runningVar.value.data[c] = (1 - momentum) * runningVar.value.data[c] + momentum * variance[c] * unbias
            }
        } else {
            (scale, shift) = evalScaleShift()
        }
        return (scale, shift)
    }

    /// Training-mode coefficients from precomputed moments: Σ(x − shift) and Σ(x − shift)² over
    /// `count` elements per channel (see `ConvEngine.forward`). Records the batch statistics
    /// for backward and updates the running statistics, like `coefficients(_:_:training:)`.
    func coefficients(
        shift: [Float], sum: [Double], sumSquares: [Double], count: Int
    )
        -> (scale: [Float], shift: [Float])
    {
        resize(&mean, channels)
        resize(&invStd, channels)
        var scale = [Float](repeating: 0, count: channels)
        var out = scale
        let m = Double(count)
        let unbias = count > 1 ? Float(m / (m - 1)) : 1
        for c in 0..<channels {
            let d = sum[c] / m
            let variance = Float(max(sumSquares[c] / m - d * d, 0))
            mean[c] = Float(Double(shift[c]) + d)
            invStd[c] = 1 / (variance + eps).squareRoot()
            let g = weight?.value.data[c] ?? 1
            let b = bias?.value.data[c] ?? 0
            scale[c] = g * invStd[c]
            out[c] = b - mean[c] * scale[c]
            runningMean.value.data[c] = (1 - momentum) * runningMean.value.data[c] + momentum * mean[c]
            runningVar.value.data[c] = (1 - momentum) * runningVar.value.data[c] + momentum * variance * unbias
        }
        return (scale, out)
    }

    /// Adds dγ, dβ (per channel) to the parameter gradients (no-op without affine).
    func accumulateGrads(dGamma: UnsafePointer<Float>, dBeta: UnsafePointer<Float>) {
        guard let weight, let bias else { return }
        for c in 0..<channels {
            weight.grad.data[c] += dGamma[c]
            bias.grad.data[c] += dBeta[c]
        }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.shape == cachedInput.shape, "BatchNorm2d.backward: no matching forward")
        let L = layout(cachedInput)
        var dx = Tensor(uninitializedShape: gradOutput.shape)
        cachedInput.withUnsafeBufferPointer { xp in
            gradOutput.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { dp in
                    backwardCore(x: xp.baseAddress!, dy: gp.baseAddress!, dx: dp.baseAddress!, L)
                }
            }
        }
        cachedInput = Tensor(shape: [0])
        return dx
    }

    /// Backward coefficients of the last training normalisation from the per-channel sums
    /// Σ dy and Σ dy·(x − μ) over `count` elements: dx = k·(dy − c1 − (x − μ)·c2) (the formula
    /// of `batchNormBackward`). Accumulates dγ, dβ.
    func backwardCoefficients(
        sdy: UnsafePointer<Double>, sdyx: UnsafePointer<Double>, count: Int
    )
        -> (k: [Float], c1: [Float], c2: [Float])
    {
        let m = Float(count)
        var k = [Float](repeating: 0, count: channels)
        var c1 = k
        var c2 = k
        for c in 0..<channels {
            let s = invStd[c]
            let db = Float(sdy[c])
            let dg = Float(sdyx[c]) * s
            k[c] = (weight?.value.data[c] ?? 1) * s
            c1[c] = db / m
            c2[c] = dg / m * s
            if let weight, let bias {
                weight.grad.data[c] += dg
                bias.grad.data[c] += db
            }
        }
        return (k, c1, c2)
    }

    /// Backward through the last training `normalize`: writes dx, accumulates dγ, dβ.
    func backwardCore(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        _ L: ChannelLayout
    ) {
        var dg = [Float](repeating: 0, count: channels)
        var db = dg
        let gamma = weight?.value.data
        mean.withUnsafeBufferPointer { m in
            invStd.withUnsafeBufferPointer { s in
                dg.withUnsafeMutableBufferPointer { dgp in
                    db.withUnsafeMutableBufferPointer { dbp in
                        if let gamma {
                            gamma.withUnsafeBufferPointer { gp in
                                batchNormBackward(
                                    x: x, dy: dy, dx: dx, L, mean: m.baseAddress!, invStd: s.baseAddress!,
                                    gamma: gp.baseAddress!, dGamma: dgp.baseAddress!, dBeta: dbp.baseAddress!)
                            }
                        } else {
                            batchNormBackward(
                                x: x, dy: dy, dx: dx, L, mean: m.baseAddress!, invStd: s.baseAddress!,
                                gamma: nil, dGamma: dgp.baseAddress!, dBeta: dbp.baseAddress!)
                        }
                    }
                }
            }
        }
        if let weight, let bias {
            for c in 0..<channels {
                weight.grad.data[c] += dg[c]
                bias.grad.data[c] += db[c]
            }
        }
    }
}
