// The chunked im2col + SGEMM engine behind Conv2d and ACBlock.

import Dispatch

/// A float buffer owned by a layer and reused across iterations (grows, never shrinks).
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 16
        pointer = .allocate(capacity: 16)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (contents unspecified) and returns the base address.
    @discardableResult
    func ensure(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }
}

/// Writes image n's output gradient dZ ([O][OH·OW], row stride `ld`) into `dst`
/// (see `ConvEngine.backward`).
typealias DZProducer = (_ n: Int, _ dst: UnsafeMutablePointer<Float>, _ ld: Int) -> Void

/// One GEMM of a convolution: a weight matrix reading a row subset of the im2col matrix.
///
/// For group g the branch multiplies `weight + g·Og·kb` ([Og, kb], row-major) with the kb
/// im2col rows `rowOffset + j·rowStride` (j < kb) of that group. A plain convolution is one
/// branch with rowOffset 0, rowStride 1, kb = KH·Cg·KW; ACBlock's ver branch uses
/// rowOffset K/2, rowStride K, and its hor branch rowOffset (K/2)·Cg·K, rowStride 1
/// (see `ConvGeometry` for the row order).
struct ConvBranch {
    var weight: UnsafePointer<Float>
    var kb: Int
    var rowOffset: Int
    var rowStride: Int
    /// Forward: output Z, backward: dZ; both [O, N·OH·OW] ("CN" layout).
    var z: UnsafeMutablePointer<Float>
    /// Backward: dW accumulates here (+=), [groups·Og·kb] in the permuted weight order.
    var dW: UnsafeMutablePointer<Float>?
    /// Forward: add into z (beta 1) instead of overwriting it, so branches can share one Z.
    var accumulate = false
}

/// Stride-1 "same" convolutions with zero padding and one group (the training models' 3x3/p1
/// and 5x5/p2 layers and their ACB branches) run without im2col on the direct-convolution path
/// (`DirectConvEngine`, DirectConv.swift) when the CPU has AVX-512 or AVX2 + FMA, and strided
/// ones with dilation 1 (ResNet's 3x3/s2 convs and 1x1/s2 shortcuts) on the same tiles by
/// polyphase decomposition (`StridedConvEngine`, DirectConvStrided.swift). Everything else:
///
/// Runs the convolution in chunks of whole images so each chunk's im2col matrix stays in the
/// L2 cache between being written and being read by the GEMMs; chunks are spread over
/// `trainingThreadCount` threads, each GEMM single-threaded. Backward recomputes each chunk's
/// im2col instead of keeping the whole matrix (memory traffic over arithmetic).
final class ConvEngine {
    private var cols: [ScratchBuffer] = []
    private var dWs: [ScratchBuffer] = []
    private let direct = DirectConvEngine()
    private let strided = StridedConvEngine()
    /// The direct path's tile loops (default: the CPU's, `TrainingKernelISA.active`); nil sends
    /// every convolution through im2col + SGEMM (tests compare the two).
    let directKernels: DirectConvKernelTable?

    init(directKernels: DirectConvKernelTable? = DirectConvKernelTable.active) {
        self.directKernels = directKernels
    }

