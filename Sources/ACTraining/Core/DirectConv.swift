// Direct (im2col-free) convolution for stride-1 "same" convolutions: forward, weight gradient
// and input gradient with register tiles sized per ISA (AVX-512, AVX2). Used by `ConvEngine` for every conv it
// can express (groups 1, stride 1, zero padding, output size = input size: the 3x3/p1 and
// 5x5/p2 layers of the training models and their ACB branches); everything else keeps the
// im2col + SGEMM path.
//
// Padded-plane layout. Every channel of a padded image is one plane of `planeSize` floats with
// row pitch Wp = W + dW·(KW−1); pixel (i, j) of an H×W image sits at `lead + i·Wp + j`, every
// other element is zero. The input x uses lead = pt·Wp + pl (its padding), the output gradient
// dZ uses lead = pb·Wp + pr (the padding of the transposed convolution). With q = oh·Wp + ow:
//   forward   Z[o, q]      = Σ_{c,kh,kw} W[o,c,kh,kw] · xP[c][q + kh·dH·Wp + kw·dW]
//   dW        dW[o,c,kh,kw] = Σ_{oh<H, ow<W} dZ[o][oh·W + ow] · xP[c][oh·Wp + ow + kh·dH·Wp + kw·dW]
//             (dZ transposed per image to pixel-major rows, output channels in the lanes)
//   dx        dx[c, r]     = Σ_{o,kh,kw} W[o,c,kh,kw] · dZP[o][r + (KH−1−kh)·dH·Wp + (KW−1−kw)·dW]
// for q, r over [0, 16·nv), nv = ⌈((H−1)·Wp + W)/16⌉ vectors; outputs at columns ≥ W are
// discarded. Forward and dx are "sum over sources (plane offset, weight)" loops over contiguous
// 16-float vectors, dW a sum over interior pixels of (16 dZ channels) × (broadcast x value) —
// no im2col, no packing. The tile loops live in ACTrainingKernels (built for AVX-512) and
// ACTrainingKernelsAVX2 (AVX2 + FMA, 16-register tiles), chosen at run time
// (`TrainingKernelISA.active`); without either ISA the path is not taken.

import CACNet
import Dispatch

/// Copies n floats (short rows: 16-, 8-, 4-wide steps, then scalars); `add` accumulates.
@inline(__always) private func copyRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, add: Bool)
{
    if add {
        vadd(s, d, n)
        return
    }
    var i = 0
    while i &+ 16 <= n {
        store16(load16(s + i), d + i)
        i &+= 16
    }
    if i &+ 8 <= n {
        store8(load8(s + i), d + i)
        i &+= 8
    }
    if i &+ 4 <= n {
        store4(load4(s + i), d + i)
        i &+= 4
    }
    while i < n {
        d[i] = s[i]
        i &+= 1
    }
}

/// The geometry of one direct convolution and its branches' sources (see the file comment).
struct DirectConvPlan {
    struct Branch {
        var kb: Int
        /// Per weight column j: offset of its source in an image's input planes.
        var xOffsets: [Int]
        /// Distinct (kh, kw) taps, and for tap t and channel c the weight column `jOf[t·C + c]`.
        var taps: [(kh: Int, kw: Int)]
        var jOf: [Int]
    }

    let C: Int, O: Int, H: Int, W: Int, KH: Int, KW: Int, dH: Int, dW: Int
    let Wp: Int, planeSize: Int, nv: Int
    let xLead: Int, dzLead: Int
    let branches: [Branch]

    var rowLength: Int { nv * 16 }

    /// The tile loops for this CPU (AVX-512 or AVX2 on x86_64, the baseline SIMD build elsewhere).
    let kernels: DirectConvKernelTable

