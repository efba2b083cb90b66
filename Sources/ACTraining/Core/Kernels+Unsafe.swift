// The unsafe inner loops of ACTraining: im2col/col2im, SGEMM, layout transposes, BatchNorm
// statistics. Everything here works on raw pointers; callers own the buffers.

import COpenBLAS
import Dispatch
import Synchronization

/// Threads used by ACTraining's own loops (im2col, col2im, BatchNorm). OpenBLAS picks its own
/// thread count (OPENBLAS_NUM_THREADS). Default: 2, the cores of the target machines.
nonisolated(unsafe) public var trainingThreadCount = 2

/// Splits 0..<n into `trainingThreadCount` contiguous chunks run in parallel (serially when
/// the work is small).
@inline(__always)
func parallelChunks(_ n: Int, minWork: Int = 1, _ body: (Range<Int>) -> Void) {
    let t = min(trainingThreadCount, n)
    if t <= 1 || minWork < 1 << 15 {
        body(0..<n)
        return
    }
    withoutActuallyEscaping(body) { f in
        let box = UnsafeSendableBox(f)
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let lo = n * i / t
            let hi = n * (i + 1) / t
            if lo < hi { box.value(lo..<hi) }
        }
    }
}

/// Work units claimed one at a time by the threads of one parallel loop (0, 1, 2, … in claim
/// order): a thread that is descheduled or slower leaves its remaining units to the others, so a
/// loop over many images keeps every running core busy. Results stay bit-for-bit repeatable when
/// each unit writes its own outputs and accumulators that are reduced in unit order afterwards.
final class WorkCounter: Sendable {
    private let value = Atomic<Int>(0)
    func claim() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// C = alpha · op(A) · op(B) + beta · C, row-major (cblas_sgemm), split over
/// `trainingThreadCount` threads when large: by columns of C (n) when n is wide, else by rows
/// (m). OpenBLAS itself runs single-threaded (see `BLASSetup`), so ACTraining's own loops and
/// the GEMMs share one set of worker threads instead of two spinning pools.
/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are row strides in elements.
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    BLASSetup.ensureConfigured()
    if k == 0 {
        if beta != 1 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        }
        return
    }
    let t = trainingThreadCount
    if t <= 1 || m * n * k < 1 << 21 {
        sgemmSerial(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let box = UnsafeSendableBox((a, b, c))
    if n >= 64 * t {
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let (a, b, c) = box.value
            let n0 = (n * i / t) & ~15
            let n1 = i == t - 1 ? n : (n * (i + 1) / t) & ~15
            if n1 > n0 {
                sgemmSerial(
                    transA: transA, transB: transB, m: m, n: n1 - n0, k: k, alpha: alpha, a: a, lda: lda,
                    b: transB ? b + n0 * ldb : b + n0, ldb: ldb, beta: beta, c: c + n0, ldc: ldc)
            }
        }
    } else {
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let (a, b, c) = box.value
            let m0 = m * i / t
            let m1 = m * (i + 1) / t
            if m1 > m0 {
                sgemmSerial(
                    transA: transA, transB: transB, m: m1 - m0, n: n, k: k, alpha: alpha,
                    a: transA ? a + m0 : a + m0 * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                    c: c + m0 * ldc, ldc: ldc)
            }
        }
    }
}