    /// Images per chunk: about 1–2 k im2col columns.
    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let ohw = g.outH * g.outW
        return max(1, min(g.batch, 1536 / max(ohw, 1)))
    }

    private func workers(_ chunks: Int) -> Int {
        BLASSetup.ensureConfigured()  // kernel choice and single-threaded OpenBLAS, before any GEMM
        return max(1, min(trainingThreadCount, chunks))
    }

    private func prepare(_ t: Int, colCount: Int, dWCount: Int) {
        while cols.count < t { cols.append(ScratchBuffer()) }
        while dWs.count < t { dWs.append(ScratchBuffer()) }
        for i in 0..<t {
            cols[i].ensure(colCount)
            if dWCount > 0 { dWs[i].ensure(dWCount).update(repeating: 0, count: dWCount) }
        }
    }

    /// Z_b = W_b · col for every branch (whole batch), Z in [O, N·OH·OW].
    ///
    /// With `statsShift` (one [O] array for each of the first branches), also returns those
    /// branches' per-channel
    /// moments Σ(z − shift) and Σ(z − shift)² over the batch, accumulated in Double while each
    /// chunk of Z is still in cache (BatchNorm statistics without another pass over Z).
    @discardableResult
    func forward(
        _ g: ConvGeometry, x: UnsafePointer<Float>, outputChannels O: Int, branches: [ConvBranch],
        statsShift: [[Float]]? = nil
    ) -> [(sum: [Double], sumSquares: [Double])]? {
        if let plan = DirectConvPlan(g, outputChannels: O, branches: branches, kernels: directKernels) {
            return direct.forward(plan, batch: g.batch, x: x, branches: branches, statsShift: statsShift)
        }
        if let plan = StridedConvPlan(g, outputChannels: O, branches: branches, kernels: directKernels) {
            return strided.forward(plan, batch: g.batch, x: x, branches: branches, statsShift: statsShift)
        }
        let per = Self.imagesPerChunk(g)
        let chunks = (g.batch + per - 1) / per
        let t = workers(chunks)
        let R = g.rowsPerGroup
        let P = g.columns
        let ohw = g.outH * g.outW
        let Og = O / g.groups
        let chw = g.channels * g.height * g.width
        prepare(t, colCount: g.groups * R * per * ohw, dWCount: 0)
        let nb = branches.count
        let moments = UnsafeMutablePointer<Double>.allocate(capacity: t * nb * O * 2)
        moments.initialize(repeating: 0, count: t * nb * O * 2)
        defer { moments.deallocate() }
        let box = UnsafeSendableBox((x, cols.map(\.pointer), branches, moments))
        DispatchQueue.concurrentPerform(iterations: t) { tid in
            let (x, cols, branches, moments) = box.value
            let col = cols[tid]
            let mine = moments + tid * nb * O * 2
            for ci in stride(from: tid, to: chunks, by: t) {
                let n0 = ci * per
                let n1 = min(g.batch, n0 + per)
                var cg = g
                cg.batch = n1 - n0
                let pc = cg.columns
                im2col(cg, x + n0 * chw, col, parallel: false)
                for b in branches {
                    for grp in 0..<g.groups {
                        sgemmSerial(
                            transA: false, transB: false, m: Og, n: pc, k: b.kb, alpha: 1,
                            a: b.weight + grp * Og * b.kb, lda: b.kb,
                            b: col + (grp * R + b.rowOffset) * pc, ldb: b.rowStride * pc,
                            beta: b.accumulate ? 1 : 0, c: b.z + grp * Og * P + n0 * ohw, ldc: P)
                    }
                }
                if let statsShift {
                    accumulateMoments(branches, statsShift, into: mine, O: O, P: P, first: n0 * ohw, count: pc)
                }
            }
        }
        guard let statsShift else { return nil }
        return reduceMoments(moments, threads: t, branches: nb, statsCount: statsShift.count, O: O)
    }

    /// Given dZ_b in `branches[b].z`: dW_b += dZ_b · colᵀ (into `branches[b].dW`), and, if `dx`
    /// is non-nil, dx = col2im(Σ_b W_bᵀ · dZ_b). `branches[0]` must read every im2col row.
    ///
    /// With `dzImage` (one branch only), dZ is not in `branches[0].z` yet: `dzImage(n, dst, ld)`
    /// writes image n's dZ ([O][OH·OW], row stride ld) and may read `branches[0].z` at the
    /// same image (a fused BatchNorm backward); the direct path calls it per image into a
    /// cache-resident buffer, the im2col path once per image into `branches[0].z` itself.
    func backward(
        _ g: ConvGeometry, x: UnsafePointer<Float>, outputChannels O: Int, branches: [ConvBranch],
        dx: UnsafeMutablePointer<Float>?, dzImage: DZProducer? = nil
    ) {
        precondition(
            branches[0].rowOffset == 0 && branches[0].rowStride == 1 && branches[0].kb == g.rowsPerGroup,
            "ConvEngine.backward: the first branch must cover the whole im2col matrix")
        precondition(dzImage == nil || branches.count == 1, "ConvEngine.backward: dzImage needs one branch")
        if let plan = DirectConvPlan(g, outputChannels: O, branches: branches, kernels: directKernels) {
            direct.backward(plan, batch: g.batch, x: x, branches: branches, dx: dx, dzImage: dzImage)
            return
        }
        if let dzImage {
            let z = branches[0].z
            let P = g.columns
            let ohw = g.outH * g.outW
            let box = UnsafeSendableBox((z, dzImage))
            parallelChunks(g.batch, minWork: O * P) { ns in
                let (z, dzImage) = box.value
                for n in ns { dzImage(n, z + n * ohw, P) }
            }
        }
        if let plan = StridedConvPlan(g, outputChannels: O, branches: branches, kernels: directKernels) {
            strided.backward(plan, batch: g.batch, x: x, branches: branches, dx: dx)
            return
        }
        let per = Self.imagesPerChunk(g)
        let chunks = (g.batch + per - 1) / per
        let t = workers(chunks)
        let R = g.rowsPerGroup
        let P = g.columns
        let ohw = g.outH * g.outW
        let Og = O / g.groups
        let chw = g.channels * g.height * g.width
        // Thread-local dW accumulators, one region per branch.
        var offsets: [Int] = []
        var total = 0
        for b in branches {
            offsets.append(total)
            total += g.groups * Og * b.kb
        }
        prepare(t, colCount: g.groups * R * per * ohw, dWCount: total)
        let box = UnsafeSendableBox((x, cols.map(\.pointer), dWs.map(\.pointer), branches, dx, offsets))
        DispatchQueue.concurrentPerform(iterations: t) { tid in
            let (x, cols, dWs, branches, dx, offsets) = box.value
            let col = cols[tid]
            let dWt = dWs[tid]
            for ci in stride(from: tid, to: chunks, by: t) {
                let n0 = ci * per
                let n1 = min(g.batch, n0 + per)
                var cg = g
                cg.batch = n1 - n0
                let pc = cg.columns
                im2col(cg, x + n0 * chw, col, parallel: false)
                for (bi, b) in branches.enumerated() {
                    for grp in 0..<g.groups {
                        sgemmSerial(
                            transA: false, transB: true, m: Og, n: b.kb, k: pc, alpha: 1,
                            a: b.z + grp * Og * P + n0 * ohw, lda: P,
                            b: col + (grp * R + b.rowOffset) * pc, ldb: b.rowStride * pc,
                            beta: 1, c: dWt + offsets[bi] + grp * Og * b.kb, ldc: b.kb)
                    }
                }
                guard let dx else { continue }
                for (bi, b) in branches.enumerated() {
                    for grp in 0..<g.groups {
                        sgemmSerial(
                            transA: true, transB: false, m: b.kb, n: pc, k: Og, alpha: 1,
                            a: b.weight + grp * Og * b.kb, lda: b.kb,
                            b: b.z + grp * Og * P + n0 * ohw, ldb: P,
                            beta: bi == 0 ? 0 : 1, c: col + (grp * R + b.rowOffset) * pc,
                            ldc: b.rowStride * pc)
                    }
                }
                col2im(cg, col, dx + n0 * chw, parallel: false)
            }
        }
        for (bi, b) in branches.enumerated() {
            guard let dW = b.dW else { continue }
            let n = g.groups * Og * b.kb
            for tid in 0..<t { vadd(dWs[tid].pointer + offsets[bi], dW, n) }
        }
    }
}