    /// nil when the convolution is not stride-1 "same" with zero padding and one group, a
    /// branch does not read whole taps of every channel, or the CPU lacks the kernels' ISA.
    init?(
        _ g: ConvGeometry, outputChannels O: Int, branches bs: [ConvBranch],
        kernels table: DirectConvKernelTable? = DirectConvKernelTable.active
    ) {
        guard let table, g.groups == 1, g.strideH == 1, g.strideW == 1, g.mode == .zeros,
            g.outH == g.height, g.outW == g.width, g.batch > 0
        else { return nil }
        #if DEBUG
        // Unoptimised builds run these SIMD kernels ~150× slower than release builds (measured);
        // there only small convolutions (the layer and ACB tests) take this path, and the
        // model-level tests stay on im2col + OpenBLAS.
        guard g.batch * O * g.rowsPerGroup * g.outH * g.outW <= 1 << 22 else { return nil }
        #endif
        kernels = table
        C = g.channels
        self.O = O
        H = g.height
        W = g.width
        KH = g.kernelH
        KW = g.kernelW
        dH = g.dilationH
        dW = g.dilationW
        Wp = W + dW * (KW - 1)
        let L = (H - 1) * Wp + W
        nv = (L + 15) / 16
        let maxOff = dH * (KH - 1) * Wp + dW * (KW - 1)
        planeSize = (nv * 16 + maxOff + 16 + 15) / 16 * 16
        xLead = g.padding.top * Wp + g.padding.left
        dzLead = g.padding.bottom * Wp + g.padding.right
        let R = g.rowsPerGroup
        var out: [Branch] = []
        for b in bs {
            var xOffsets = [Int](repeating: 0, count: b.kb)
            var tapIndex: [Int: Int] = [:]
            var taps: [(kh: Int, kw: Int)] = []
            var entries: [(t: Int, c: Int, j: Int)] = []
            for j in 0..<b.kb {
                let r = b.rowOffset + j * b.rowStride
                guard r < R else { return nil }
                let kw = r % KW
                let c = (r / KW) % C
                let kh = r / (KW * C)
                xOffsets[j] = c * planeSize + kh * dH * Wp + kw * dW
                let key = kh * KW + kw
                let t: Int
                if let e = tapIndex[key] {
                    t = e
                } else {
                    t = taps.count
                    tapIndex[key] = t
                    taps.append((kh, kw))
                }
                entries.append((t, c, j))
            }
            guard taps.count * C == b.kb else { return nil }
            var jOf = [Int](repeating: -1, count: b.kb)
            for e in entries {
                guard jOf[e.t * C + e.c] < 0 else { return nil }
                jOf[e.t * C + e.c] = e.j
            }
            out.append(Branch(kb: b.kb, xOffsets: xOffsets, taps: taps, jOf: jOf))
        }
        branches = out
    }
}

/// Zeroed plane storage that stays zero in the padding between uses: a buffer is cleared only
/// when its layout changes, then only the image interiors are rewritten.
final class PlaneBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private var capacity = 0
    private var key: [Int] = []

    /// 64-byte aligned (one cache line, one 16-float vector).
    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64).bindMemory(
            to: Float.self, capacity: max(n, 16))
    }

    init() { pointer = Self.allocate(16) }
    deinit { pointer.deallocate() }

    func prepare(_ count: Int, key newKey: [Int]) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = Self.allocate(count)
            capacity = count
            key = []
        }
        if newKey != key {
            pointer.initialize(repeating: 0, count: capacity)
            key = newKey
        }
        return pointer
    }
}

/// Direct-convolution driver with per-thread buffers (one per `ConvEngine`).
final class DirectConvEngine {
    private var xBufs: [PlaneBuffer] = []
    private var fxBufs: [PlaneBuffer] = []
    private var zBufs: [PlaneBuffer] = []
    private var outBufs: [ScratchBuffer] = []
    private var tBufs: [ScratchBuffer] = []
    private let dWAcc = ScratchBuffer()
    private let packed = ScratchBuffer()

    private func ensureThreads(_ t: Int) {
        while xBufs.count < t { xBufs.append(PlaneBuffer()) }
        while fxBufs.count < t { fxBufs.append(PlaneBuffer()) }
        while zBufs.count < t { zBufs.append(PlaneBuffer()) }
        while outBufs.count < t { outBufs.append(ScratchBuffer()) }
        while tBufs.count < t { tBufs.append(ScratchBuffer()) }
    }

