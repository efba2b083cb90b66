// Direct (im2col-free) convolution for strided convolutions — ResNet's 3x3/s2 down-sampling
// convs, their ACB branches and the 1x1/s2 projection shortcuts — by polyphase decomposition
// onto the same tile loops as the stride-1 path (DirectConv.swift, `DirectConvKernelTable`).
//
// Stride (sH, sW), dilation 1, zero padding (pt, pl, …), one group. Phase (a, b), a < sH, b < sW,
// of the zero-padded input xP is the sub-grid P_ab[c][i][j] = xP[c][sH·i + a][sW·j + b]. Tap
// (kh, kw) reads phase (kh mod sH, kw mod sW) shifted by (kh / sH, kw / sW), so
//   forward  Z[o][oh][ow]   = Σ_{c,kh,kw} W[o,c,kh,kw] · P_{kh%sH,kw%sW}[c][oh + kh/sH][ow + kw/sW]
//   dW       dW[o,c,kh,kw]  = Σ_{oh,ow} dZ[o][oh][ow] · P_{kh%sH,kw%sW}[c][oh + kh/sH][ow + kw/sW]
//   dx       dxP_ab[c][i][j] = Σ_{o, kh%sH=a, kw%sW=b} W[o,c,kh,kw] · dZ[o][i − kh/sH][j − kw/sW]
// Forward and dW are the stride-1 sums over (plane offset, weight) sources with phase planes
// of pitch Wq = OW + Dl (Dt = (KH−1)/sH, Dl = (KW−1)/sW, the largest shifts) and
// `Iq = OH + Dt` rows; the input gradient is one stride-1 "sum over sources" per phase over
// dZ planes padded by Dt rows above and Dl columns left (zeros elsewhere), then scattered back
// to the phase's pixels of dx. No multiply-add is spent on a zero of the stride (a 3x3/s2
// input gradient is four passes with 4, 2, 2 and 1 taps), and no im2col matrix is built.

import Dispatch

/// The geometry of one strided direct convolution and its branches' sources.
struct StridedConvPlan {
    struct Branch {
        var kb: Int
        /// Per weight column j: offset of its source in an image's phase planes.
        var xOffsets: [Int]
        /// Distinct (kh, kw) taps, and for tap t and channel c the weight column `jOf[t·C + c]`.
        var taps: [(kh: Int, kw: Int)]
        var jOf: [Int]
    }

    let C: Int, O: Int, H: Int, W: Int, OH: Int, OW: Int, KH: Int, KW: Int, sH: Int, sW: Int
    let pt: Int, pl: Int
    /// Largest tap shifts in phase rows / columns.
    let Dt: Int, Dl: Int
    /// Forward phase planes: `Iq` rows of pitch `Wq`, `planeSize` floats each; only the phases
    /// in `usedPhases` (a·sW + b) are stored, `phaseSlot[a·sW + b]` their index (−1: unused).
    let Iq: Int, Wq: Int, planeSize: Int, nv: Int
    let usedPhases: [Int], phaseSlot: [Int]
    /// Per used phase: the phase rows i and columns j that hold input pixels.
    let phaseRows: [Range<Int>], phaseCols: [Range<Int>]
    /// Input gradient: phase rows `Ix` × columns `Jx` computed at pitch `Wz` from dZ planes of
    /// `zPlaneSize` floats (dZ pixel (0, 0) at `zLead`), `nvx` 16-float vectors per row set.
    let Ix: Int, Jx: Int, Wz: Int, zPlaneSize: Int, zLead: Int, nvx: Int
    let branches: [Branch]
    let kernels: DirectConvKernelTable

    var rowLength: Int { nv * 16 }
    var dxRowLength: Int { nvx * 16 }

    /// The phase rows i < count with 0 ≤ s·i + a − pad < n (contiguous).
    private static func phaseRange(_ a: Int, pad: Int, stride s: Int, size n: Int, count: Int) -> Range<Int> {
        var lo = 0
        while lo < count && s * lo + a - pad < 0 { lo += 1 }
        var hi = lo
        while hi < count && s * hi + a - pad < n { hi += 1 }
        return lo..<hi
    }