@inline(__always)
func sgemmSerial(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Fills `col` (layout: see `ConvGeometry`) from `x` (NCHW).
/// Cost: one read and one write per im2col element.
func im2col(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    let oh = g.outH
    let ow = g.outW
    let ohw = oh * ow
    let P = g.columns
    let cg = g.channelsPerGroup
    let R = g.rowsPerGroup
    // Per kernel row/column: the source row/column of each output row/column (−1 = zero).
    var hIdx = [Int](repeating: 0, count: g.kernelH * oh)
    var wIdx = [Int](repeating: 0, count: g.kernelW * ow)
    for kh in 0..<g.kernelH {
        for o in 0..<oh {
            hIdx[kh * oh + o] = sourceIndex(o * g.strideH - g.padding.top + kh * g.dilationH, g.height, g.mode)
        }
    }
    // Contiguous fast path (stride 1, zeros): valid output range per kw.
    var lo = [Int](repeating: 0, count: g.kernelW)
    var hi = [Int](repeating: 0, count: g.kernelW)
    for kw in 0..<g.kernelW {
        var l = ow
        var h = 0
        for o in 0..<ow {
            let s = sourceIndex(o * g.strideW - g.padding.left + kw * g.dilationW, g.width, g.mode)
            wIdx[kw * ow + o] = s
            if s >= 0 {
                l = min(l, o)
                h = max(h, o + 1)
            }
        }
        lo[kw] = l
        hi[kw] = max(h, l)
    }
    let contiguous = g.strideW == 1 && g.mode == .zeros
    let H = g.height
    let W = g.width
    let C = g.channels
    let KW = g.kernelW
    let KH = g.kernelH
    hIdx.withUnsafeBufferPointer { hIdx in
        wIdx.withUnsafeBufferPointer { wIdx in
            parallelChunks(C, minWork: parallel ? g.colCount : 0) { cs in
                for c in cs {
                    let grp = c / cg
                    let ci = c % cg
                    for kh in 0..<KH {
                        for kw in 0..<KW {
                            let row = (kh * cg + ci) * KW + kw
                            let dstBase = col + (grp * R + row) * P
                            let l = lo[kw]
                            let h = hi[kw]
                            let shift = -g.padding.left + kw * g.dilationW
                            for n in 0..<g.batch {
                                let src = x + (n * C + c) * H * W
                                var dst = dstBase + n * ohw
                                for o in 0..<oh {
                                    let ih = hIdx[kh * oh + o]
                                    if ih < 0 {
                                        dst.update(repeating: 0, count: ow)
                                    } else if contiguous {
                                        let s = src + ih * W
                                        if l > 0 { dst.update(repeating: 0, count: l) }
                                        if h > l { (dst + l).update(from: s + l + shift, count: h - l) }
                                        if h < ow { (dst + h).update(repeating: 0, count: ow - h) }
                                    } else {
                                        let s = src + ih * W
                                        let wi = wIdx.baseAddress! + kw * ow
                                        for j in 0..<ow {
                                            let iw = wi[j]
                                            dst[j] = iw >= 0 ? s[iw] : 0
                                        }
                                    }
                                    dst += ow
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// dx (NCHW, overwritten) = the adjoint of `im2col` applied to `col`.
func col2im(_ g: ConvGeometry, _ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    let oh = g.outH
    let ow = g.outW
    let ohw = oh * ow
    let P = g.columns
    let cg = g.channelsPerGroup
    let R = g.rowsPerGroup
    var hIdx = [Int](repeating: 0, count: g.kernelH * oh)
    var wIdx = [Int](repeating: 0, count: g.kernelW * ow)
    for kh in 0..<g.kernelH {
        for o in 0..<oh {
            hIdx[kh * oh + o] = sourceIndex(o * g.strideH - g.padding.top + kh * g.dilationH, g.height, g.mode)
        }
    }
    var lo = [Int](repeating: 0, count: g.kernelW)
    var hi = [Int](repeating: 0, count: g.kernelW)
    for kw in 0..<g.kernelW {
        var l = ow
        var h = 0
        for o in 0..<ow {
            let s = sourceIndex(o * g.strideW - g.padding.left + kw * g.dilationW, g.width, g.mode)
            wIdx[kw * ow + o] = s
            if s >= 0 {
                l = min(l, o)
                h = max(h, o + 1)
            }
        }
        lo[kw] = l
        hi[kw] = max(h, l)
    }
    let contiguous = g.strideW == 1 && g.mode == .zeros
    let H = g.height
    let W = g.width
    let C = g.channels
    let KW = g.kernelW
    let KH = g.kernelH
    hIdx.withUnsafeBufferPointer { hIdx in
        wIdx.withUnsafeBufferPointer { wIdx in
            parallelChunks(C, minWork: parallel ? g.colCount : 0) { cs in
                for c in cs {
                    let grp = c / cg
                    let ci = c % cg
                    for n in 0..<g.batch {
                        (dx + (n * C + c) * H * W).update(repeating: 0, count: H * W)
                    }
                    for kh in 0..<KH {
                        for kw in 0..<KW {
                            let row = (kh * cg + ci) * KW + kw
                            let srcBase = col + (grp * R + row) * P
                            let l = lo[kw]
                            let h = hi[kw]
                            let shift = -g.padding.left + kw * g.dilationW
                            for n in 0..<g.batch {
                                let d0 = dx + (n * C + c) * H * W
                                var s = srcBase + n * ohw
                                for o in 0..<oh {
                                    let ih = hIdx[kh * oh + o]
                                    if ih >= 0 {
                                        let d = d0 + ih * W
                                        if contiguous {
                                            if h > l { vadd(s + l, d + shift + l, h - l) }
                                        } else {
                                            let wi = wIdx.baseAddress! + kw * ow
                                            for j in 0..<ow {
                                                let iw = wi[j]
                                                if iw >= 0 { d[iw] += s[j] }
                                            }
                                        }
                                    }
                                    s += ow
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// dst[n][c][i] = src[c][n][i]  ([C, N, I] → [N, C, I]).
func transposeCNtoNC(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, n: Int, c: Int, inner: Int) {
    parallelChunks(c, minWork: n * c * inner) { cs in
        for ci in cs {
            for ni in 0..<n {
                (dst + (ni * c + ci) * inner).update(from: src + (ci * n + ni) * inner, count: inner)
            }
        }
    }
}

/// dst[c][n][i] = src[n][c][i]  ([N, C, I] → [C, N, I]).
func transposeNCtoCN(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, n: Int, c: Int, inner: Int) {
    parallelChunks(c, minWork: n * c * inner) { cs in
        for ci in cs {
            for ni in 0..<n {
                (dst + (ci * n + ni) * inner).update(from: src + (ni * c + ci) * inner, count: inner)
            }
        }
    }
}

/// Where the elements of one channel live: `outer` runs of `inner` contiguous floats,
/// run j of channel c at offset c · channelStride + j · outerStride.
/// NCHW: (C, N, H·W, H·W, C·H·W); CNHW (ACBlock's GEMM output): (C, N, H·W, N·H·W, H·W).
struct ChannelLayout {
    var channels: Int
    var outer: Int
    var inner: Int
    var channelStride: Int
    var outerStride: Int
    var perChannel: Int { outer * inner }
}

/// Per-channel mean and biased variance of x in one pass: moments of (x − shift[c]) with
/// float partial sums per run combined in Double (shift ≈ the mean, e.g. the running mean,
/// keeps E[d²] − E[d]² well conditioned).
func channelMeanVarShifted(
    _ x: UnsafePointer<Float>, _ L: ChannelLayout, shift: UnsafePointer<Float>,
    mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
) {
    let m = Double(L.perChannel)
    parallelChunks(L.channels, minWork: L.channels * L.perChannel) { cs in
        for c in cs {
            var s1 = 0.0
            var s2 = 0.0
            for j in 0..<L.outer {
                let (a, b) = vshiftedMoments(x + c * L.channelStride + j * L.outerStride, L.inner, shift[c])
                s1 += Double(a)
                s2 += Double(b)
            }
            let d = s1 / m
            mean[c] = Float(Double(shift[c]) + d)
            variance[c] = Float(max(s2 / m - d * d, 0))
        }
    }
}

/// Per-channel mean and biased variance (two-pass, double accumulation) of x.
func channelMeanVar(
    _ x: UnsafePointer<Float>, _ L: ChannelLayout,
    mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
) {
    let m = Double(L.perChannel)
    parallelChunks(L.channels, minWork: L.channels * L.perChannel) { cs in
        for c in cs {
            var s = 0.0
            for j in 0..<L.outer {
                let p = x + c * L.channelStride + j * L.outerStride
                s += Double(vsum(p, L.inner))
            }
            let mu = s / m
            let muf = Float(mu)
            var v = 0.0
            for j in 0..<L.outer {
                let p = x + c * L.channelStride + j * L.outerStride
                v += Double(vsumSquaredDeviation(p, L.inner, muf))
            }
            mean[c] = muf
            variance[c] = Float(v / m)
        }
    }
}

/// y = x · scale[c] + shift[c] (or y += … when `accumulate`), same layout for x and y.
func channelAffine(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ L: ChannelLayout,
    scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, accumulate: Bool
) {
    parallelChunks(L.channels, minWork: L.channels * L.perChannel) { cs in
        for c in cs {
            let a = scale[c]
            let b = shift[c]
            for j in 0..<L.outer {
                let off = c * L.channelStride + j * L.outerStride
                let p = x + off
                let q = y + off
                vaffine(p, q, L.inner, a, b, accumulate: accumulate)
            }
        }
    }
}

/// BatchNorm backward in training mode (batch statistics), PyTorch's formula:
///   x̂ = (x − μ)·s,  dβ = Σ dy,  dγ = Σ dy·x̂,
///   dx = γ·s · (dy − dβ/M − x̂·dγ/M)      (s = 1/√(σ²+eps), M elements per channel).
/// Writes dx (may alias dy), returns dγ, dβ through the pointers (overwritten).
func batchNormBackward(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    _ L: ChannelLayout, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>?, dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>
) {
    let m = Float(L.perChannel)
    parallelChunks(L.channels, minWork: L.channels * L.perChannel) { cs in
        for c in cs {
            let mu = mean[c]
            let s = invStd[c]
            var sdy = 0.0
            var sdyx = 0.0
            for j in 0..<L.outer {
                let off = c * L.channelStride + j * L.outerStride
                let p = x + off
                let g = dy + off
                let (a, b) = vsumGradAndProduct(g, p, L.inner, mu)
                sdy += Double(a)
                sdyx += Double(b)
            }
            let db = Float(sdy)
            let dg = Float(sdyx) * s
            dGamma[c] = dg
            dBeta[c] = db
            let k = (gamma?[c] ?? 1) * s
            let c1 = db / m
            let c2 = dg / m * s
            for j in 0..<L.outer {
                let off = c * L.channelStride + j * L.outerStride
                let p = x + off
                let g = dy + off
                let d = dx + off
                vbatchNormInputGrad(g, p, d, L.inner, k: k, c1: c1, mu: mu, c2: c2)
            }
        }
    }
}

/// ACBlock's branch sum: y = Σ_b (z_b · scale_b[c] + shift_b[c]) in one pass, reading the
/// branches in layout `Lz` and writing y in layout `Ly` (e.g. CN in, NCHW out).
func branchAffineSum(
    _ z: [UnsafePointer<Float>], _ Lz: ChannelLayout, scale: [[Float]], shift: [[Float]],
    _ y: UnsafeMutablePointer<Float>, _ Ly: ChannelLayout, relu: Bool = false
) {
    let nb = z.count
    let box = UnsafeSendableBox((z, y))
    parallelChunks(Lz.channels, minWork: Lz.channels * Lz.perChannel * nb) { cs in
        let (z, y) = box.value
        for c in cs {
            var b: Float = 0
            for k in 0..<nb { b += shift[k][c] }
            let a0 = scale[0][c]
            let a1 = nb > 1 ? scale[1][c] : 0
            let a2 = nb > 2 ? scale[2][c] : 0
            for j in 0..<Lz.outer {
                let iz = c * Lz.channelStride + j * Lz.outerStride
                let q = y + c * Ly.channelStride + j * Ly.outerStride
                let p0 = z[0] + iz
                switch nb {
                case 1:
                    vaffine(p0, q, Lz.inner, a0, b, accumulate: false)
                case 2:
                    let p1 = z[1] + iz
                    let av0 = V16(repeating: a0)
                    let av1 = V16(repeating: a1)
                    let bv = V16(repeating: b)
                    var i = 0
                    while i + 16 <= Lz.inner {
                        store16(load16(p0 + i) * av0 + load16(p1 + i) * av1 + bv, q + i)
                        i += 16
                    }
                    while i < Lz.inner {
                        q[i] = p0[i] * a0 + p1[i] * a1 + b
                        i += 1
                    }
                default:
                    let p1 = z[1] + iz
                    let p2 = z[2] + iz
                    let av0 = V16(repeating: a0)
                    let av1 = V16(repeating: a1)
                    let av2 = V16(repeating: a2)
                    let bv = V16(repeating: b)
                    var i = 0
                    while i + 16 <= Lz.inner {
                        store16(load16(p0 + i) * av0 + load16(p1 + i) * av1 + load16(p2 + i) * av2 + bv, q + i)
                        i += 16
                    }
                    while i < Lz.inner {
                        q[i] = p0[i] * a0 + p1[i] * a1 + p2[i] * a2 + b
                        i += 1
                    }
                }
                if relu { vrelu(q, q, Lz.inner) }
            }
        }
    }
}

/// Training-mode BatchNorm backward for several branches that share dy (ACBlock: the block's
/// output gradient flows unchanged into each branch's BN). Reads dy (layout `Ldy`) once per
/// pass for all branches; overwrites each z_b (layout `Lz`) with its dz_b. Formula as in
/// `batchNormBackward`. Writes dγ_b, dβ_b into `dGamma[b]`, `dBeta[b]`.
func branchBatchNormBackward(
    z: [UnsafeMutablePointer<Float>], _ Lz: ChannelLayout, dy: UnsafePointer<Float>, _ Ldy: ChannelLayout,
    mean: [UnsafePointer<Float>], invStd: [UnsafePointer<Float>], gamma: [UnsafePointer<Float>?],
    dGamma: [UnsafeMutablePointer<Float>], dBeta: [UnsafeMutablePointer<Float>],
    reluOutput: UnsafePointer<Float>? = nil
) {
    let nb = z.count
    let m = Float(Lz.perChannel)
    let box = UnsafeSendableBox((z, dy, mean, invStd, gamma, dGamma, dBeta, reluOutput))
    parallelChunks(Lz.channels, minWork: Lz.channels * Lz.perChannel * nb) { cs in
        let (z, dy, mean, invStd, gamma, dGamma, dBeta, reluOutput) = box.value
        // With a fused ReLU, each run of dy is masked by (output > 0) into this small buffer.
        let masked = UnsafeMutablePointer<Float>.allocate(capacity: max(Lz.inner, 1))
        defer { masked.deallocate() }
        func run(_ c: Int, _ j: Int) -> UnsafePointer<Float> {
            let off = c * Ldy.channelStride + j * Ldy.outerStride
            guard let y = reluOutput else { return dy + off }
            vreluGrad(y + off, dy + off, masked, Lz.inner)
            return UnsafePointer(masked)
        }
        var sdyx = [Double](repeating: 0, count: nb)
        var k = [Float](repeating: 0, count: nb)
        var c1 = k
        var c2 = k
        var mu = k
        for c in cs {
            var sdy = 0.0
            for b in 0..<nb {
                sdyx[b] = 0
                mu[b] = mean[b][c]
            }
            for j in 0..<Lz.outer {
                let g = run(c, j)
                let iz = c * Lz.channelStride + j * Lz.outerStride
                sdy += Double(vsum(g, Lz.inner))
                for b in 0..<nb {
                    let (_, s) = vsumGradAndProduct(g, z[b] + iz, Lz.inner, mu[b])
                    sdyx[b] += Double(s)
                }
            }
            for b in 0..<nb {
                let s = invStd[b][c]
                let db = Float(sdy)
                let dg = Float(sdyx[b]) * s
                dGamma[b][c] = dg
                dBeta[b][c] = db
                k[b] = (gamma[b]?[c] ?? 1) * s
                c1[b] = db / m
                c2[b] = dg / m * s
            }
            for j in 0..<Lz.outer {
                let g = run(c, j)
                let iz = c * Lz.channelStride + j * Lz.outerStride
                for b in 0..<nb {
                    vbatchNormInputGrad(g, z[b] + iz, z[b] + iz, Lz.inner, k: k[b], c1: c1[b], mu: mu[b], c2: c2[b])
                }
            }
        }
    }
}

/// y (layout Ly) = max(z·scale[c] + shift[c], 0), z in layout Lz: BatchNorm + ReLU + layout
/// change in one pass.
func channelAffineReLU(
    _ z: UnsafePointer<Float>, _ Lz: ChannelLayout, scale: [Float], shift: [Float],
    _ y: UnsafeMutablePointer<Float>, _ Ly: ChannelLayout
) {
    let box = UnsafeSendableBox((z, y))
    parallelChunks(Lz.channels, minWork: Lz.channels * Lz.perChannel) { cs in
        let (z, y) = box.value
        for c in cs {
            let a = V16(repeating: scale[c])
            let b = V16(repeating: shift[c])
            let zero = V16()
            for j in 0..<Lz.outer {
                let p = z + c * Lz.channelStride + j * Lz.outerStride
                let q = y + c * Ly.channelStride + j * Ly.outerStride
                var i = 0
                while i + 16 <= Lz.inner {
                    let v = load16(p + i) * a + b
                    store16(v.replacing(with: zero, where: .!(v .> zero)), q + i)
                    i += 16
                }
                while i < Lz.inner {
                    let v = p[i] * scale[c] + shift[c]
                    q[i] = v > 0 ? v : 0
                    i += 1
                }
            }
        }
    }
}

/// BatchNorm backward statistics behind a ReLU: per channel c, with
/// dy = (z·scale[c] + shift[c] > 0 ? g : 0) (the forward's ReLU mask, recomputed from z),
/// sdy[c] = Σ dy and sdyx[c] = Σ dy·(z − mean[c]); g in layout Lg, z in layout Lz (same runs).
/// The sums of `batchNormBackward`'s first pass on the masked gradient.
func maskedGradMoments(
    g: UnsafePointer<Float>, _ Lg: ChannelLayout, z: UnsafePointer<Float>, _ Lz: ChannelLayout,
    scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, sdy: UnsafeMutablePointer<Double>, sdyx: UnsafeMutablePointer<Double>
) {
    let box = UnsafeSendableBox((g, z, scale, shift, mean, sdy, sdyx))
    parallelChunks(Lz.channels, minWork: Lz.channels * Lz.perChannel) { cs in
        let (g, z, scale, shift, mean, sdy, sdyx) = box.value
        for c in cs {
            var a = 0.0
            var b = 0.0
            for j in 0..<Lz.outer {
                let (s1, s2) = vmaskedGradAndProduct(
                    g + c * Lg.channelStride + j * Lg.outerStride,
                    z + c * Lz.channelStride + j * Lz.outerStride, Lz.inner,
                    a: scale[c], b: shift[c], mu: mean[c])
                a += Double(s1)
                b += Double(s2)
            }
            sdy[c] = a
            sdyx[c] = b
        }
    }
}