    /// Copies image n of x (NCHW) into `count` consecutive padded planes at `dst`.
    @inline(__always)
    private static func fillPlanes(
        _ p: DirectConvPlan, _ src: UnsafePointer<Float>, channels: Int,
        _ dst: UnsafeMutablePointer<Float>, lead: Int
    ) {
        p.kernels.copyPlaneRows(src, p.W, p.H * p.W, dst + lead, p.Wp, p.planeSize, channels, p.H, p.W)
    }

    /// Forward of every branch (see `ConvEngine.forward`): Z_b in [O, N·H·W], optional moments.
    func forward(
        _ p: DirectConvPlan, batch N: Int, x: UnsafePointer<Float>, branches: [ConvBranch],
        statsShift: [[Float]]?
    ) -> [(sum: [Double], sumSquares: [Double])]? {
        let O = p.O
        let C = p.C
        let hw = p.H * p.W
        let P = N * hw
        let ld = p.rowLength
        let oBlocks = (O + 7) / 8
        // Weights per branch: [oBlock][j][8] (zero rows past O).
        let (wp, wOff) = packForwardWeights(branches, outputChannels: O, into: packed)
        let t = max(1, min(trainingThreadCount, N))
        ensureThreads(t)
        let nb = branches.count
        // Moments per image (reduced in image order below), images claimed one at a time.
        let moments = UnsafeMutablePointer<Double>.allocate(capacity: N * nb * O * 2)
        moments.initialize(repeating: 0, count: N * nb * O * 2)
        defer { moments.deallocate() }
        let next = WorkCounter()
        let key = [1, C, p.planeSize, p.Wp, p.xLead, p.H, p.W]
        let xs = (0..<t).map { fxBufs[$0].prepare(C * p.planeSize, key: key) }
        let outs = (0..<t).map { outBufs[$0].ensure(oBlocks * 8 * ld) }
        let offsets = p.branches.map(\.xOffsets)
        let box = UnsafeSendableBox((x, xs, outs, branches, moments, wp, offsets))
        DispatchQueue.concurrentPerform(iterations: t) { tid in
            let (x, xs, outs, branches, moments, wp, offsets) = box.value
            let xp = xs[tid]
            let out = outs[tid]
            while true {
                let n = next.claim()
                if n >= N { break }
                Self.fillPlanes(p, x + n * C * hw, channels: C, xp, lead: p.xLead)
                for (bi, b) in branches.enumerated() {
                    offsets[bi].withUnsafeBufferPointer { offs in
                        for ob in 0..<oBlocks {
                            p.kernels.directTiles(
                                xp, offs.baseAddress!, b.kb, wp + wOff[bi] + ob * b.kb * 8,
                                out + ob * 8 * ld, ld, p.nv)
                        }
                    }
                    if b.accumulate {
                        for o in 0..<O {
                            let s = out + o * ld
                            let d = b.z + o * P + n * hw
                            for i in 0..<p.H { copyRow(s + i * p.Wp, d + i * p.W, p.W, add: true) }
                        }
                    } else {
                        p.kernels.copyPlaneRows(out, p.Wp, ld, b.z + n * hw, p.W, P, O, p.H, p.W)
                    }
                }
                if let statsShift {
                    accumulateMoments(
                        branches, statsShift, into: moments + n * nb * O * 2, O: O, P: P,
                        first: n * hw, count: hw)
                }
            }
        }
        guard let statsShift else { return nil }
        return reduceMoments(moments, threads: N, branches: nb, statsCount: statsShift.count, O: O)
    }