/// Adds, for each of the first `statsShift.count` branches and each output channel o, the
/// shifted moments Σ(z − shift) and Σ(z − shift)² of columns [first, first + count) of the
/// branch's Z ([O, P], "CN" layout) into `m` (per branch, [O][2] Doubles: sum, sum of squares).
/// Shared by the im2col and direct convolution engines (BatchNorm statistics while Z is in cache).
func accumulateMoments(
    _ branches: [ConvBranch], _ statsShift: [[Float]], into m: UnsafeMutablePointer<Double>,
    O: Int, P: Int, first: Int, count: Int
) {
    for (bi, b) in branches.enumerated() where bi < statsShift.count {
        let mb = m + bi * O * 2
        for o in 0..<O {
            let (s1, s2) = vshiftedMoments(b.z + o * P + first, count, statsShift[bi][o])
            mb[2 * o] += Double(s1)
            mb[2 * o + 1] += Double(s2)
        }
    }
}

/// Sums the per-thread moment buffers (`moments`: [threads][branches][O][2]) of the first
/// `statsCount` branches into one (sum, sum of squares) pair of [O] arrays per branch.
func reduceMoments(
    _ moments: UnsafePointer<Double>, threads t: Int, branches nb: Int, statsCount: Int, O: Int
)
    -> [(sum: [Double], sumSquares: [Double])]
{
    (0..<statsCount).map { bi in
        var sum = [Double](repeating: 0, count: O)
        var sq = sum
        for tid in 0..<t {
            let m = moments + (tid * nb + bi) * O * 2
            for o in 0..<O {
                sum[o] += m[2 * o]
                sq[o] += m[2 * o + 1]
            }
        }
        return (sum, sq)
    }
}