    /// nil unless the convolution is strided (sH or sW > 1) with dilation 1, zero padding and one
    /// group, every branch reads whole taps of every channel, and the CPU has the kernels' ISA.
    init?(
        _ g: ConvGeometry, outputChannels O: Int, branches bs: [ConvBranch],
        kernels table: DirectConvKernelTable? = DirectConvKernelTable.active
    ) {
        guard let table, g.groups == 1, g.strideH > 1 || g.strideW > 1, g.dilationH == 1, g.dilationW == 1,
            g.mode == .zeros, g.batch > 0, g.outH > 0, g.outW > 0
        else { return nil }
        #if DEBUG
        // As in `DirectConvPlan`: unoptimised builds take this path only for small convolutions.
        guard g.batch * O * g.rowsPerGroup * g.outH * g.outW <= 1 << 22 else { return nil }
        #endif
        kernels = table
        C = g.channels
        self.O = O
        H = g.height
        W = g.width
        OH = g.outH
        OW = g.outW
        KH = g.kernelH
        KW = g.kernelW
        sH = g.strideH
        sW = g.strideW
        pt = g.padding.top
        pl = g.padding.left
        Dt = (KH - 1) / sH
        Dl = (KW - 1) / sW
        Iq = OH + Dt
        Wq = OW + Dl
        nv = ((OH - 1) * Wq + OW + 15) / 16
        planeSize = (max(Iq * Wq, nv * 16 + Dt * Wq + Dl) + 16 + 15) / 16 * 16
        // Input gradient geometry.
        Ix = (H - 1 + pt) / sH + 1
        Jx = (W - 1 + pl) / sW + 1
        Wz = max(Jx, OW) + Dl
        nvx = ((Ix - 1) * Wz + Jx + 15) / 16
        zLead = Dt * Wz + Dl
        zPlaneSize = (max((max(Ix, OH) + Dt) * Wz, zLead + nvx * 16) + 16 + 15) / 16 * 16

        let R = g.rowsPerGroup
        var used = [Bool](repeating: false, count: sH * sW)
        var parsed: [[(kh: Int, c: Int, kw: Int)]] = []
        for b in bs {
            var rows: [(kh: Int, c: Int, kw: Int)] = []
            for j in 0..<b.kb {
                let r = b.rowOffset + j * b.rowStride
                guard r < R else { return nil }
                let kw = r % KW
                let c = (r / KW) % C
                let kh = r / (KW * C)
                rows.append((kh, c, kw))
                used[(kh % sH) * sW + kw % sW] = true
            }
            parsed.append(rows)
        }
        var slot = [Int](repeating: -1, count: sH * sW)
        var usedList: [Int] = []
        for ph in 0..<(sH * sW) where used[ph] {
            slot[ph] = usedList.count
            usedList.append(ph)
        }
        usedPhases = usedList
        phaseSlot = slot
        let nu = usedList.count
        let (sH, sW, KW, C, Wq, ps, pt, pl, H, W, Iq) = (sH, sW, KW, C, Wq, planeSize, pt, pl, H, W, Iq)
        phaseRows = usedList.map { Self.phaseRange($0 / sW, pad: pt, stride: sH, size: H, count: Iq) }
        phaseCols = usedList.map { Self.phaseRange($0 % sW, pad: pl, stride: sW, size: W, count: Wq) }
        var out: [Branch] = []
        for (bi, b) in bs.enumerated() {
            var xOffsets = [Int](repeating: 0, count: b.kb)
            var tapIndex: [Int: Int] = [:]
            var taps: [(kh: Int, kw: Int)] = []
            var entries: [(t: Int, c: Int, j: Int)] = []
            for (j, r) in parsed[bi].enumerated() {
                let s = slot[(r.kh % sH) * sW + r.kw % sW]
                xOffsets[j] = (r.c * nu + s) * ps + (r.kh / sH) * Wq + r.kw / sW
                let key = r.kh * KW + r.kw
                let t: Int
                if let e = tapIndex[key] {
                    t = e
                } else {
                    t = taps.count
                    tapIndex[key] = t
                    taps.append((r.kh, r.kw))
                }
                entries.append((t, r.c, j))
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

    /// Writes image `src` (C × H × W) into its used phase planes at `dst` (C·|usedPhases|
    /// planes); only the positions that hold input pixels are written, the zeros around them
    /// are left as they are (a `PlaneBuffer` keeps them).
    func fillPhases(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        let nu = usedPhases.count
        let hw = H * W
        for c in 0..<C {
            let s = src + c * hw
            for (u, ph) in usedPhases.enumerated() {
                let a = ph / sW
                let b = ph % sW
                let d = dst + (c * nu + u) * planeSize
                let cols = phaseCols[u]
                guard !cols.isEmpty else { continue }
                let iw0 = sW * cols.lowerBound + b - pl
                for i in phaseRows[u] {
                    let sr = s + (sH * i + a - pt) * W + iw0
                    let dr = d + i * Wq
                    if sW == 1 {
                        for j in cols { dr[j] = sr[j - cols.lowerBound] }
                    } else {
                        var k = 0
                        for j in cols {
                            dr[j] = sr[k]
                            k += sW
                        }
                    }
                }
            }
        }
    }
}

/// Strided direct-convolution driver with per-thread buffers (one per `ConvEngine`).
final class StridedConvEngine {
    private var xBufs: [PlaneBuffer] = []
    private var fxBufs: [PlaneBuffer] = []
    private var zBufs: [PlaneBuffer] = []
    private var outBufs: [ScratchBuffer] = []
    private let dWAcc = ScratchBuffer()
    private var tBufs: [ScratchBuffer] = []
    private let packed = ScratchBuffer()
    private let packedDx = ScratchBuffer()

    private func ensureThreads(_ t: Int) {
        while xBufs.count < t { xBufs.append(PlaneBuffer()) }
        while fxBufs.count < t { fxBufs.append(PlaneBuffer()) }
        while zBufs.count < t { zBufs.append(PlaneBuffer()) }
        while outBufs.count < t { outBufs.append(ScratchBuffer()) }
        while tBufs.count < t { tBufs.append(ScratchBuffer()) }
    }

    private func phaseKey(_ p: StridedConvPlan, _ images: Int) -> [Int] {
        [4, p.C, p.H, p.W, p.KH, p.KW, p.sH, p.sW, p.pt, p.pl, p.planeSize, p.Wq, p.usedPhases.count, images]
    }

    /// Forward of every branch (see `ConvEngine.forward`): Z_b in [O, N·OH·OW], optional moments.
    /// Images are claimed one at a time by whichever thread is free; moments per image are
    /// reduced in image order.
    func forward(
        _ p: StridedConvPlan, batch N: Int, x: UnsafePointer<Float>, branches: [ConvBranch],
        statsShift: [[Float]]?
    ) -> [(sum: [Double], sumSquares: [Double])]? {
        let O = p.O
        let C = p.C
        let chw = C * p.H * p.W
        let ohw = p.OH * p.OW
        let P = N * ohw
        let ld = p.rowLength
        let oBlocks = (O + 7) / 8
        let (wp, wOff) = packForwardWeights(branches, outputChannels: O, into: packed)
        let t = max(1, min(trainingThreadCount, N))
        ensureThreads(t)
        let nb = branches.count
        // Moments per image (reduced in image order below), images claimed one at a time.
        let moments = UnsafeMutablePointer<Double>.allocate(capacity: N * nb * O * 2)
        moments.initialize(repeating: 0, count: N * nb * O * 2)
        defer { moments.deallocate() }
        let next = WorkCounter()
        let key = phaseKey(p, 1)
        let xs = (0..<t).map { fxBufs[$0].prepare(C * p.usedPhases.count * p.planeSize, key: key) }
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
                p.fillPhases(x + n * chw, xp)
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
                            let d = b.z + o * P + n * ohw
                            for i in 0..<p.OH { vadd(s + i * p.Wq, d + i * p.OW, p.OW) }
                        }
                    } else {
                        p.kernels.copyPlaneRows(out, p.Wq, ld, b.z + n * ohw, p.OW, P, O, p.OH, p.OW)
                    }
                }
                if let statsShift {
                    accumulateMoments(
                        branches, statsShift, into: moments + n * nb * O * 2, O: O, P: P,
                        first: n * ohw, count: ohw)
                }
            }
        }
        guard let statsShift else { return nil }
        return reduceMoments(moments, threads: N, branches: nb, statsCount: statsShift.count, O: O)
    }

    /// Backward (see `ConvEngine.backward`; dZ_b already in `branches[b].z`): dW_b += dZ_b ⋆ x
    /// with the stride-1 weight-gradient tiles over the phase planes, and dx = Σ_b W_bᵀ ⋆ dZ_b
    /// one phase at a time. Chunks of images are claimed one at a time by whichever thread is
    /// free, each with its own dW accumulators, summed in chunk order: deterministic for a given
    /// thread count.
    func backward(
        _ p: StridedConvPlan, batch N: Int, x: UnsafePointer<Float>, branches: [ConvBranch],
        dx: UnsafeMutablePointer<Float>?
    ) {
        let O = p.O
        let C = p.C
        let chw = C * p.H * p.W
        let ohw = p.OH * p.OW
        let P = N * ohw
        let ps = p.planeSize
        let nu = p.usedPhases.count
        let zps = p.zPlaneSize
        let ldx = p.dxRowLength
        let nb = branches.count
        let oPad = (O + 15) / 16 * 16
        let zPlanes = nb * O
        let tImage = nb * ohw * oPad
        let perImage = (C * nu * ps + (dx != nil ? zPlanes * zps : 0) + tImage) * 4
        let t0 = max(1, min(trainingThreadCount, N))
        let ipc = imagesPerChunk(
            N, bytesPerImage: perImage, threads: t0,
            accumulatorFloats: p.branches.reduce(0) { $0 + ($1.kb + 11) / 12 * 12 } * oPad)
        let chunks = (N + ipc - 1) / ipc
        let t = max(1, min(t0, chunks))
        ensureThreads(t)
        // Input-gradient sources per phase: (branch, output channel, tap of that phase) →
        // dZ-plane offset; weights [phase][cBlock][source][8] (zero rows past C).
        let cBlocks = (C + 7) / 8
        let phases = p.sH * p.sW
        var dxOffsets = [[Int]](repeating: [], count: phases)
        var wdxOffs = [Int](repeating: 0, count: phases)
        var wdxTotal = 0
        if dx != nil {
            var refs = [[(b: Int, o: Int, t: Int)]](repeating: [], count: phases)
            for (bi, b) in p.branches.enumerated() {
                for o in 0..<O {
                    for (ti, tap) in b.taps.enumerated() {
                        let ph = (tap.kh % p.sH) * p.sW + tap.kw % p.sW
                        dxOffsets[ph].append(
                            (bi * O + o) * zps + (p.Dt - tap.kh / p.sH) * p.Wz + (p.Dl - tap.kw / p.sW))
                        refs[ph].append((bi, o, ti))
                    }
                }
            }
            for ph in 0..<phases {
                wdxOffs[ph] = wdxTotal
                wdxTotal += cBlocks * refs[ph].count * 8
            }
            let wdx = packedDx.ensure(max(1, wdxTotal))
            for ph in 0..<phases {
                let S = refs[ph].count
                for cb in 0..<cBlocks {
                    for (s, r) in refs[ph].enumerated() {
                        let b = p.branches[r.b]
                        let w = branches[r.b].weight
                        for i in 0..<8 {
                            let c = cb * 8 + i
                            wdx[wdxOffs[ph] + (cb * S + s) * 8 + i] = c < C ? w[r.o * b.kb + b.jOf[r.t * C + c]] : 0
                        }
                    }
                }
            }
        }
        let wdx = packedDx.pointer
        let wdxOff = wdxOffs
        let kbPads = p.branches.map { ($0.kb + 11) / 12 * 12 }
        let xOffsets = zip(p.branches, kbPads).map { b, kp in
            b.xOffsets + [Int](repeating: b.xOffsets[0], count: kp - b.kb)
        }
        var accOffs: [Int] = []
        var accSum = 0
        for kp in kbPads {
            accOffs.append(accSum)
            accSum += kp * oPad
        }
        let accOff = accOffs
        let accTotal = accSum
        let xKey = phaseKey(p, ipc)
        let zKey = [5, zPlanes, zps, p.Wz, p.zLead, p.OH, p.OW, ipc]
        let xs = (0..<t).map { xBufs[$0].prepare(ipc * C * nu * ps, key: xKey) }
        let zs = (0..<t).map { tid -> UnsafeMutablePointer<Float>? in
            dx == nil ? nil : zBufs[tid].prepare(ipc * zPlanes * zps, key: zKey)
        }
        let outs = (0..<t).map { outBufs[$0].ensure(dx == nil ? 16 : cBlocks * 8 * ldx + 32) }
        let tzs = (0..<t).map { tBufs[$0].ensure(ipc * tImage) }
        let dWAll = dWAcc.ensure(chunks * accTotal)
        dWAll.update(repeating: 0, count: chunks * accTotal)
        let next = WorkCounter()
        let box = UnsafeSendableBox((x, xs, zs, outs, tzs, dWAll, branches, dx, xOffsets, dxOffsets, wdx))
        DispatchQueue.concurrentPerform(iterations: t) { tid in
            let (x, xs, zs, outs, tzs, dWAll, branches, dx, xOffsets, dxOffsets, wdx) = box.value
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
                    p.fillPhases(x + n * chw, xp + li * C * nu * ps)
                    for bi in 0..<nb {
                        p.kernels.transposeToPixelMajor(
                            branches[bi].z + n * ohw, P, O, ohw,
                            tz + (li * nb + bi) * ohw * oPad, oPad)
                    }
                    guard let zp else { continue }
                    let zi = zp + li * zPlanes * zps
                    for bi in 0..<nb {
                        p.kernels.copyPlaneRows(
                            branches[bi].z + n * ohw, p.OW, P, zi + bi * O * zps + p.zLead, p.Wz,
                            zps, O, p.OH, p.OW)
                    }
                }
                // dWᵀ_b[j][o] += Σ_images Σ_output pixels dZᵀ[pixel][o] · phase-plane value.
                for bi in 0..<nb {
                    xOffsets[bi].withUnsafeBufferPointer { xo in
                        let xob = xo.baseAddress!
                        var o0 = 0
                        while o0 < O {
                            let two = o0 + 32 <= oPad
                            let zb = tz + bi * ohw * oPad + o0
                            var j0 = 0
                            while j0 < kbPads[bi] {
                                let acc = dWt + accOff[bi] + j0 * oPad + o0
                                if two {
                                    p.kernels.weightTileT2(
                                        zb, oPad, xp, xob + j0, p.OH, p.OW, p.Wq, m, tImage,
                                        C * nu * ps, acc, oPad)
                                } else {
                                    p.kernels.weightTileT1(
                                        zb, oPad, xp, xob + j0, p.OH, p.OW, p.Wq, m, tImage,
                                        C * nu * ps, acc, oPad)
                                }
                                j0 += 12
                            }
                            o0 += two ? 32 : 16
                        }
                    }
                }
                guard let dx, let zp else { continue }
                for li in 0..<m {
                    let zi = zp + li * zPlanes * zps
                    let dxi = dx + (n0 + li) * chw
                    for ph in 0..<phases {
                        let a = ph / p.sW
                        let b = ph % p.sW
                        let S = dxOffsets[ph].count
                        if S > 0 {
                            dxOffsets[ph].withUnsafeBufferPointer { offs in
                                for cb in 0..<cBlocks {
                                    p.kernels.directTiles(
                                        zi, offs.baseAddress!, S, wdx + wdxOff[ph] + cb * S * 8,
                                        out + cb * 8 * ldx, ldx, p.nvx)
                                }
                            }
                        }
                        // Scatter phase (a, b) back: input pixel (ih, iw) with (ih + pt) mod sH = a,
                        // (iw + pl) mod sW = b is phase pixel ((ih + pt) / sH, (iw + pl) / sW).
                        let ih0 = ((a - p.pt) % p.sH + p.sH) % p.sH
                        let iw0 = ((b - p.pl) % p.sW + p.sW) % p.sW
                        guard ih0 < p.H, iw0 < p.W else { continue }
                        let i0 = (ih0 + p.pt) / p.sH
                        let j0 = (iw0 + p.pl) / p.sW
                        for c in 0..<C {
                            let d = dxi + c * p.H * p.W
                            let s = out + c * ldx
                            var ih = ih0
                            var i = i0
                            while ih < p.H {
                                let dr = d + ih * p.W
                                let sr = s + i * p.Wz
                                var iw = iw0
                                var j = j0
                                if S > 0 {
                                    while iw < p.W {
                                        dr[iw] = sr[j]
                                        iw += p.sW
                                        j += 1
                                    }
                                } else {
                                    while iw < p.W {
                                        dr[iw] = 0
                                        iw += p.sW
                                    }
                                }
                                ih += p.sH
                                i += 1
                            }
                        }
                    }
                }
            }
        }
        for (bi, b) in branches.enumerated() {
            guard let dW = b.dW else { continue }
            reduceChunkAccumulators(
                dWAll + accOff[bi], chunks: chunks, stride: accTotal, kb: b.kb, O: O, oPad: oPad,
                into: dW)
        }
    }
}