    /// Backward (see `ConvEngine.backward`): dW_b += dZ_b ⋆ x, and dx = Σ_b W_bᵀ ⋆ dZ_b.
    ///
    /// Weight gradient: dZ_b of each image is transposed to pixel-major rows of `oPad` floats
    /// (output channels in the lanes, zero past O), and `directWeightTileT2`/`T1` accumulate
    /// dWᵀ[j][o] over the interior pixels with x as broadcast scalars from the padded planes:
    /// 32 channels × 12 sources per tile, per-chunk dWᵀ accumulators, no horizontal sums.
    /// Chunks of images (and in the forward, single images) are claimed one at a time by
    /// whichever thread is free (`WorkCounter`); accumulators are reduced in chunk (image) order.
    func backward(
        _ p: DirectConvPlan, batch N: Int, x: UnsafePointer<Float>, branches: [ConvBranch],
        dx: UnsafeMutablePointer<Float>?, dzImage: DZProducer? = nil
    ) {
        let O = p.O
        let C = p.C
        let hw = p.H * p.W
        let P = N * hw
        let ld = p.rowLength
        let ps = p.planeSize
        let nb = branches.count
        let oPad = (O + 15) / 16 * 16
        // dZ planes per image (input gradient only): nb·O planes.
        let zPlanes = nb * O
        let tImage = nb * hw * oPad
        let perImage = (C * ps + (dx != nil ? zPlanes * ps : 0) + tImage + (dzImage != nil ? O * hw : 0)) * 4
        let t0 = max(1, min(trainingThreadCount, N))
        // Images per chunk: the chunk's input planes are read once per 32 output channels and
        // its transposed dZ once per 12 sources, so both should stay in L2 (≤ 1 MB together).
        let ipc = imagesPerChunk(
            N, bytesPerImage: perImage, threads: t0,
            accumulatorFloats: p.branches.reduce(0) { $0 + ($1.kb + 11) / 12 * 12 } * oPad)
        let chunks = (N + ipc - 1) / ipc
        let t = max(1, min(t0, chunks))
        ensureThreads(t)
        // Input-gradient sources: for every branch, output channel and tap, one plane offset;
        // weights [cBlock][source][8] (zero rows past C).
        let cBlocks = (C + 7) / 8
        var dxOffsets: [Int] = []
        var dxWeightRefs: [(b: Int, o: Int, t: Int)] = []
        if dx != nil {
            for (bi, b) in p.branches.enumerated() {
                for o in 0..<O {
                    for (ti, tap) in b.taps.enumerated() {
                        dxOffsets.append(
                            (bi * O + o) * ps + (p.KH - 1 - tap.kh) * p.dH * p.Wp
                                + (p.KW - 1 - tap.kw) * p.dW)
                        dxWeightRefs.append((bi, o, ti))
                    }
                }
            }
        }
        let S = dxOffsets.count
        let wdx = packed.ensure(max(1, cBlocks * S * 8))
        for cb in 0..<cBlocks {
            for (s, r) in dxWeightRefs.enumerated() {
                let b = p.branches[r.b]
                let w = branches[r.b].weight
                for i in 0..<8 {
                    let c = cb * 8 + i
                    wdx[(cb * S + s) * 8 + i] = c < C ? w[r.o * b.kb + b.jOf[r.t * C + c]] : 0
                }
            }
        }
        // Weight-gradient sources per branch, padded to whole 12-source tiles with copies of
        // source 0 (their sums land in accumulator rows that are never read back).
        let kbPads = p.branches.map { ($0.kb + 11) / 12 * 12 }
        let xOffsets = zip(p.branches, kbPads).map { b, kp in
            b.xOffsets + [Int](repeating: b.xOffsets[0], count: kp - b.kb)
        }
        // Thread-local dWᵀ accumulators, [kbPad][oPad] per branch.
        var accOffs: [Int] = []
        var accSum = 0
        for kp in kbPads {
            accOffs.append(accSum)
            accSum += kp * oPad
        }
        let accOff = accOffs
        let accTotal = accSum
        let xKey = [2, C, ps, p.Wp, p.xLead, p.H, p.W, ipc]
        let zKey = [3, zPlanes, ps, p.Wp, p.dzLead, p.H, p.W, ipc]
        let xs = (0..<t).map { xBufs[$0].prepare(ipc * C * ps, key: xKey) }
        // dZ planes start `zShift` floats into their 64-byte-aligned buffer so that dZ pixel (0, 0)
        // (lead dzLead) is vector-aligned.
        let zShift = (16 - p.dzLead % 16) % 16
        let zs = (0..<t).map { tid -> UnsafeMutablePointer<Float>? in
            dx == nil ? nil : zBufs[tid].prepare(ipc * zPlanes * ps + 16, key: zKey) + zShift
        }
        let outs = (0..<t).map { outBufs[$0].ensure(dx == nil ? 16 : cBlocks * 8 * ld + 32) }
        // With `dzImage`: image li's dZ ([O][hw]) is produced at `tz + ipc·tImage + li·O·hw`.
        let tzs = (0..<t).map { tBufs[$0].ensure(ipc * tImage + (dzImage != nil ? ipc * O * hw : 0)) }
        // dWᵀ accumulators per chunk (chunks are claimed one at a time by whichever thread is
        // free, and reduced in chunk order below: repeatable for a given thread count).
        let dWAll = dWAcc.ensure(chunks * accTotal)
        dWAll.update(repeating: 0, count: chunks * accTotal)
        let next = WorkCounter()
        let box = UnsafeSendableBox((x, xs, zs, outs, tzs, dWAll, branches, dx, xOffsets, dxOffsets, wdx))
        let dzBox = UnsafeSendableBox(dzImage)
        DispatchQueue.concurrentPerform(iterations: t) { tid in
            let (x, xs, zs, outs, tzs, dWAll, branches, dx, xOffsets, dxOffsets, wdx) = box.value
            let dzImage = dzBox.value
            let xp = xs[tid]
            let zp = zs[tid]
            let out = outs[tid]
            let tz = tzs[tid]
            while true {
                let ci = next.claim()
                if ci >= chunks { break }
                let dWt = dWAll + ci * accTotal
                let n0 = ci * ipc
                let n1 = min(N, n0 + ipc)
                let m = n1 - n0
                for li in 0..<m {
                    let n = n0 + li
                    Self.fillPlanes(p, x + n * C * hw, channels: C, xp + li * C * ps, lead: p.xLead)
                    // Image n's dZ of branch bi: rows of `lds` floats at `produced` (one branch)
                    // or in the branch's Z buffer.
                    let produced = tz + ipc * tImage + li * O * hw
                    if let dzImage { dzImage(n, produced, hw) }
                    let lds = dzImage != nil ? hw : P
                    for bi in 0..<nb {
                        let src = dzImage != nil ? produced : branches[bi].z + n * hw
                        p.kernels.transposeToPixelMajor(src, lds, O, hw, tz + (li * nb + bi) * hw * oPad, oPad)
                    }
                    guard let zp else { continue }
                    let zi = zp + li * zPlanes * ps
                    for bi in 0..<nb {
                        let src = dzImage != nil ? produced : branches[bi].z + n * hw
                        p.kernels.copyPlaneRows(src, p.W, lds, zi + bi * O * ps + p.dzLead, p.Wp, ps, O, p.H, p.W)
                    }
                }
                // dWᵀ_b[j][o] += Σ_images Σ_pixels dZᵀ[pixel][o] · x[xOffsets[j] + pixel'].
                for bi in 0..<nb {
                    xOffsets[bi].withUnsafeBufferPointer { xo in
                        let xob = xo.baseAddress!
                        var o0 = 0
                        while o0 < O {
                            let two = o0 + 32 <= oPad
                            let zb = tz + bi * hw * oPad + o0
                            var j0 = 0
                            while j0 < kbPads[bi] {
                                let acc = dWt + accOff[bi] + j0 * oPad + o0
                                if two {
                                    p.kernels.weightTileT2(
                                        zb, oPad, xp, xob + j0, p.H, p.W, p.Wp, m, tImage, C * ps, acc, oPad)
                                } else {
                                    p.kernels.weightTileT1(
                                        zb, oPad, xp, xob + j0, p.H, p.W, p.Wp, m, tImage, C * ps, acc, oPad)
                                }
                                j0 += 12
                            }
                            o0 += two ? 32 : 16
                        }
                    }
                }
                // dx[c] = Σ sources, 8 channels × 3 vectors per tile, then compacted to NCHW.
                guard let dx, let zp else { continue }
                dxOffsets.withUnsafeBufferPointer { offs in
                    for li in 0..<m {
                        let zi = zp + li * zPlanes * ps
                        for cb in 0..<cBlocks {
                            p.kernels.directTiles(
                                zi, offs.baseAddress!, S, wdx + cb * S * 8, out + cb * 8 * ld, ld, p.nv)
                        }
                        let dxi = dx + (n0 + li) * C * hw
                        p.kernels.copyPlaneRows(out, p.Wp, ld, dxi, p.W, hw, C, p.H, p.W)
                    }
                }
            }
        }
        for (bi, b) in branches.enumerated() {
            guard let dW = b.dW else { continue }
            let kb = b.kb
            reduceChunkAccumulators(
                dWAll + accOff[bi], chunks: chunks, stride: accTotal, kb: kb, O: O, oPad: oPad, into: dW)
        }
    }
}

/// Packs each branch's forward weights, `ConvBranch.weight` [O][kb] row-major, into blocks of 8
/// output channels, [ceil(O/8)][kb][8] with the rows past O zero (the layout the forward tiles
/// read), one branch after another in `scratch`. Returns the base and each branch's offset in
/// floats; the memory belongs to `scratch` and stays valid until its next `ensure`. Not thread
/// safe (one engine, one caller), as the engines that use it.
func packForwardWeights(
    _ branches: [ConvBranch], outputChannels O: Int, into scratch: ScratchBuffer
)
    -> (base: UnsafeMutablePointer<Float>, offsets: [Int])
{
    let oBlocks = (O + 7) / 8
    var offsets: [Int] = []
    var total = 0
    for b in branches {
        offsets.append(total)
        total += oBlocks * b.kb * 8
    }
    let base = scratch.ensure(total)
    for (bi, b) in branches.enumerated() {
        let kb = b.kb
        let dst = base + offsets[bi]
        for ob in 0..<oBlocks {
            for j in 0..<kb {
                for i in 0..<8 {
                    let o = ob * 8 + i
                    dst[(ob * kb + j) * 8 + i] = o < O ? b.weight[o * kb + j] : 0
                }
            }
        }
    }
    return (base, offsets)
}

/// Images per backward chunk of the direct engines: the chunk's planes (`bytesPerImage` each)
/// should stay in L2 (≤ 1 MB), there should be about 4 chunks per thread (claimed dynamically),
/// and the per-chunk dWᵀ accumulators (`accumulatorFloats` each) at most 4 M floats in all.
/// Depends only on its arguments, so the chunking — and the summation order — is fixed for a
/// given thread count.
func imagesPerChunk(_ N: Int, bytesPerImage: Int, threads t: Int, accumulatorFloats: Int) -> Int {
    var ipc = max(1, min(N, (1 << 20) / max(bytesPerImage, 1), (N + 4 * t - 1) / (4 * t)))
    let maxChunks = max(t, (1 << 22) / max(accumulatorFloats, 1))
    if (N + ipc - 1) / ipc > maxChunks { ipc = (N + maxChunks - 1) / maxChunks }
    return ipc
}

/// dW[o·kb + j] += Σ_{ci < chunks, in order} acc[ci·stride + j·oPad + o]: the per-chunk dWᵀ
/// accumulators of the direct engines, split over the threads by weight column j (each column
/// is summed over the chunks in order into a contiguous row of oPad floats, whatever the split,
/// then added to dW).
func reduceChunkAccumulators(
    _ acc: UnsafePointer<Float>, chunks: Int, stride: Int, kb: Int, O: Int, oPad: Int,
    into dW: UnsafeMutablePointer<Float>
) {
    let box = UnsafeSendableBox((acc, dW))
    parallelChunks(kb, minWork: chunks * kb * O) { js in
        let (acc, dW) = box.value
        let row = UnsafeMutablePointer<Float>.allocate(capacity: oPad)
        defer { row.deallocate() }
        for j in js {
            row.update(from: acc + j * oPad, count: O)
            for ci in 1..<max(chunks, 1) { vadd(acc + ci * stride + j * oPad, row, O) }
            for o in 0..<O { dW[o * kb + j] += row[o] }
        }
    }
}
