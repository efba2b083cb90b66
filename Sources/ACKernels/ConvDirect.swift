#if canImport(ACKernelTypes)
import ACKernelTypes
#endif
#if canImport(CACNet)
internal import CACNet
#endif

/// Direct convolution on 16-output-channel blocks, register-blocked over output width.
///
/// Output: blocked [N][ceil(O/16)][OH][OW][16]. Input: plain NCHW or blocked. Weights: packing
/// `oc16`, block b = [inputChannelCount(b)][KH][KW][16], block-diagonal for groups (lanes of
/// a block that belong to another group have zero weights). Bias: [ceil(O/16)·16].
///
/// Tiles keep output pixels × 16-channel blocks of accumulators in registers and stream
/// broadcast input values against one weight vector per block and tap. With AVX-512's 32
/// registers (`wideRegisterFile`) the blocks that read the same input channels share a tile:
/// - 4 blocks × 6 pixels (`runQuad`), 2 blocks × 12 pixels (`runPair`) along a row;
/// - a single block: 8 pixels × 2 rows for 3x3 stride-1 kernels (`rowPairTiles`), 8 pixels
///   otherwise (`runSingle`);
/// - rows 7, 8, 14, 16 or 28 wide of 3- or 5-wide kernels (`RowTileKind`): 7 or 8 pixels of
///   up to 3 blocks, 1–4 tiles per row, over chunks of 16 (3x3) or 8 (5x5) input channels
///   (`runNarrow`);
/// - edge columns run as tiles down the rows, corners and leftovers pixel by pixel.
/// AVX2 and NEON run single blocks in `runSingle`'s tiles of 6 pixels (no row pairs); the x86
/// baseline build (no FMA) in 4-pixel row tiles; 32-bit ARM (Cortex-M, scalar FPU) in tiles of
/// pixels × 4 lanes (`laneTiles`). Taps that fall on padding are
/// skipped, never read: rows by clipping the kernel-row range, columns by the edge-column
/// tiles' clipped column range (or, in row tiles, at compile time).
///
/// Complexity: N · O · OH · OW · (C/groups) · KH · KW multiply-accumulates (plus at most
/// 15/16 extra for partially filled blocks and block-diagonal group padding).
enum ConvDirect {
    /// Output pixels of `runSingle`'s row and edge-column tiles (`interiorTile`'s
    /// accumulators): 8 with AVX-512 (8 of 32 zmm registers), 6 with AVX2 (6 × 2 = 12 of 16
    /// ymm registers: the 6×16 shape of Haswell-class SGEMM micro-kernels; 4 pixels' 8 registers
    /// cannot cover two FMA pipes × 4 cycles of latency).
    #if ACNET_ISA_AVX512
    static let tile = 8
    #else
    static let tile = 6
    #endif

    /// Whether the multi-block tiles (24 accumulators of 16 lanes) and the 8-pixel tile fit the
    /// register file: only with AVX-512's 32 × 512-bit registers. With AVX2 (16 × 256-bit) or
    /// NEON (32 × 128-bit) one 16-lane accumulator takes 2 or 4 registers, so those builds use
    /// single blocks and the 4-pixel tile (8 or 16 registers of accumulators) instead of
    /// spilling in the inner loop.
    #if ACNET_ISA_AVX512
    static let wideRegisterFile = true
    #else
    static let wideRegisterFile = false
    #endif

    /// Whether single blocks run `runSingle`'s row and edge-column tiles of `tile` pixels
    /// (AVX-512, AVX2 and NEON). The x86 baseline build keeps 4-pixel row tiles and single edge
    /// pixels: there one 16-lane accumulator takes 4 of the 16 xmm registers.
    ///
    /// NEON (`ACNET_ISA_NEON`, the aarch64 builds; 32 × 128-bit v registers, 4 per 16-lane
    /// block): 6 pixels × 1 block = 24 accumulators + 4 for the tap's weight vector + 1 for the
    /// broadcast input (a lane operand of `fmla v.4s, v.4s, v.s[0]`) = 29 of 32, so the tile
    /// loop runs without spills: 24 FMLAs per tap against 4 weight and 6 input loads. The
    /// alternatives do not fit or load more per FMLA: 7 pixels (28 + 4 + 1 = 33), 2 blocks × 3
    /// pixels (24 + 8 + 1 = 33), 2 blocks × 2 pixels (16 FMLAs per 8 + 2 loads).
    #if ACNET_ISA_AVX512 || ACNET_ISA_AVX2 || ACNET_ISA_NEON
    static let singleBlockTiles = true
    #else
    static let singleBlockTiles = false
    #endif

    /// Computes `part` of the output: the work units (image, output block, output row) of
    /// `WorkPart`, with a group of 1–4 blocks that share a tile (AVX-512) counted as that many
    /// units per row. Each part runs the groups and rows it owns with the same tiles as a
    /// one-part run, and edge-column tiles (which run down the rows) belong to the part owning
    /// their first row, so the output is bit-identical for any split.
    ///
    /// A 1x1, stride-1, unpadded convolution of blocked input runs on merged rows
    /// (`pointwiseRows`).
    static func run(
        _ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, blockOffsets: [Int],
        part: WorkPart
    ) {
        runBlocks(
            pointwiseRows(g, blocked: x.blocked, batch: batch, parts: part.count), batch: batch, x: x, y: y,
            residual: residual, weights: weights, bias: bias, blockOffsets: blockOffsets, part: part)
    }

    /// `run` on the geometry it runs on.
    // Not inlined into `run`: computing the geometry there moved the AVX-512 quad tiles'
    // register allocation (stack accesses in their 72-FMA loops 64 → 102, kernel_loops.py).
    @inline(never)
    static func runBlocks(
        _ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, blockOffsets: [Int],
        part: WorkPart
    ) {
        let (lo, hi) = part.units(batch * g.outBlocks * g.outH)
        let kk = g.kernelH * g.kernelW
        let outPlane = g.outH * g.outW
        // Interior output columns: every tap in bounds horizontally.
        let span = (g.kernelW - 1) * g.dilationW
        let owLo = kmin(g.outW, ceilDiv(g.padLeft, g.strideW))
        let hiNum = g.inW - 1 - span + g.padLeft
        let owHi = hiNum < 0 ? owLo : kmax(owLo, kmin(g.outW, hiNum / g.strideW + 1))
        // Rows 7–28 wide of 3- and 5-wide kernels (`RowTileKind`): tiles of whole, half or
        // quarter rows with the clipped taps left out at compile time (`rowTile`).
        let narrow = wideRegisterFile && x.blocked ? g.rowTileKind : nil
        blockOffsets.withUnsafeBufferPointer { offsets in
            for n in 0..<batch {
                let imageBase = n * g.outBlocks * g.outH
                if imageBase >= hi { break }
                if imageBase + g.outBlocks * g.outH <= lo { continue }
                let xa = ActivationAddressing(
                    base: UnsafePointer<Float>(x.base + n * x.imageStride),
                    planeElements: g.inH * g.inW, blocked: x.blocked)
                let yImage = y.base + n * y.imageStride
                let rImage = residual.map { UnsafePointer<Float>($0.base + n * $0.imageStride) }
                var b = 0
                while b < g.outBlocks {
                    let (cBegin, cCount) = g.blockInputRange(b)
                    // Two blocks that read the same input channels (always, for groups = 1)
                    // share every broadcast input value: 12 accumulators per 8 loads.
                    if let narrow {
                        // Up to 3 (7-pixel tiles) or 2 blocks per tile that read the same inputs.
                        var same = 1
                        while b + same < g.outBlocks && g.blockInputRange(b + same) == (cBegin, cCount) { same += 1 }
                        // 4 left of at most 3 per tile: 2 + 2 (14 accumulators each) beat 3 + 1 (7).
                        let count = same == 4 && narrow.blocks == 3 ? 2 : kmin(same, narrow.blocks)
                        let (rowBegin, rowEnd) = WorkPart.rows(
                            g.outH, base: imageBase + b * g.outH,
                            rowUnits: count, lo: lo, hi: hi)
                        if rowBegin < rowEnd {
                            let b1 = kmin(b + 1, b + count - 1)
                            let b2 = kmin(b + 2, b + count - 1)
                            let q = QuadBlocks(
                                w: (weights + offsets[b], weights + offsets[b1], weights + offsets[b2], weights),
                                bias: (load16(bias + b * 16), load16(bias + b1 * 16), load16(bias + b2 * 16), V16()),
                                y: yImage + b * outPlane * 16, r: rImage.map { $0 + b * outPlane * 16 },
                                blockStride: outPlane * 16)
                            runNarrow(g, xa, q, cBegin, cCount, rows: rowBegin..<rowEnd, kind: narrow, blocks: count)
                        }
                        b += count
                        continue
                    }
                    let quad =
                        wideRegisterFile && b + 3 < g.outBlocks && g.blockInputRange(b + 3) == (cBegin, cCount)
                        && g.blockInputRange(b + 1) == (cBegin, cCount) && g.blockInputRange(b + 2) == (cBegin, cCount)
                    let paired =
                        wideRegisterFile && !quad && b + 1 < g.outBlocks && g.blockInputRange(b + 1) == (cBegin, cCount)
                    let blocks = quad ? 4 : (paired ? 2 : 1)
                    let (rowBegin, rowEnd) = WorkPart.rows(
                        g.outH, base: imageBase + b * g.outH, rowUnits: blocks,
                        lo: lo, hi: hi)
                    if rowBegin >= rowEnd {
                        b += blocks
                        continue
                    }
                    let mine = rowBegin..<rowEnd
                    let wBlock = weights + offsets[b]
                    let yBlock = yImage + b * outPlane * 16
                    let rBlock = rImage.map { $0 + b * outPlane * 16 }
                    if quad {
                        let q = QuadBlocks(
                            w: (wBlock, weights + offsets[b + 1], weights + offsets[b + 2], weights + offsets[b + 3]),
                            bias: (
                                load16(bias + b * 16), load16(bias + (b + 1) * 16), load16(bias + (b + 2) * 16),
                                load16(bias + (b + 3) * 16)
                            ),
                            y: yBlock, r: rBlock, blockStride: outPlane * 16)
                        runQuad(g, xa, q, cBegin, cCount, kk, owLo: owLo, owHi: owHi, rows: mine)
                        b += 4
                        continue
                    }
                    if paired {
                        let pair = PairBlocks(
                            w0: wBlock, w1: weights + offsets[b + 1],
                            bias0: load16(bias + b * 16), bias1: load16(bias + (b + 1) * 16),
                            y0: yBlock, y1: yBlock + outPlane * 16,
                            r0: rBlock, r1: rBlock.map { $0 + outPlane * 16 })
                        runPair(g, xa, pair, cBegin, cCount, kk, owLo: owLo, owHi: owHi, rows: mine)
                        b += 2
                        continue
                    }
                    #if arch(arm)
                    if laneTiles {
                        runLanes(
                            g, xa, wBlock, bias + b * 16, yBlock, rBlock, cBegin, cCount, kk,
                            owLo: owLo, owHi: owHi, rows: mine)
                        b += 1
                        continue
                    }
                    #endif
                    if singleBlockTiles {
                        runSingle(
                            g, xa, wBlock, load16(bias + b * 16), yBlock, rBlock, cBegin, cCount, kk,
                            owLo: owLo, owHi: owHi, rows: mine)
                        b += 1
                        continue
                    }
                    for oh in mine {
                        let rows = rows(g, oh)
                        let ow = owLo
                        for k in 0..<blocks {
                            let wk = weights + offsets[b + k]
                            let biasV = load16(bias + (b + k) * 16)
                            let yk = yBlock + k * outPlane * 16
                            let rk = rBlock.map { $0 + k * outPlane * 16 }
                            var o = 0
                            while o < owLo {
                                edgePixel(g, xa, wk, cBegin, cCount, kk, rows, o, biasV, yk, rk, oh)
                                o += 1
                            }
                            o = ow
                            while o + 4 <= owHi {
                                interiorTile4(g, xa, wk, cBegin, cCount, kk, rows, o, biasV, yk, rk, oh)
                                o += 4
                            }
                            while o < owHi {
                                interiorPixel(g, xa, wk, cBegin, cCount, kk, rows, o, biasV, yk, rk, oh)
                                o += 1
                            }
                            o = kmax(owHi, owLo)
                            while o < g.outW {
                                edgePixel(g, xa, wk, cBegin, cCount, kk, rows, o, biasV, yk, rk, oh)
                                o += 1
                            }
                        }
                    }
                    b += blocks
                }
            }
        }
    }

    /// The geometry a 1x1, stride-1, unpadded convolution of blocked input runs on. Such a
    /// layer reads and writes pixel p = y·W + x at the same place of [C/16][H·W][16] whatever
    /// the row width, so k rows of W pixels can run as one row of k·W: fewer row ends, whose
    /// remainder tiles and edge columns run below the tiles' rate (e.g. 7×7: a 6-pixel tile and
    /// a remainder per row; as one row of 49: eight tiles and one pixel). k is the largest
    /// divisor of H that leaves at least 2 (image, output block, row) work units per part for
    /// the thread split; other layers are returned unchanged. Every part of a split computes
    /// the same geometry (it depends on the layer, `batch` and the part count only).
    @inline(__always)
    static func pointwiseRows(_ g: ConvGeometry, blocked: Bool, batch: Int, parts: Int) -> ConvGeometry {
        guard blocked, g.kernelH == 1, g.kernelW == 1, g.strideH == 1, g.strideW == 1, g.padTop == 0,
            g.padLeft == 0, g.outH == g.inH, g.outW == g.inW, g.outH > 1
        else { return g }
        var k = g.outH
        while k > 1 && (g.outH % k != 0 || batch * g.outBlocks * (g.outH / k) < 2 * parts) { k -= 1 }
        guard k > 1 else { return g }
        var f = g
        f.inH = g.inH / k
        f.outH = f.inH
        f.inW = g.inW * k
        f.outW = f.inW
        return f
    }

    /// Kernel rows of output row `oh` whose taps are in bounds vertically.
    @inline(__always)
    static func rows(_ g: ConvGeometry, _ oh: Int) -> Rows {
        let ih0 = oh * g.strideH - g.padTop
        var khBegin = 0
        while khBegin < g.kernelH && ih0 + khBegin * g.dilationH < 0 { khBegin += 1 }
        var khEnd = g.kernelH
        while khEnd > khBegin && ih0 + (khEnd - 1) * g.dilationH >= g.inH { khEnd -= 1 }
        return Rows(ih0: ih0, khBegin: khBegin, khEnd: khEnd)
    }

    /// Output rows [lo, hi) whose taps are all in bounds vertically (the vertical interior).
    @inline(__always)
    static func interiorRows(_ g: ConvGeometry) -> (lo: Int, hi: Int) {
        let lo = kmin(g.outH, ceilDiv(g.padTop, g.strideH))
        let num = g.inH - 1 - (g.kernelH - 1) * g.dilationH + g.padTop
        return (lo, num < 0 ? lo : kmax(lo, kmin(g.outH, num / g.strideH + 1)))
    }

    /// Kernel columns [begin, end) of output column `ow` whose taps are in bounds horizontally.
    @inline(__always)
    static func columns(_ g: ConvGeometry, _ ow: Int) -> (begin: Int, end: Int) {
        let iw0 = ow * g.strideW - g.padLeft
        var kwBegin = 0
        while kwBegin < g.kernelW && iw0 + kwBegin * g.dilationW < 0 { kwBegin += 1 }
        var kwEnd = g.kernelW
        while kwEnd > kwBegin && iw0 + (kwEnd - 1) * g.dilationW >= g.inW { kwEnd -= 1 }
        return (kwBegin, kwEnd)
    }

    /// Four output blocks over output rows `mine` (edge-column tiles: see `edgeChunks`) with
    /// 6-pixel × 64-channel tiles (a remainder of
    /// 2–5 pixels gets one partial tile): along rows in the horizontal interior, and — so that the left and right edge columns (taps clipped by
    /// padding) do not fall back to single pixels, which run at a third of the FMA rate — down
    /// the edge columns in the vertical interior, with the clipped kernel columns skipped. Only
    /// the corners and the leftovers run pixel by pixel.
    // Embedded Swift inlined this driver and `runPair` into `run`, and LLVM then left the
    // SIMD16 FMAs of the inlined tiles as per-lane scalar FMAs (5,056 `vfmadd…ss` in a 494 KB
    // `run` of the AVX-512 object); outlined they vectorise as in the SwiftPM build, whose
    // tuned inlining is left as it is. scripts/ci_embedded.sh checks for scalar FMAs. Outlined,
    // their tiles were in turn left outlined despite @inline(__always) (run-time tap geometry),
    // so in Embedded builds the tiles are @_transparent, inlined with literal geometry as in
    // the SwiftPM build's `run`.
    #if hasFeature(Embedded)
    @inline(never)
    #endif
    static func runQuad(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, owLo: Int, owHi: Int, rows mine: Range<Int>
    ) {
        let ps = xa.pixelStride
        let (ohLo, ohHi) = interiorRows(g)
        let tilesEnd = owHi > owLo ? owLo + (owHi - owLo) / 6 * 6 : owLo
        // First column after the row tiles, including a 2–5-pixel remainder tile.
        let rightEdge = remainderEdge(owHi: owHi, tilesEnd: tilesEnd, tile: 6)
        for oh in mine {
            let rows = rows(g, oh)
            let edgesLater = oh >= ohLo && oh < ohHi
            if !edgesLater { for o in 0..<owLo { quadPixel(g, xa, q, cBegin, cCount, kk, rows, o, oh) } }
            var ow = owLo
            // 3-wide kernels at unit stride and dilation (most 3x3 layers) get literal tap
            // geometry, so the compiler unrolls the kernel-column loop and folds the offsets.
            let unit3 = g.kernelW == 3 && g.strideW == 1 && g.dilationW == 1
            while ow < tilesEnd {
                if unit3 && ps == 1 {
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, rows, ow, oh, step: 1, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else if unit3 {
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, rows, ow, oh, step: 16, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else {
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, rows, ow, oh, step: g.strideW * ps, outStep: 1,
                        kwBegin: 0, kwEnd: g.kernelW)
                }
                ow += 6
            }
            if rightEdge > tilesEnd && owHi - tilesEnd <= 4 {
                interiorQuadTile(
                    g, xa, q, cBegin, cCount, kk, rows, tilesEnd, oh, step: g.strideW * ps, outStep: 1,
                    kwBegin: 0, kwEnd: g.kernelW, count: owHi - tilesEnd, width: 4)
            } else if rightEdge > tilesEnd {
                interiorQuadTile(
                    g, xa, q, cBegin, cCount, kk, rows, tilesEnd, oh, step: g.strideW * ps, outStep: 1,
                    kwBegin: 0, kwEnd: g.kernelW, count: owHi - tilesEnd)
            }
            if !edgesLater { for o in rightEdge..<g.outW { quadPixel(g, xa, q, cBegin, cCount, kk, rows, o, oh) } }
        }
        let (chunkBegin, chunkEnd) = edgeChunks(ohLo, ohHi, mine, tile: 6)
        guard chunkBegin < chunkEnd else { return }
        let full = Rows(ih0: 0, khBegin: 0, khEnd: g.kernelH)
        for o in TwoRanges(0..<owLo, rightEdge..<g.outW) {
            let (kwBegin, kwEnd) = columns(g, o)
            var oh = chunkBegin
            while oh < chunkEnd {
                var r = full
                r.ih0 = oh * g.strideH - g.padTop
                let n = kmin(6, ohHi - oh)
                if n == 6 {  // the constant count keeps the full tile's input offsets constant-folded
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, r, o, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd)
                } else if n >= 5 {
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, r, o, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd, count: n)
                } else if n >= 2 {
                    interiorQuadTile(
                        g, xa, q, cBegin, cCount, kk, r, o, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd, count: n, width: 4)
                } else {
                    quadPixel(g, xa, q, cBegin, cCount, kk, rows(g, oh), o, oh)
                }
                oh += n
            }
        }
    }

    /// Where the row tiles' right-hand remainder columns [tilesEnd, owHi) go: a remainder of
    /// more than half a tile runs as one partial row tile per row (returns owHi); a smaller
    /// one (a partial tile would mostly compute discarded pixels, e.g. 26 interior columns =
    /// 2 × 12 + 2 on a 28-wide map) joins the edge columns, which run down the vertical interior
    /// in full column tiles (returns tilesEnd).
    @inline(__always)
    static func remainderEdge(owHi: Int, tilesEnd: Int, tile: Int) -> Int {
        let r = owHi - tilesEnd
        return r >= 2 && 2 * r > tile ? owHi : tilesEnd
    }

    /// The edge-column tiles of the drivers run down the vertical interior [ohLo, ohHi) in
    /// chunks of `tile` rows starting at ohLo (a last chunk of 2…tile−1 rows is one partial
    /// tile, of 1 row a single pixel). A part owning output rows `mine` runs the chunks that
    /// start in it: those starting in [begin, end), stepping by `tile` from `begin`.
    @inline(__always)
    static func edgeChunks(
        _ ohLo: Int, _ ohHi: Int, _ mine: Range<Int>, tile: Int
    )
        -> (begin: Int, end: Int)
    {
        let begin = mine.lowerBound <= ohLo ? ohLo : ohLo + ceilDiv(mine.lowerBound - ohLo, tile) * tile
        return (begin, kmin(ohHi, mine.upperBound))
    }

    /// Weights, biases, outputs and residuals of four adjacent output blocks.
    struct QuadBlocks {
        var w: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)
        var bias: (V16, V16, V16, V16)
        var y: UnsafeMutablePointer<Float>
        var r: UnsafePointer<Float>?
        /// Elements between consecutive output blocks (OH·OW·16).
        var blockStride: Int
        /// Row tiles only: where this row's slice of the next chunk's weights starts, in
        /// elements from the next chunk's first weight of each block; −1: no next chunk.
        var prefetchOffset = -1
    }

    /// Six adjacent interior output pixels × four output blocks (64 channels): 24 accumulators;
    /// per tap 4 weight loads + 6 broadcasts feed 24 FMAs (fewer loads and address
    /// computations per FMA than the 2 × 12 tile).
    #if hasFeature(Embedded)
    @_transparent  // see `runQuad`: @inline(__always) leaves it outlined in Embedded builds
    #else
    @inline(__always)
    #endif
    static func interiorQuadTile(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ oh: Int,
        step: Int, outStep: Int, kwBegin: Int, kwEnd: Int, count: Int = 6,
        kernelW: Int? = nil, width: Int = 6
    ) {
        // Pixels count ≤ k < width repeat pixel count−1's input (in bounds) and are not stored:
        // a remainder of 2–5 pixels costs one tile instead of that many single pixels; with
        // `width` 4 (a literal: ≤ 4 pixels) the tile runs 16 accumulators instead of 24.
        let s1 = kmin(1, count - 1) * step
        let s2 = kmin(2, count - 1) * step
        let s3 = kmin(3, count - 1) * step
        let s4 = kmin(4, count - 1) * step
        let s5 = kmin(5, count - 1) * step
        var a0 = q.bias.0
        var a1 = q.bias.0
        var a2 = q.bias.0
        var a3 = q.bias.0
        var a4 = q.bias.0
        var a5 = q.bias.0
        var b0 = q.bias.1
        var b1 = q.bias.1
        var b2 = q.bias.1
        var b3 = q.bias.1
        var b4 = q.bias.1
        var b5 = q.bias.1
        var c0 = q.bias.2
        var c1 = q.bias.2
        var c2 = q.bias.2
        var c3 = q.bias.2
        var c4 = q.bias.2
        var c5 = q.bias.2
        var d0 = q.bias.3
        var d1 = q.bias.3
        var d2 = q.bias.3
        var d3 = q.bias.3
        var d4 = q.bias.3
        var d5 = q.bias.3
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft + kwBegin * g.dilationW
        let kw = kernelW ?? g.kernelW  // a literal at the call site lets the tap loop unroll
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var off = ci * kk * 16 + (kh * kw + kwBegin) * 16
                for _ in kwBegin..<kwEnd {
                    let w0 = load16(q.w.0 + off)
                    let w1 = load16(q.w.1 + off)
                    let w2 = load16(q.w.2 + off)
                    let w3 = load16(q.w.3 + off)
                    let x0 = xp[0]
                    a0 = a0.madd(x0, w0)
                    b0 = b0.madd(x0, w1)
                    c0 = c0.madd(x0, w2)
                    d0 = d0.madd(x0, w3)
                    let x1 = xp[s1]
                    a1 = a1.madd(x1, w0)
                    b1 = b1.madd(x1, w1)
                    c1 = c1.madd(x1, w2)
                    d1 = d1.madd(x1, w3)
                    let x2 = xp[s2]
                    a2 = a2.madd(x2, w0)
                    b2 = b2.madd(x2, w1)
                    c2 = c2.madd(x2, w2)
                    d2 = d2.madd(x2, w3)
                    let x3 = xp[s3]
                    a3 = a3.madd(x3, w0)
                    b3 = b3.madd(x3, w1)
                    c3 = c3.madd(x3, w2)
                    d3 = d3.madd(x3, w3)
                    if width > 4 {
                        let x4 = xp[s4]
                        a4 = a4.madd(x4, w0)
                        b4 = b4.madd(x4, w1)
                        c4 = c4.madd(x4, w2)
                        d4 = d4.madd(x4, w3)
                        let x5 = xp[s5]
                        a5 = a5.madd(x5, w0)
                        b5 = b5.madd(x5, w1)
                        c5 = c5.madd(x5, w2)
                        d5 = d5.madd(x5, w3)
                    }
                    xp += dws
                    off += 16
                }
            }
        }
        let p = oh * g.outW + ow
        let p1 = p + outStep
        let p2 = p + 2 * outStep
        let p3 = p + 3 * outStep
        let p4 = p + 4 * outStep
        let p5 = p + 5 * outStep
        let y0 = q.y
        let r0 = q.r
        let y1 = q.y + 1 * q.blockStride
        let r1 = q.r.map { $0 + 1 * q.blockStride }
        let y2 = q.y + 2 * q.blockStride
        let r2 = q.r.map { $0 + 2 * q.blockStride }
        let y3 = q.y + 3 * q.blockStride
        let r3 = q.r.map { $0 + 3 * q.blockStride }
        finish(a0, g, y0, r0, p)
        finish(b0, g, y1, r1, p)
        finish(c0, g, y2, r2, p)
        finish(d0, g, y3, r3, p)
        if count > 1 {
            finish(a1, g, y0, r0, p1)
            finish(b1, g, y1, r1, p1)
            finish(c1, g, y2, r2, p1)
            finish(d1, g, y3, r3, p1)
        }
        if count > 2 {
            finish(a2, g, y0, r0, p2)
            finish(b2, g, y1, r1, p2)
            finish(c2, g, y2, r2, p2)
            finish(d2, g, y3, r3, p2)
        }
        if count > 3 {
            finish(a3, g, y0, r0, p3)
            finish(b3, g, y1, r1, p3)
            finish(c3, g, y2, r2, p3)
            finish(d3, g, y3, r3, p3)
        }
        if count > 4 {
            finish(a4, g, y0, r0, p4)
            finish(b4, g, y1, r1, p4)
            finish(c4, g, y2, r2, p4)
            finish(d4, g, y3, r3, p4)
        }
        if count > 5 {
            finish(a5, g, y0, r0, p5)
            finish(b5, g, y1, r1, p5)
            finish(c5, g, y2, r2, p5)
            finish(d5, g, y3, r3, p5)
        }
    }

    /// One output pixel of four adjacent blocks over its in-bounds kernel columns: eight
    /// independent accumulator chains (even and odd input channels apart, added at the end),
    /// enough to cover the FMA latency on two ports; with four, corner pixels ran at half
    /// the FMA rate (Cifar-quick's 5x5 @8×8 layer has 16 of its 64 pixels here).
    #if hasFeature(Embedded)
    @_transparent  // see `runQuad`: @inline(__always) leaves it outlined in Embedded builds
    #else
    @inline(__always)
    #endif
    static func quadPixel(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ oh: Int
    ) {
        let iw0 = ow * g.strideW - g.padLeft
        var kwBegin = 0
        while kwBegin < g.kernelW && iw0 + kwBegin * g.dilationW < 0 { kwBegin += 1 }
        var kwEnd = g.kernelW
        while kwEnd > kwBegin && iw0 + (kwEnd - 1) * g.dilationW >= g.inW { kwEnd -= 1 }
        var a = q.bias.0
        var b = q.bias.1
        var c = q.bias.2
        var d = q.bias.3
        var a1 = V16()
        var b1 = V16()
        var c1 = V16()
        var d1 = V16()
        let ps = xa.pixelStride
        let dws = g.dilationW * ps
        var ci = 0
        while ci + 2 <= cCount {
            let x0 = xa.channelBase(cBegin + ci)
            let x1 = xa.channelBase(cBegin + ci + 1)
            for kh in rows.khBegin..<rows.khEnd {
                let r = ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                let off = ci * kk * 16 + kh * g.kernelW * 16
                for kw in kwBegin..<kwEnd {
                    let u = x0[r + kw * dws]
                    let v = x1[r + kw * dws]
                    let o = off + kw * 16
                    let o1 = o + kk * 16
                    a = a.madd(u, load16(q.w.0 + o))
                    a1 = a1.madd(v, load16(q.w.0 + o1))
                    b = b.madd(u, load16(q.w.1 + o))
                    b1 = b1.madd(v, load16(q.w.1 + o1))
                    c = c.madd(u, load16(q.w.2 + o))
                    c1 = c1.madd(v, load16(q.w.2 + o1))
                    d = d.madd(u, load16(q.w.3 + o))
                    d1 = d1.madd(v, load16(q.w.3 + o1))
                }
            }
            ci += 2
        }
        if ci < cCount {
            let x0 = xa.channelBase(cBegin + ci)
            for kh in rows.khBegin..<rows.khEnd {
                let r = ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                let off = ci * kk * 16 + kh * g.kernelW * 16
                for kw in kwBegin..<kwEnd {
                    let u = x0[r + kw * dws]
                    let o = off + kw * 16
                    a = a.madd(u, load16(q.w.0 + o))
                    b = b.madd(u, load16(q.w.1 + o))
                    c = c.madd(u, load16(q.w.2 + o))
                    d = d.madd(u, load16(q.w.3 + o))
                }
            }
        }
        a += a1
        b += b1
        c += c1
        d += d1
        let p = oh * g.outW + ow
        finish(a, g, q.y, q.r, p)
        finish(b, g, q.y + q.blockStride, q.r.map { $0 + q.blockStride }, p)
        finish(c, g, q.y + 2 * q.blockStride, q.r.map { $0 + 2 * q.blockStride }, p)
        finish(d, g, q.y + 3 * q.blockStride, q.r.map { $0 + 3 * q.blockStride }, p)
    }

    /// Two output blocks over output rows `mine`, the 32-channel counterpart of `runQuad`: rows
    /// in 12- then 6-pixel tiles, a 2–5-pixel remainder as one partial tile, edge columns in
    /// (partial) 6-pixel tiles down the vertical interior, corners and leftovers pixel by pixel.
    #if hasFeature(Embedded)
    @inline(never)  // see `runQuad`
    #endif
    static func runPair(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ pb: PairBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, owLo: Int, owHi: Int, rows mine: Range<Int>
    ) {
        let ps = xa.pixelStride
        let (ohLo, ohHi) = interiorRows(g)
        let n = kmax(0, owHi - owLo)
        let tilesEnd = owLo + n / 12 * 12 + (n % 12) / 6 * 6
        let rightEdge = remainderEdge(owHi: owHi, tilesEnd: tilesEnd, tile: 6)
        @inline(__always) func pixels(_ rows: Rows, _ o: Int, _ oh: Int) {
            edgePixel(g, xa, pb.w0, cBegin, cCount, kk, rows, o, pb.bias0, pb.y0, pb.r0, oh)
            edgePixel(g, xa, pb.w1, cBegin, cCount, kk, rows, o, pb.bias1, pb.y1, pb.r1, oh)
        }
        for oh in mine {
            let rows = rows(g, oh)
            let edgesLater = oh >= ohLo && oh < ohHi
            if !edgesLater { for o in 0..<owLo { pixels(rows, o, oh) } }
            var ow = owLo
            let unit3 = g.kernelW == 3 && g.strideW == 1 && g.dilationW == 1  // see runSingle
            while ow + 12 <= tilesEnd {
                if unit3 && ps == 16 {
                    interiorPairTile12(g, xa, pb, cBegin, cCount, kk, rows, ow, oh, step: 16, kernelW: 3)
                } else if unit3 {
                    interiorPairTile12(g, xa, pb, cBegin, cCount, kk, rows, ow, oh, step: 1, kernelW: 3)
                } else {
                    interiorPairTile12(g, xa, pb, cBegin, cCount, kk, rows, ow, oh, step: g.strideW * ps, kernelW: nil)
                }
                ow += 12
            }
            if ow < tilesEnd {
                interiorPairTile(
                    g, xa, pb, cBegin, cCount, kk, rows, ow, oh, step: g.strideW * ps, outStep: 1,
                    kwBegin: 0, kwEnd: g.kernelW)
            }
            if rightEdge > tilesEnd {
                interiorPairTile(
                    g, xa, pb, cBegin, cCount, kk, rows, tilesEnd, oh, step: g.strideW * ps, outStep: 1,
                    kwBegin: 0, kwEnd: g.kernelW, count: rightEdge - tilesEnd)
            }
            if !edgesLater { for o in rightEdge..<g.outW { pixels(rows, o, oh) } }
        }
        let (chunkBegin, chunkEnd) = edgeChunks(ohLo, ohHi, mine, tile: 6)
        guard chunkBegin < chunkEnd else { return }
        for o in TwoRanges(0..<owLo, rightEdge..<g.outW) {
            let (kwBegin, kwEnd) = columns(g, o)
            var oh = chunkBegin
            while oh < chunkEnd {
                let count = kmin(6, ohHi - oh)
                if count >= 2 {
                    let r = Rows(ih0: oh * g.strideH - g.padTop, khBegin: 0, khEnd: g.kernelH)
                    interiorPairTile(
                        g, xa, pb, cBegin, cCount, kk, r, o, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd, count: count)
                } else {
                    pixels(rows(g, oh), o, oh)
                }
                oh += count
            }
        }
    }

    /// One output block over output rows `mine` (AVX-512 builds), the 16-channel counterpart of
    /// `runQuad`: rows in 8-pixel tiles, a 2–7-pixel remainder as one partial tile, edge
    /// columns in (partial) 8-pixel tiles down the vertical interior, the rest pixel by pixel.
    @inline(never)  // inlined into `run`, its growth moved the other drivers' codegen (±4–10%)
    static func runSingle(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>, _ biasV: V16,
        _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, owLo: Int, owHi: Int, rows mine: Range<Int>
    ) {
        let ps = xa.pixelStride
        let (ohLo, ohHi) = interiorRows(g)
        let tilesEnd = owHi > owLo ? owLo + (owHi - owLo) / tile * tile : owLo
        let rightEdge = remainderEdge(owHi: owHi, tilesEnd: tilesEnd, tile: tile)
        // As in runQuad: literal tap geometry for 3-wide unit-stride kernels, so the tap loop
        // unrolls and the `tile` input offsets fold into immediates (a register each
        // otherwise, which spilled: 16→16 3x3 @32×32 ran at ~0.53 of the FMA peak).
        let unit3 = g.kernelW == 3 && g.strideW == 1 && g.dilationW == 1
        let pointwise = g.kernelW == 1 && g.kernelH == 1 && g.strideW == 1
        // 3x3 stride-1 kernels run two vertical-interior rows at a time (`rowPairTiles`) over
        // the row tiles' columns [owLo, rightEdge).
        let rowPairs =
            wideRegisterFile && unit3 && g.kernelH == 3 && g.strideH == 1 && g.dilationH == 1 && tilesEnd > owLo
            && rightEdge - owLo >= 8
        var pairedRow = -1  // the second row of the last row pair, whose row tiles are done
        for oh in mine {
            let rows = rows(g, oh)
            let edgesLater = oh >= ohLo && oh < ohHi
            if !edgesLater { for o in 0..<owLo { edgePixel(g, xa, w, cBegin, cCount, kk, rows, o, biasV, y, r, oh) } }
            var ow = owLo
            if rowPairs && edgesLater && (oh == pairedRow || (oh + 1 < ohHi && oh + 1 < mine.upperBound)) {
                if oh != pairedRow {
                    rowPairTiles(g, xa, w, cBegin, cCount, owLo, tilesEnd, rightEdge, oh, biasV, y, r)
                    pairedRow = oh + 1
                }
                ow = rightEdge
            }
            // 1x1 kernels at unit stride (rows in bounds): literal tap geometry, so no tap loops
            // run per input channel.
            let unit1 = pointwise && rows.khBegin == 0 && rows.khEnd == 1
            while ow < tilesEnd {
                if unit1 && ps == 16 {
                    interiorTile(
                        g, xa, w, cBegin, cCount, 1, Rows(ih0: rows.ih0, khBegin: 0, khEnd: 1), ow, biasV, y, r,
                        oh, step: 16, outStep: 1, kwBegin: 0, kwEnd: 1, kernelW: 1)
                } else if unit3 && ps == 16 {
                    interiorTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, biasV, y, r, oh, step: 16, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else if unit3 {
                    interiorTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, biasV, y, r, oh, step: 1, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else {
                    interiorTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, biasV, y, r, oh, step: g.strideW * ps, outStep: 1,
                        kwBegin: 0, kwEnd: g.kernelW)
                }
                ow += tile
            }
            if rightEdge > tilesEnd && ow < rightEdge {  // (a row pair did it already)
                interiorTile(
                    g, xa, w, cBegin, cCount, kk, rows, tilesEnd, biasV, y, r, oh, step: g.strideW * ps,
                    outStep: 1, kwBegin: 0, kwEnd: g.kernelW, count: rightEdge - tilesEnd)
            }
            if !edgesLater {
                for o in rightEdge..<g.outW { edgePixel(g, xa, w, cBegin, cCount, kk, rows, o, biasV, y, r, oh) }
            }
        }
        let (chunkBegin, chunkEnd) = edgeChunks(ohLo, ohHi, mine, tile: tile)
        guard chunkBegin < chunkEnd else { return }
        for o in TwoRanges(0..<owLo, rightEdge..<g.outW) {
            let (kwBegin, kwEnd) = columns(g, o)
            var oh = chunkBegin
            while oh < chunkEnd {
                let count = kmin(tile, ohHi - oh)
                if count >= 2 {
                    let rows = Rows(ih0: oh * g.strideH - g.padTop, khBegin: 0, khEnd: g.kernelH)
                    interiorTile(
                        g, xa, w, cBegin, cCount, kk, rows, o, biasV, y, r, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd, count: count)
                } else {
                    edgePixel(g, xa, w, cBegin, cCount, kk, rows(g, oh), o, biasV, y, r, oh)
                }
                oh += count
            }
        }
    }

    /// Eight accumulators of one output block along a row.
    struct Row8 {
        var v0, v1, v2, v3, v4, v5, v6, v7: V16
        @inline(__always) init(_ b: V16) { (v0, v1, v2, v3, v4, v5, v6, v7) = (b, b, b, b, b, b, b, b) }

        /// Adds x[k·step + j·step] · w[j] to accumulator k for the three kernel columns j.
        @inline(__always) mutating func madd3(_ x: UnsafePointer<Float>, _ step: Int, _ w: UnsafePointer<Float>) {
            for j in 0..<3 {
                let u = load16(w + j * 16)
                let q = x + j * step
                v0 = v0.madd(q[0], u)
                v1 = v1.madd(q[step], u)
                v2 = v2.madd(q[2 * step], u)
                v3 = v3.madd(q[3 * step], u)
                v4 = v4.madd(q[4 * step], u)
                v5 = v5.madd(q[5 * step], u)
                v6 = v6.madd(q[6 * step], u)
                v7 = v7.madd(q[7 * step], u)
            }
        }

        /// Stores pixels `skip`..<8 at output pixel index `p` + k (see `finish`).
        @inline(__always) func finish(
            _ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
            _ p: Int, skip: Int
        ) {
            if skip < 1 { ConvDirect.finish(v0, g, y, r, p) }
            if skip < 2 { ConvDirect.finish(v1, g, y, r, p + 1) }
            if skip < 3 { ConvDirect.finish(v2, g, y, r, p + 2) }
            if skip < 4 { ConvDirect.finish(v3, g, y, r, p + 3) }
            if skip < 5 { ConvDirect.finish(v4, g, y, r, p + 4) }
            if skip < 6 { ConvDirect.finish(v5, g, y, r, p + 5) }
            if skip < 7 { ConvDirect.finish(v6, g, y, r, p + 6) }
            ConvDirect.finish(v7, g, y, r, p + 7)
        }
    }

    /// 8 × 2 tiles (output rows oh and oh + 1, both in the vertical interior) of one output
    /// block over columns [ow, end) (in the horizontal interior, end − ow ≥ 8), for 3x3
    /// kernels at stride 1 and dilation 1: 8-pixel steps up to `tilesEnd`, then a remainder
    /// as one tile shifted left to end at `end`, which stores only its last end − tilesEnd
    /// pixels (literal geometry instead of a partial tile's). Not inlined, so the tiles inline
    /// here with a literal step.
    @inline(never)
    static func rowPairTiles(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ ow: Int, _ tilesEnd: Int, _ end: Int, _ oh: Int,
        _ biasV: V16, _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?
    ) {
        var o = ow
        let skip = 8 - (end - tilesEnd)
        if xa.pixelStride == 16 {
            while o < tilesEnd {
                rowPairTile8(g, xa, w, cBegin, cCount, o, oh, biasV, y, r, step: 16)
                o += 8
            }
            if end > tilesEnd { rowPairTile8(g, xa, w, cBegin, cCount, end - 8, oh, biasV, y, r, step: 16, skip: skip) }
        } else {
            let ps = xa.pixelStride
            while o < tilesEnd {
                rowPairTile8(g, xa, w, cBegin, cCount, o, oh, biasV, y, r, step: ps)
                o += 8
            }
            if end > tilesEnd { rowPairTile8(g, xa, w, cBegin, cCount, end - 8, oh, biasV, y, r, step: ps, skip: skip) }
        }
    }

    /// Eight adjacent output pixels of two adjacent rows of one output block. Each input row's
    /// ten broadcast values feed both output rows (the lower one with the kernel row above),
    /// so per input channel 40 broadcasts feed 144 FMAs instead of 60 feeding 144 in two
    /// `interiorTile`s (0.66 → 0.84 of the FMA peak on 16→16 @32×32). Each output's sum
    /// runs in `interiorTile`'s order (channels, kernel rows, kernel columns), so results are
    /// bit-identical to the single-row tiles and independent of the pairing.
    @_transparent  // @inline(__always) left it outlined, with a run-time step
    static func rowPairTile8(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ ow: Int, _ oh: Int, _ biasV: V16,
        _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?, step: Int, skip: Int = 0
    ) {
        var a = Row8(biasV)
        var c = Row8(biasV)
        let rowStride = g.inW * step
        let origin = ((oh - g.padTop) * g.inW + ow - g.padLeft) * step
        for ci in 0..<cCount {
            let x0 = xa.channelBase(cBegin + ci) + origin
            let wc = w + ci * 9 * 16
            a.madd3(x0, step, wc)
            a.madd3(x0 + rowStride, step, wc + 48)
            c.madd3(x0 + rowStride, step, wc)
            a.madd3(x0 + 2 * rowStride, step, wc + 96)
            c.madd3(x0 + 2 * rowStride, step, wc + 48)
            c.madd3(x0 + 3 * rowStride, step, wc + 96)
        }
        let p = oh * g.outW + ow
        a.finish(g, y, r, p, skip: skip)
        c.finish(g, y, r, p + g.outW, skip: skip)
    }

    /// Output rows `mine` of 1–3 adjacent output blocks (`blocks`; `q`'s other entries are
    /// ignored) of a `RowTileKind` layer, 1–4 tiles per row, over chunks of input channels
    /// whose weights stay in L1 across the rows (≤ 16 channels, ~27 KB); partial sums wait in the
    /// output (stored and reloaded exactly, so the result equals one pass over all channels,
    /// whatever the split of rows over threads).
    @inline(never)
    static func runNarrow(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks, _ cBegin: Int, _ cCount: Int,
        rows mine: Range<Int>, kind: RowTileKind, blocks: Int
    ) {
        let kk = g.kernelH * g.kernelW
        // A pass's weights (`kind.blocks` × chunk × KH·KW × 64 B) stay within ~27 KB of the
        // 48 KB L1: 16 channels of 3x3 for 3 blocks, 8 of 5x5 for 2.
        let chunk = kmax(1, kmin(16, 27 * 1024 / (kind.blocks * kk * 64)))
        var c0 = 0
        while c0 < cCount {
            let n = kmin(chunk, cCount - c0)
            var qc = q
            qc.w = (q.w.0 + c0 * kk * 16, q.w.1 + c0 * kk * 16, q.w.2 + c0 * kk * 16, q.w.3)
            let first = c0 == 0
            let last = c0 + n == cCount
            let next = kmin(chunk, cCount - c0 - n) * kk * 16  // the next chunk's weights per block
            let c = cBegin + c0
            // One case per `ConvGeometry.rowTileKind` kind, matched exactly.
            switch (kind.width, kind.kernel, kind.stride) {
            case (7, 3, 1):
                narrowRows(
                    W7K3S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (7, 3, 2):
                narrowRows(
                    W7K3S2.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (8, 3, 1):
                narrowRows(
                    W8K3S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (8, 5, 1):
                narrowRows(
                    W8K5S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (14, 3, 1):
                narrowRows(
                    W14K3S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (14, 3, 2):
                narrowRows(
                    W14K3S2.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (16, 3, 1):
                narrowRows(
                    W16K3S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (16, 3, 2):
                narrowRows(
                    W16K3S2.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (16, 5, 1):
                narrowRows(
                    W16K5S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (28, 3, 1):
                narrowRows(
                    W28K3S1.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            case (28, 3, 2):
                narrowRows(
                    W28K3S2.self, g, xa, qc, c, n, rows: mine, blocks: blocks, next: next, first: first, last: last)
            default: preconditionFailure("no row shape for \(kind)")
            }
            c0 += n
        }
    }

    /// One output row of a `RowTileKind` layer (`outW`, `kernel`, `stride`, `blocks`: literals)
    /// as 1–4 `rowTile`s of `RowTileKind.tile` pixels; only the first prefetches.
    @_transparent
    static func rowTiles(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks, _ cBegin: Int, _ cCount: Int,
        _ rows: Rows, _ oh: Int, outW: Int, kernel: Int, stride: Int, blocks: Int, first: Bool,
        last: Bool
    ) {
        let tile = RowTileKind(width: outW, kernel: kernel, stride: stride).tile
        var q = q
        rowTile(
            g, xa, q, cBegin, cCount, rows, oh, outW: outW, from: 0, count: tile, kernel: kernel, stride: stride,
            blocks: blocks, first: first, last: last)
        q.prefetchOffset = -1
        if outW > tile {
            rowTile(
                g, xa, q, cBegin, cCount, rows, oh, outW: outW, from: tile, count: tile, kernel: kernel,
                stride: stride, blocks: blocks, first: first, last: last)
        }
        if outW > 2 * tile {
            rowTile(
                g, xa, q, cBegin, cCount, rows, oh, outW: outW, from: 2 * tile, count: tile, kernel: kernel,
                stride: stride, blocks: blocks, first: first, last: last)
        }
        if outW > 3 * tile {
            rowTile(
                g, xa, q, cBegin, cCount, rows, oh, outW: outW, from: 3 * tile, count: tile, kernel: kernel,
                stride: stride, blocks: blocks, first: first, last: last)
        }
    }

    /// One chunk of input channels over output rows `mine` of a `RowTileKind` layer given as a
    /// type (`S`), so that each kind gets its own specialisation with literal geometry (and,
    /// in debug builds, a stack frame of ~12 tiles rather than all kinds' ~60). `next`: the
    /// next chunk's weight elements per block (0 after the last chunk), the prefetch bound.
    @inline(never)
    static func narrowRows<S: RowShape>(
        _: S.Type, _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks,
        _ cBegin: Int, _ cCount: Int, rows mine: Range<Int>, blocks: Int, next: Int,
        first: Bool, last: Bool
    ) {
        let kind = RowTileKind(width: S.outW, kernel: S.kernel, stride: S.stride)
        assert(S.outW == g.outW && S.kernel == g.kernelW && S.stride == g.strideW, "row shape \(S.self) for \(g)")
        assert(blocks >= 1 && blocks <= kind.blocks)
        var q = q
        for oh in mine {
            let r = rows(g, oh)
            // While this chunk runs, its rows fetch the next chunk's weights: row j (of the
            // part's rows) prefetches lines [2nj, 2nj + 2n) of each block's next-chunk weights
            // (n = cCount, 2 lines per input channel), 9 KB = 144 lines per block for 16
            // channels of 3x3; rows past the next chunk's end prefetch nothing.
            let offset = (oh - mine.lowerBound) * cCount * 32
            q.prefetchOffset = offset < next ? offset : -1
            switch blocks {
            case 3 where kind.blocks == 3:
                rowTiles(
                    g, xa, q, cBegin, cCount, r, oh, outW: S.outW, kernel: S.kernel, stride: S.stride, blocks: 3,
                    first: first, last: last)
            case 2:
                rowTiles(
                    g, xa, q, cBegin, cCount, r, oh, outW: S.outW, kernel: S.kernel, stride: S.stride, blocks: 2,
                    first: first, last: last)
            default:
                rowTiles(
                    g, xa, q, cBegin, cCount, r, oh, outW: S.outW, kernel: S.kernel, stride: S.stride, blocks: 1,
                    first: first, last: last)
            }
        }
    }

    /// Up to eight accumulators: one output block over `count` (a literal, ≤ 8) adjacent
    /// pixels of a row.
    struct RowAcc {
        var v0, v1, v2, v3, v4, v5, v6, v7: V16
        @inline(__always) init(_ b: V16) { (v0, v1, v2, v3, v4, v5, v6, v7) = (b, b, b, b, b, b, b, b) }

        /// The partial sums stored at output pixel indices p… (`store`).
        @inline(__always) init(_ y: UnsafePointer<Float>, _ p: Int, count: Int) {
            (v0, v1, v2, v3) = (
                load16(y + p * 16), load16(y + (p + 1) * 16), load16(y + (p + 2) * 16), load16(y + (p + 3) * 16)
            )
            v4 = count > 4 ? load16(y + (p + 4) * 16) : V16()
            v5 = count > 5 ? load16(y + (p + 5) * 16) : V16()
            v6 = count > 6 ? load16(y + (p + 6) * 16) : V16()
            v7 = count > 7 ? load16(y + (p + 7) * 16) : V16()
        }

        /// Adds kernel column `kw`'s tap: pixel `from` + j of the row reads input column
        /// (from + j)·stride + kw − kernel/2 of the blocked input row `x` (column 0), whose
        /// width is `inW`; with literal arguments the taps on the padding are left out at
        /// compile time.
        @inline(__always) mutating func tap(
            _ x: UnsafePointer<Float>, _ w: V16, kw: Int, from: Int, count: Int, inW: Int,
            kernel: Int, stride: Int
        ) {
            let o = from * stride + kw - kernel / 2  // pixel j's column: j·stride + o
            @inline(__always) func inside(_ j: Int) -> Bool { j < count && j * stride + o >= 0 && j * stride + o < inW }
            if inside(0) { v0 = v0.madd(x[o * 16], w) }
            if inside(1) { v1 = v1.madd(x[(stride + o) * 16], w) }
            if inside(2) { v2 = v2.madd(x[(2 * stride + o) * 16], w) }
            if inside(3) { v3 = v3.madd(x[(3 * stride + o) * 16], w) }
            if inside(4) { v4 = v4.madd(x[(4 * stride + o) * 16], w) }
            if inside(5) { v5 = v5.madd(x[(5 * stride + o) * 16], w) }
            if inside(6) { v6 = v6.madd(x[(6 * stride + o) * 16], w) }
            if inside(7) { v7 = v7.madd(x[(7 * stride + o) * 16], w) }
        }

        /// Stores the partial sums as they are (no residual, no activation).
        @inline(__always) func store(_ y: UnsafeMutablePointer<Float>, _ p: Int, count: Int) {
            store16(y + p * 16, v0)
            store16(y + (p + 1) * 16, v1)
            store16(y + (p + 2) * 16, v2)
            store16(y + (p + 3) * 16, v3)
            if count > 4 { store16(y + (p + 4) * 16, v4) }
            if count > 5 { store16(y + (p + 5) * 16, v5) }
            if count > 6 { store16(y + (p + 6) * 16, v6) }
            if count > 7 { store16(y + (p + 7) * 16, v7) }
        }

        @inline(__always) func finish(
            _ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
            _ p: Int, count: Int
        ) {
            ConvDirect.finish(v0, g, y, r, p)
            ConvDirect.finish(v1, g, y, r, p + 1)
            ConvDirect.finish(v2, g, y, r, p + 2)
            ConvDirect.finish(v3, g, y, r, p + 3)
            if count > 4 { ConvDirect.finish(v4, g, y, r, p + 4) }
            if count > 5 { ConvDirect.finish(v5, g, y, r, p + 5) }
            if count > 6 { ConvDirect.finish(v6, g, y, r, p + 6) }
            if count > 7 { ConvDirect.finish(v7, g, y, r, p + 7) }
        }
    }

    /// Pixels [from, from + count) of an output row `outW` wide (all literals; count 7 or 8) of
    /// 1–3 blocks (`blocks`): up to 21 or 16 accumulators; per kernel row, each block's weight
    /// vector per kernel column feeds the tile's in-bounds taps only: no FMA lands on padding,
    /// where the 6-pixel quad tiles computed 6 lanes for 5 interior pixels of a 7-wide row and
    /// ran the edge columns and corners separately (512→512 @7×7 in ResNet-18 ran at ~0.55 of
    /// the FMA peak). Partial sums start from the bias (`first`) or the output, and end in
    /// `finish` (`last`) or are stored as they are. Sums run over channels, kernel rows,
    /// kernel columns, as in every tile.
    @_transparent  // inlined with literal geometry and block count (see `rowPairTile8`)
    static func rowTile(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ q: QuadBlocks, _ cBegin: Int, _ cCount: Int,
        _ rows: Rows, _ oh: Int, outW: Int, from: Int, count: Int, kernel: Int, stride: Int,
        blocks: Int, first: Bool, last: Bool
    ) {
        let p = oh * outW + from
        let inW = outW * stride
        let y1 = q.y + q.blockStride
        let y2 = q.y + 2 * q.blockStride
        var a = first ? RowAcc(q.bias.0) : RowAcc(q.y, p, count: count)
        var b = first || blocks < 2 ? RowAcc(q.bias.1) : RowAcc(y1, p, count: count)
        var c = first || blocks < 3 ? RowAcc(q.bias.2) : RowAcc(y2, p, count: count)
        let kk = g.kernelH * kernel
        // The next chunk's weights follow this chunk's cCount channels in each block (see
        // narrowRows): 2 lines of this row's slice per input channel.
        let pfOn = q.prefetchOffset >= 0
        let pfBase = cCount * kk * 16 + q.prefetchOffset
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let w0 = q.w.0 + ci * kk * 16
            let w1 = q.w.1 + ci * kk * 16
            let w2 = q.w.2 + ci * kk * 16
            if pfOn {
                let pf: Int = pfBase + ci * 32
                let pf16: Int = pf + 16
                acnet_prefetch(q.w.0 + pf)
                acnet_prefetch(q.w.0 + pf16)
                if blocks > 1 {
                    acnet_prefetch(q.w.1 + pf)
                    acnet_prefetch(q.w.1 + pf16)
                }
                if blocks > 2 {
                    acnet_prefetch(q.w.2 + pf)
                    acnet_prefetch(q.w.2 + pf16)
                }
            }
            for kh in rows.khBegin..<rows.khEnd {
                let xr = xc + (rows.ih0 + kh * g.dilationH) * inW * 16  // input column 0 of the row
                let o = kh * kernel * 16
                assert(kernel == 3 || kernel == 5, "row tiles unroll 3 or 5 kernel columns")
                // Unrolled by hand: a `for kw` loop stayed a run-time loop, with a branch per
                // tap, in the right-hand 5x5 tile (0.079 ms against 0.077 for the pair tiles).
                let w = (w0 + o, w1 + o, w2 + o)
                rowColumn(
                    &a, &b, &c, xr, w, kw: 0, from: from, count: count, inW: inW, kernel: kernel, stride: stride,
                    blocks: blocks)
                rowColumn(
                    &a, &b, &c, xr, w, kw: 1, from: from, count: count, inW: inW, kernel: kernel, stride: stride,
                    blocks: blocks)
                rowColumn(
                    &a, &b, &c, xr, w, kw: 2, from: from, count: count, inW: inW, kernel: kernel, stride: stride,
                    blocks: blocks)
                if kernel > 3 {
                    rowColumn(
                        &a, &b, &c, xr, w, kw: 3, from: from, count: count, inW: inW, kernel: kernel,
                        stride: stride, blocks: blocks)
                    rowColumn(
                        &a, &b, &c, xr, w, kw: 4, from: from, count: count, inW: inW, kernel: kernel,
                        stride: stride, blocks: blocks)
                }
            }
        }
        guard last else {
            a.store(q.y, p, count: count)
            if blocks > 1 { b.store(y1, p, count: count) }
            if blocks > 2 { c.store(y2, p, count: count) }
            return
        }
        a.finish(g, q.y, q.r, p, count: count)
        if blocks > 1 { b.finish(g, y1, q.r.map { $0 + q.blockStride }, p, count: count) }
        if blocks > 2 { c.finish(g, y2, q.r.map { $0 + 2 * q.blockStride }, p, count: count) }
    }

    /// Kernel column `kw` of one kernel row for `rowTile`'s 1–3 blocks (`w`: the kernel row's
    /// weights in each block).
    @_transparent
    static func rowColumn(
        _ a: inout RowAcc, _ b: inout RowAcc, _ c: inout RowAcc, _ xr: UnsafePointer<Float>,
        _ w: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>), kw: Int, from: Int,
        count: Int, inW: Int, kernel: Int, stride: Int, blocks: Int
    ) {
        a.tap(xr, load16(w.0 + kw * 16), kw: kw, from: from, count: count, inW: inW, kernel: kernel, stride: stride)
        if blocks > 1 {
            b.tap(xr, load16(w.1 + kw * 16), kw: kw, from: from, count: count, inW: inW, kernel: kernel, stride: stride)
        }
        if blocks > 2 {
            c.tap(xr, load16(w.2 + kw * 16), kw: kw, from: from, count: count, inW: inW, kernel: kernel, stride: stride)
        }
    }

    /// Weights, biases, outputs and residuals of two adjacent output blocks.
    struct PairBlocks {
        var w0: UnsafePointer<Float>, w1: UnsafePointer<Float>
        var bias0: V16, bias1: V16
        var y0: UnsafeMutablePointer<Float>, y1: UnsafeMutablePointer<Float>
        var r0: UnsafePointer<Float>?, r1: UnsafePointer<Float>?
    }

    /// Twelve adjacent interior output pixels × two output blocks: 24 accumulators (of the 32
    /// AVX-512 registers); per tap 2 weight loads + 12 broadcasts feed 24 FMAs, so the loop is
    /// bound by the FMA ports, not by loads.
    #if hasFeature(Embedded)
    @_transparent  // see `runQuad`: @inline(__always) leaves it outlined in Embedded builds
    #else
    @inline(__always)
    #endif
    static func interiorPairTile12(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ pb: PairBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ oh: Int,
        step: Int, kernelW: Int?
    ) {
        var a0 = pb.bias0
        var a1 = pb.bias0
        var a2 = pb.bias0
        var a3 = pb.bias0
        var a4 = pb.bias0
        var a5 = pb.bias0
        var a6 = pb.bias0
        var a7 = pb.bias0
        var a8 = pb.bias0
        var a9 = pb.bias0
        var a10 = pb.bias0
        var a11 = pb.bias0
        var c0 = pb.bias1
        var c1 = pb.bias1
        var c2 = pb.bias1
        var c3 = pb.bias1
        var c4 = pb.bias1
        var c5 = pb.bias1
        var c6 = pb.bias1
        var c7 = pb.bias1
        var c8 = pb.bias1
        var c9 = pb.bias1
        var c10 = pb.bias1
        var c11 = pb.bias1
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft
        let kw = kernelW ?? g.kernelW  // literal: the tap loop unrolls
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let base = ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var wp0 = pb.w0 + base + kh * kw * 16
                var wp1 = pb.w1 + base + kh * kw * 16
                for _ in 0..<kw {
                    let u = load16(wp0)
                    let v = load16(wp1)
                    let x0 = xp[0]
                    a0 = a0.madd(x0, u)
                    c0 = c0.madd(x0, v)
                    let x1 = xp[step]
                    a1 = a1.madd(x1, u)
                    c1 = c1.madd(x1, v)
                    let x2 = xp[2 * step]
                    a2 = a2.madd(x2, u)
                    c2 = c2.madd(x2, v)
                    let x3 = xp[3 * step]
                    a3 = a3.madd(x3, u)
                    c3 = c3.madd(x3, v)
                    let x4 = xp[4 * step]
                    a4 = a4.madd(x4, u)
                    c4 = c4.madd(x4, v)
                    let x5 = xp[5 * step]
                    a5 = a5.madd(x5, u)
                    c5 = c5.madd(x5, v)
                    let x6 = xp[6 * step]
                    a6 = a6.madd(x6, u)
                    c6 = c6.madd(x6, v)
                    let x7 = xp[7 * step]
                    a7 = a7.madd(x7, u)
                    c7 = c7.madd(x7, v)
                    let x8 = xp[8 * step]
                    a8 = a8.madd(x8, u)
                    c8 = c8.madd(x8, v)
                    let x9 = xp[9 * step]
                    a9 = a9.madd(x9, u)
                    c9 = c9.madd(x9, v)
                    let x10 = xp[10 * step]
                    a10 = a10.madd(x10, u)
                    c10 = c10.madd(x10, v)
                    let x11 = xp[11 * step]
                    a11 = a11.madd(x11, u)
                    c11 = c11.madd(x11, v)
                    xp += dws
                    wp0 += 16
                    wp1 += 16
                }
            }
        }
        let p = oh * g.outW + ow
        finish(a0, g, pb.y0, pb.r0, p)
        finish(c0, g, pb.y1, pb.r1, p)
        finish(a1, g, pb.y0, pb.r0, p + 1)
        finish(c1, g, pb.y1, pb.r1, p + 1)
        finish(a2, g, pb.y0, pb.r0, p + 2)
        finish(c2, g, pb.y1, pb.r1, p + 2)
        finish(a3, g, pb.y0, pb.r0, p + 3)
        finish(c3, g, pb.y1, pb.r1, p + 3)
        finish(a4, g, pb.y0, pb.r0, p + 4)
        finish(c4, g, pb.y1, pb.r1, p + 4)
        finish(a5, g, pb.y0, pb.r0, p + 5)
        finish(c5, g, pb.y1, pb.r1, p + 5)
        finish(a6, g, pb.y0, pb.r0, p + 6)
        finish(c6, g, pb.y1, pb.r1, p + 6)
        finish(a7, g, pb.y0, pb.r0, p + 7)
        finish(c7, g, pb.y1, pb.r1, p + 7)
        finish(a8, g, pb.y0, pb.r0, p + 8)
        finish(c8, g, pb.y1, pb.r1, p + 8)
        finish(a9, g, pb.y0, pb.r0, p + 9)
        finish(c9, g, pb.y1, pb.r1, p + 9)
        finish(a10, g, pb.y0, pb.r0, p + 10)
        finish(c10, g, pb.y1, pb.r1, p + 10)
        finish(a11, g, pb.y0, pb.r0, p + 11)
        finish(c11, g, pb.y1, pb.r1, p + 11)
    }

    /// Six adjacent interior output pixels × two output blocks (32 channels): 12 accumulators,
    /// and per tap 2 weight loads + 6 broadcasts feed 12 FMAs.
    #if hasFeature(Embedded)
    @_transparent  // see `runQuad`: @inline(__always) leaves it outlined in Embedded builds
    #else
    @inline(__always)
    #endif
    static func interiorPairTile(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ pb: PairBlocks,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ oh: Int,
        step: Int, outStep: Int, kwBegin: Int, kwEnd: Int, count: Int = 6
    ) {
        // Pixels k ≥ count repeat pixel count−1's input and are not stored (see interiorQuadTile).
        let s1 = kmin(1, count - 1) * step
        let s2 = kmin(2, count - 1) * step
        let s3 = kmin(3, count - 1) * step
        let s4 = kmin(4, count - 1) * step
        let s5 = kmin(5, count - 1) * step
        var a0 = pb.bias0
        var a1 = pb.bias0
        var a2 = pb.bias0
        var a3 = pb.bias0
        var a4 = pb.bias0
        var a5 = pb.bias0
        var c0 = pb.bias1
        var c1 = pb.bias1
        var c2 = pb.bias1
        var c3 = pb.bias1
        var c4 = pb.bias1
        var c5 = pb.bias1
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft + kwBegin * g.dilationW
        let kw = g.kernelW
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let base = ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var wp0 = pb.w0 + base + (kh * kw + kwBegin) * 16
                var wp1 = pb.w1 + base + (kh * kw + kwBegin) * 16
                for _ in kwBegin..<kwEnd {
                    let u = load16(wp0)
                    let v = load16(wp1)
                    let x0 = xp[0]
                    let x1 = xp[s1]
                    let x2 = xp[s2]
                    let x3 = xp[s3]
                    let x4 = xp[s4]
                    let x5 = xp[s5]
                    a0 = a0.madd(x0, u)
                    c0 = c0.madd(x0, v)
                    a1 = a1.madd(x1, u)
                    c1 = c1.madd(x1, v)
                    a2 = a2.madd(x2, u)
                    c2 = c2.madd(x2, v)
                    a3 = a3.madd(x3, u)
                    c3 = c3.madd(x3, v)
                    a4 = a4.madd(x4, u)
                    c4 = c4.madd(x4, v)
                    a5 = a5.madd(x5, u)
                    c5 = c5.madd(x5, v)
                    xp += dws
                    wp0 += 16
                    wp1 += 16
                }
            }
        }
        let p = oh * g.outW + ow
        finish(a0, g, pb.y0, pb.r0, p)
        finish(c0, g, pb.y1, pb.r1, p)
        if count > 1 {
            finish(a1, g, pb.y0, pb.r0, p + outStep)
            finish(c1, g, pb.y1, pb.r1, p + outStep)
        }
        if count > 2 {
            finish(a2, g, pb.y0, pb.r0, p + 2 * outStep)
            finish(c2, g, pb.y1, pb.r1, p + 2 * outStep)
        }
        if count > 3 {
            finish(a3, g, pb.y0, pb.r0, p + 3 * outStep)
            finish(c3, g, pb.y1, pb.r1, p + 3 * outStep)
        }
        if count > 4 {
            finish(a4, g, pb.y0, pb.r0, p + 4 * outStep)
            finish(c4, g, pb.y1, pb.r1, p + 4 * outStep)
        }
        if count > 5 {
            finish(a5, g, pb.y0, pb.r0, p + 5 * outStep)
            finish(c5, g, pb.y1, pb.r1, p + 5 * outStep)
        }
    }

    struct Rows {
        var ih0: Int
        var khBegin: Int
        var khEnd: Int
    }

    @inline(__always)
    static func finish(
        _ acc: V16, _ g: ConvGeometry, _ yBlock: UnsafeMutablePointer<Float>,
        _ rBlock: UnsafePointer<Float>?, _ pixel: Int
    ) {
        var v = acc
        if let rBlock { v += load16(rBlock + pixel * 16) }
        store16(yBlock + pixel * 16, activate(v, g.activation))
    }

    /// `tile` (8 or 6) output pixels of one block, `step` input elements and `outStep` output
    /// pixels apart (along a row, or down an edge column with the clipped kernel columns
    /// [kwBegin, kwEnd)): no bounds checks. `count` < `tile` computes a partial tile.
    // In the AVX2 build @inline(__always) left it outlined, with run-time tap geometry (0.71 of
    // the FMA peak on conv 64→64 @56², 0.93 inlined); the AVX-512 build inlines it either way
    // and keeps the attribute its tuning was measured with.
    #if ACNET_ISA_AVX2 || ACNET_ISA_NEON
    @_transparent
    #else
    @inline(__always)
    #endif
    static func interiorTile(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int,
        step: Int, outStep: Int, kwBegin: Int, kwEnd: Int, count: Int = tile,
        kernelW: Int? = nil
    ) {
        // Pixels k ≥ count repeat pixel count−1's input and are not stored (see interiorQuadTile).
        let s1 = kmin(1, count - 1) * step
        let s2 = kmin(2, count - 1) * step
        let s3 = kmin(3, count - 1) * step
        let s4 = kmin(4, count - 1) * step
        let s5 = kmin(5, count - 1) * step
        let s6 = kmin(6, count - 1) * step
        let s7 = kmin(7, count - 1) * step
        var a0 = biasV
        var a1 = biasV
        var a2 = biasV
        var a3 = biasV
        var a4 = biasV
        var a5 = biasV
        var a6 = biasV
        var a7 = biasV
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft + kwBegin * g.dilationW
        let kw = kernelW ?? g.kernelW  // a literal at the call site lets the tap loop unroll
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let wc = w + ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var wp = wc + (kh * kw + kwBegin) * 16
                for _ in kwBegin..<kwEnd {
                    let wv = load16(wp)
                    a0 = a0.madd(xp[0], wv)
                    a1 = a1.madd(xp[s1], wv)
                    a2 = a2.madd(xp[s2], wv)
                    a3 = a3.madd(xp[s3], wv)
                    a4 = a4.madd(xp[s4], wv)
                    a5 = a5.madd(xp[s5], wv)
                    if tile > 6 {
                        a6 = a6.madd(xp[s6], wv)
                        a7 = a7.madd(xp[s7], wv)
                    }
                    xp += dws
                    wp += 16
                }
            }
        }
        let p = oh * g.outW + ow
        finish(a0, g, yBlock, rBlock, p)
        if count > 1 { finish(a1, g, yBlock, rBlock, p + outStep) }
        if count > 2 { finish(a2, g, yBlock, rBlock, p + 2 * outStep) }
        if count > 3 { finish(a3, g, yBlock, rBlock, p + 3 * outStep) }
        if count > 4 { finish(a4, g, yBlock, rBlock, p + 4 * outStep) }
        if count > 5 { finish(a5, g, yBlock, rBlock, p + 5 * outStep) }
        if count > 6 { finish(a6, g, yBlock, rBlock, p + 6 * outStep) }
        if count > 7 { finish(a7, g, yBlock, rBlock, p + 7 * outStep) }
    }

    #if arch(arm)
    /// Output pixels of the 32-bit ARM builds' tiles (`laneTile`). Cortex-M4/M7 have a scalar
    /// FPU (FPv4-SP/FPv5) with 32 single-precision registers s0–s31 and no vector unit, so a
    /// 16-lane accumulator is 16 registers: the 4-pixel × 16-lane tile (64 accumulators) spilled
    /// in the tap loop (1,067 vldr and 804 vstr against 304 vfma in the object). These tiles hold
    /// 5 pixels × 4 lanes of one block: 20 accumulators + 4 weights + 1 input = 25 of 32
    /// registers, 20 vfma per tap against 4 weight and 5 input loads (4 × 4 would be 16 per
    /// 8 loads, 6 × 4 leaves 3 registers for the compiler's scheduling). Five also divides the
    /// small maps of a Cortex-M model evenly: 5 interior columns of a 7-wide row.
    static let laneTile = 5

    /// Whether single blocks run `runLanes` (every 32-bit ARM build).
    static let laneTiles = true

    /// Four lanes of a 16-lane block.
    typealias V4 = SIMD4<Float>

    /// Loads lanes [0, 4) at `p` (16-byte aligned: a block's quarter).
    @inline(__always)
    static func load4(_ p: UnsafePointer<Float>) -> V4 {
        UnsafeRawPointer(p).assumingMemoryBound(to: V4.self).pointee
    }

    /// `acc` (+ the residual) through the activation, stored to 4 lanes of pixel `pixel`.
    @inline(__always)
    static func finish4(
        _ acc: V4, _ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>,
        _ r: UnsafePointer<Float>?, _ pixel: Int
    ) {
        var v = acc
        if let r { v += load4(r + pixel * 16) }
        switch g.activation {
        case .none: break
        case .relu: v = v.replacing(with: 0, where: v .< 0)
        case .relu6:
            v = v.replacing(with: 0, where: v .< 0)
            v = v.replacing(with: 6, where: v .> 6)
        }
        UnsafeMutableRawPointer(y + pixel * 16).assumingMemoryBound(to: V4.self).pointee = v
    }

    /// One block over output rows `mine` in `laneTile`-pixel × 4-lane tiles: `runSingle`'s
    /// schedule (row tiles in the horizontal interior, edge columns as tiles down the vertical
    /// interior, corners and leftovers pixel by pixel) with each tile run once per quarter of
    /// the block. Sums run over channels, kernel rows, kernel columns, as in every tile.
    static func runLanes(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, owLo: Int, owHi: Int, rows mine: Range<Int>
    ) {
        let ps = xa.pixelStride
        let biasV = load16(bias)
        let (ohLo, ohHi) = interiorRows(g)
        let tilesEnd = owHi > owLo ? owLo + (owHi - owLo) / laneTile * laneTile : owLo
        let rightEdge = remainderEdge(owHi: owHi, tilesEnd: tilesEnd, tile: laneTile)
        let unit3 = g.kernelW == 3 && g.strideW == 1 && g.dilationW == 1
        for oh in mine {
            let rows = rows(g, oh)
            let edgesLater = oh >= ohLo && oh < ohHi
            if !edgesLater { for o in 0..<owLo { edgePixel(g, xa, w, cBegin, cCount, kk, rows, o, biasV, y, r, oh) } }
            var ow = owLo
            while ow < tilesEnd {
                if unit3 && ps == 16 {
                    laneTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, bias, y, r, oh, step: 16, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else if unit3 {
                    laneTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, bias, y, r, oh, step: 1, outStep: 1,
                        kwBegin: 0, kwEnd: 3, kernelW: 3)
                } else {
                    laneTile(
                        g, xa, w, cBegin, cCount, kk, rows, ow, bias, y, r, oh, step: g.strideW * ps, outStep: 1,
                        kwBegin: 0, kwEnd: g.kernelW)
                }
                ow += laneTile
            }
            if rightEdge > tilesEnd {
                laneTile(
                    g, xa, w, cBegin, cCount, kk, rows, tilesEnd, bias, y, r, oh, step: g.strideW * ps,
                    outStep: 1, kwBegin: 0, kwEnd: g.kernelW, count: rightEdge - tilesEnd)
            }
            if !edgesLater {
                for o in rightEdge..<g.outW { edgePixel(g, xa, w, cBegin, cCount, kk, rows, o, biasV, y, r, oh) }
            }
        }
        let (chunkBegin, chunkEnd) = edgeChunks(ohLo, ohHi, mine, tile: laneTile)
        guard chunkBegin < chunkEnd else { return }
        for o in TwoRanges(0..<owLo, rightEdge..<g.outW) {
            let (kwBegin, kwEnd) = columns(g, o)
            var oh = chunkBegin
            while oh < chunkEnd {
                let count = kmin(laneTile, ohHi - oh)
                if count >= 2 {
                    let rows = Rows(ih0: oh * g.strideH - g.padTop, khBegin: 0, khEnd: g.kernelH)
                    laneTile(
                        g, xa, w, cBegin, cCount, kk, rows, o, bias, y, r, oh, step: g.strideH * g.inW * ps,
                        outStep: g.outW, kwBegin: kwBegin, kwEnd: kwEnd, count: count)
                } else {
                    edgePixel(g, xa, w, cBegin, cCount, kk, rows(g, oh), o, biasV, y, r, oh)
                }
                oh += count
            }
        }
    }

    /// `laneTile` output pixels of one block, `step` input elements and `outStep` output pixels
    /// apart, with kernel columns [kwBegin, kwEnd) (as `interiorTile`), computed a quarter of the
    /// block (4 lanes) at a time. `count` < `laneTile` computes a partial tile (pixels k ≥ count
    /// repeat pixel count−1's input and are not stored).
    @inline(__always)
    static func laneTile(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ bias: UnsafePointer<Float>,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int,
        step: Int, outStep: Int, kwBegin: Int, kwEnd: Int, count: Int = laneTile,
        kernelW: Int? = nil
    ) {
        let s1 = kmin(1, count - 1) * step
        let s2 = kmin(2, count - 1) * step
        let s3 = kmin(3, count - 1) * step
        let s4 = kmin(4, count - 1) * step
        let s5 = kmin(5, count - 1) * step
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft + kwBegin * g.dilationW
        let kw = kernelW ?? g.kernelW
        let dws = g.dilationW * ps
        let p = oh * g.outW + ow
        for lane in stride(from: 0, to: 16, by: 4) {
            let b = load4(bias + lane)
            var a0 = b
            var a1 = b
            var a2 = b
            var a3 = b
            var a4 = b
            var a5 = b
            for ci in 0..<cCount {
                let xc = xa.channelBase(cBegin + ci)
                let wc = w + ci * kk * 16 + lane
                for kh in rows.khBegin..<rows.khEnd {
                    var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                    var wp = wc + (kh * kw + kwBegin) * 16
                    for _ in kwBegin..<kwEnd {
                        let wv = load4(wp)
                        a0 = a0.madd(xp[0], wv)
                        a1 = a1.madd(xp[s1], wv)
                        a2 = a2.madd(xp[s2], wv)
                        a3 = a3.madd(xp[s3], wv)
                        a4 = a4.madd(xp[s4], wv)
                        if laneTile > 5 { a5 = a5.madd(xp[s5], wv) }
                        xp += dws
                        wp += 16
                    }
                }
            }
            let y = yBlock + lane
            let r = rBlock.map { $0 + lane }
            finish4(a0, g, y, r, p)
            if count > 1 { finish4(a1, g, y, r, p + outStep) }
            if count > 2 { finish4(a2, g, y, r, p + 2 * outStep) }
            if count > 3 { finish4(a3, g, y, r, p + 3 * outStep) }
            if count > 4 { finish4(a4, g, y, r, p + 4 * outStep) }
            if count > 5 { finish4(a5, g, y, r, p + 5 * outStep) }
        }
    }
    #endif

    /// Four adjacent interior output pixels (the narrow-register-file builds' tile).
    @inline(__always)
    static func interiorTile4(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int
    ) {
        var a0 = biasV
        var a1 = biasV
        var a2 = biasV
        var a3 = biasV
        let ps = xa.pixelStride
        let step = g.strideW * ps
        let iw0 = ow * g.strideW - g.padLeft
        let kw = g.kernelW
        let dws = g.dilationW * ps
        for ci in 0..<cCount {
            let xc = xa.channelBase(cBegin + ci)
            let wc = w + ci * kk * 16
            for kh in rows.khBegin..<rows.khEnd {
                var xp = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                var wp = wc + kh * kw * 16
                for _ in 0..<kw {
                    let wv = load16(wp)
                    a0 = a0.madd(xp[0], wv)
                    a1 = a1.madd(xp[step], wv)
                    a2 = a2.madd(xp[2 * step], wv)
                    a3 = a3.madd(xp[3 * step], wv)
                    xp += dws
                    wp += 16
                }
            }
        }
        let p = oh * g.outW + ow
        finish(a0, g, yBlock, rBlock, p)
        finish(a1, g, yBlock, rBlock, p + 1)
        finish(a2, g, yBlock, rBlock, p + 2)
        finish(a3, g, yBlock, rBlock, p + 3)
    }

    /// One interior output pixel (every tap in bounds horizontally).
    @inline(__always)
    static func interiorPixel(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int
    ) {
        pixel(g, xa, w, cBegin, cCount, kk, rows, ow, 0, g.kernelW, biasV, yBlock, rBlock, oh)
    }

    /// One output pixel whose taps may fall on the left or right padding.
    static func edgePixel(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ biasV: V16,
        _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int
    ) {
        let iw0 = ow * g.strideW - g.padLeft
        var kwBegin = 0
        while kwBegin < g.kernelW && iw0 + kwBegin * g.dilationW < 0 { kwBegin += 1 }
        var kwEnd = g.kernelW
        while kwEnd > kwBegin && iw0 + (kwEnd - 1) * g.dilationW >= g.inW { kwEnd -= 1 }
        pixel(g, xa, w, cBegin, cCount, kk, rows, ow, kwBegin, kwEnd, biasV, yBlock, rBlock, oh)
    }

    /// One output pixel over kernel columns [kwBegin, kwEnd) (the columns whose taps are in
    /// bounds).
    @inline(__always)
    static func pixel(
        _ g: ConvGeometry, _ xa: ActivationAddressing, _ w: UnsafePointer<Float>,
        _ cBegin: Int, _ cCount: Int, _ kk: Int, _ rows: Rows, _ ow: Int, _ kwBegin: Int, _ kwEnd: Int,
        _ biasV: V16, _ yBlock: UnsafeMutablePointer<Float>, _ rBlock: UnsafePointer<Float>?, _ oh: Int
    ) {
        // Four input channels at a time into four accumulators: four independent FMA chains
        // instead of one (a single chain runs at 1/(2·latency) of the FMA rate, ~1/8).
        var a0 = biasV
        var a1 = V16()
        var a2 = V16()
        var a3 = V16()
        let ps = xa.pixelStride
        let iw0 = ow * g.strideW - g.padLeft
        let dw = g.dilationW * ps
        let wStep = kk * 16
        var ci = 0
        while ci + 4 <= cCount {
            let x0 = xa.channelBase(cBegin + ci)
            let x1 = xa.channelBase(cBegin + ci + 1)
            let x2 = xa.channelBase(cBegin + ci + 2)
            let x3 = xa.channelBase(cBegin + ci + 3)
            let wc = w + ci * wStep
            for kh in rows.khBegin..<rows.khEnd {
                let r = ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                let wr = wc + kh * g.kernelW * 16
                for kw in kwBegin..<kwEnd {
                    let o = r + kw * dw
                    let wo = wr + kw * 16
                    a0 = a0.madd(x0[o], load16(wo))
                    a1 = a1.madd(x1[o], load16(wo + wStep))
                    a2 = a2.madd(x2[o], load16(wo + 2 * wStep))
                    a3 = a3.madd(x3[o], load16(wo + 3 * wStep))
                }
            }
            ci += 4
        }
        while ci < cCount {
            let xc = xa.channelBase(cBegin + ci)
            let wc = w + ci * wStep
            for kh in rows.khBegin..<rows.khEnd {
                let xr = xc + ((rows.ih0 + kh * g.dilationH) * g.inW + iw0) * ps
                let wr = wc + kh * g.kernelW * 16
                for kw in kwBegin..<kwEnd {
                    a0 = a0.madd(xr[kw * dw], load16(wr + kw * 16))
                }
            }
            ci += 1
        }
        finish((a0 + a1) + (a2 + a3), g, yBlock, rBlock, oh * g.outW + ow)
    }
}

/// Depthwise convolution (groups == C == O): channels in lanes, one block of 16 channels at a
/// time. Input and output blocked; weights `depthwise16`: [ceil(C/16)][KH][KW][16].
/// Complexity: N · C · OH · OW · KH · KW multiply-accumulates. `part`: the (image, block, row)
/// units of `WorkPart`; every pixel is computed the same way whatever the split.
///
/// Each output row runs its horizontal interior (every tap in bounds horizontally) in tiles of
/// `tile` adjacent pixels with one accumulator each, so a tap's weight vector feeds `tile`
/// independent FMA chains (one accumulator alone is a chain of KH·KW dependent FMAs, bound by
/// the FMA latency: ~1/8 of the peak with two pipes of 4 cycles); kernel rows on padding are
/// left out of every pixel of the row, a last partial tile stores only its pixels. The left
/// and right edge columns (taps clipped by padding) run pixel by pixel. Every output sums its
/// taps in the same order (kernel rows, then columns), tiled or not.
enum ConvDepthwise {
    /// Output pixels per tile (accumulators of 16 lanes), with the register budget (the weight
    /// vector of the tap is shared, the inputs are FMA memory operands on x86):
    /// - AVX-512: 8 zmm of 32 (8 independent chains cover 2 pipes × 4 cycles);
    /// - AVX2: 6 pixels = 12 ymm + 2 for the weight vector of 16;
    /// - NEON (aarch64): 4 pixels = 16 q registers + 4 weight + 4 input of 32;
    /// - x86 baseline (SSE2, no FMA): 2 pixels = 8 xmm + 4 weight + 4 for the product of 16;
    /// - 32-bit ARM (Cortex-M, scalar FPU: a 16-lane accumulator is 16 `s` registers): 1.
    #if ACNET_ISA_AVX512
    static let tile = 8
    #elseif arch(arm)
    static let tile = 1
    #elseif ACNET_ISA_AVX2
    static let tile = 6
    #elseif ACNET_ISA_NEON
    static let tile = 4
    #else
    static let tile = 2
    #endif

    static func run(
        _ g: ConvGeometry, batch: Int, x: TensorView, y: TensorView, residual: TensorView?,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, part: WorkPart
    ) {
        let inPlane = g.inH * g.inW
        let outPlane = g.outH * g.outW
        // Interior output columns [owLo, owHi): every tap in bounds horizontally.
        let span = (g.kernelW - 1) * g.dilationW
        let owLo = kmin(g.outW, ceilDiv(g.padLeft, g.strideW))
        let hiNum = g.inW - 1 - span + g.padLeft
        let owHi = hiNum < 0 ? owLo : kmax(owLo, kmin(g.outW, hiNum / g.strideW + 1))
        part.forEachBlock(batch: batch, blocks: g.outBlocks, rows: g.outH) { n, b, rowBegin, rowEnd in
            let xb = UnsafePointer<Float>(x.base + n * x.imageStride + b * inPlane * 16)
            let yb = y.base + n * y.imageStride + b * outPlane * 16
            let rb = residual.map { UnsafePointer<Float>($0.base + n * $0.imageStride + b * outPlane * 16) }
            let wb = weights + b * g.kernelH * g.kernelW * 16
            let biasV = load16(bias + b * 16)
            let rows = rowBegin..<rowEnd
            // Literal tap geometry for the stride-1 3x3 and 5x5 kernels (most of the depthwise
            // work of MobileNet/EfficientNet-style models), so the tap loop unrolls and the pixel
            // offsets fold into immediates. Stride 2 runs the same tiles with run-time geometry:
            // two more literal variants cost ~7 KB per ISA and took the Embedded library past
            // its footprint budget (scripts/ci_embedded.sh).
            if g.dilationW == 1 && g.kernelW == 3 && g.strideW == 1 {
                runRows(g, xb, wb, biasV, yb, rb, rows, owLo: owLo, owHi: owHi, kernelW: 3, step: 16, dil: 16)
            } else if g.dilationW == 1 && g.kernelW == 5 && g.strideW == 1 {
                runRows(g, xb, wb, biasV, yb, rb, rows, owLo: owLo, owHi: owHi, kernelW: 5, step: 16, dil: 16)
            } else {
                runRows(
                    g, xb, wb, biasV, yb, rb, rows, owLo: owLo, owHi: owHi, kernelW: g.kernelW,
                    step: g.strideW * 16, dil: g.dilationW * 16)
            }
        }
    }

    /// Output rows `rows` of one block: edge pixels, then the interior columns [owLo, owHi) in
    /// tiles (a remainder of 1…tile−1 pixels as one partial tile), then the right edge pixels.
    /// `step`: input elements between adjacent output pixels (strideW · 16); `dil`: between
    /// adjacent kernel columns (dilationW · 16).
    @_transparent  // inlined with the literal geometry of each call in `run`
    static func runRows(
        _ g: ConvGeometry, _ xb: UnsafePointer<Float>, _ wb: UnsafePointer<Float>, _ biasV: V16,
        _ yb: UnsafeMutablePointer<Float>, _ rb: UnsafePointer<Float>?, _ rows: Range<Int>,
        owLo: Int, owHi: Int, kernelW: Int, step: Int, dil: Int
    ) {
        for oh in rows {
            let ih0 = oh * g.strideH - g.padTop
            var khBegin = 0
            while khBegin < g.kernelH && ih0 + khBegin * g.dilationH < 0 { khBegin += 1 }
            var khEnd = g.kernelH
            while khEnd > khBegin && ih0 + (khEnd - 1) * g.dilationH >= g.inH { khEnd -= 1 }
            for ow in 0..<owLo { edgePixel(g, xb, wb, biasV, yb, rb, oh, ow, khBegin, khEnd) }
            var ow = owLo
            while ow < owHi {
                let count = kmin(tile, owHi - ow)
                // Input of the tile's first pixel at its first kernel column and row.
                let x0 = xb + ((ih0 + khBegin * g.dilationH) * g.inW + ow * g.strideW - g.padLeft) * 16
                interiorTile(
                    g, x0, wb, biasV, yb, rb, oh * g.outW + ow, khBegin, khEnd, count: count,
                    kernelW: kernelW, step: step, dil: dil)
                ow += count
            }
            for ow in kmax(owHi, owLo)..<g.outW { edgePixel(g, xb, wb, biasV, yb, rb, oh, ow, khBegin, khEnd) }
        }
    }

    /// `count` (1…tile) adjacent output pixels starting at output pixel index `p`, all taps
    /// in bounds horizontally, kernel rows [khBegin, khEnd) in bounds vertically (`x0`: the
    /// first pixel's input at kernel row khBegin, column 0): no bounds checks. Pixels k ≥ count repeat pixel count−1's input (never read past it) and are not
    /// stored.
    @_transparent
    static func interiorTile(
        _ g: ConvGeometry, _ x0: UnsafePointer<Float>, _ wb: UnsafePointer<Float>, _ biasV: V16,
        _ yb: UnsafeMutablePointer<Float>, _ rb: UnsafePointer<Float>?, _ p: Int,
        _ khBegin: Int, _ khEnd: Int, count: Int, kernelW: Int, step: Int, dil: Int
    ) {
        let s1 = kmin(1, count - 1) * step
        let s2 = kmin(2, count - 1) * step
        let s3 = kmin(3, count - 1) * step
        let s4 = kmin(4, count - 1) * step
        let s5 = kmin(5, count - 1) * step
        let s6 = kmin(6, count - 1) * step
        let s7 = kmin(7, count - 1) * step
        var a0 = biasV
        var a1 = biasV
        var a2 = biasV
        var a3 = biasV
        var a4 = biasV
        var a5 = biasV
        var a6 = biasV
        var a7 = biasV
        let rowStride = g.dilationH * g.inW * 16
        var xr = x0
        var wr = wb + khBegin * kernelW * 16
        for _ in khBegin..<khEnd {
            for kw in 0..<kernelW {
                let wv = load16(wr + kw * 16)
                let xp = xr + kw * dil
                a0 = a0.madd(load16(xp), wv)
                if tile > 1 { a1 = a1.madd(load16(xp + s1), wv) }
                if tile > 2 {
                    a2 = a2.madd(load16(xp + s2), wv)
                    a3 = a3.madd(load16(xp + s3), wv)
                }
                if tile > 4 {
                    a4 = a4.madd(load16(xp + s4), wv)
                    a5 = a5.madd(load16(xp + s5), wv)
                }
                if tile > 6 {
                    a6 = a6.madd(load16(xp + s6), wv)
                    a7 = a7.madd(load16(xp + s7), wv)
                }
            }
            xr += rowStride
            wr += kernelW * 16
        }
        finish(a0, g, yb, rb, p)
        if count > 1 { finish(a1, g, yb, rb, p + 1) }
        if count > 2 { finish(a2, g, yb, rb, p + 2) }
        if count > 3 { finish(a3, g, yb, rb, p + 3) }
        if count > 4 { finish(a4, g, yb, rb, p + 4) }
        if count > 5 { finish(a5, g, yb, rb, p + 5) }
        if count > 6 { finish(a6, g, yb, rb, p + 6) }
        if count > 7 { finish(a7, g, yb, rb, p + 7) }
    }

    /// One output pixel whose taps may fall on padding horizontally (kernel rows already
    /// clipped to [khBegin, khEnd)).
    @inline(__always)
    static func edgePixel(
        _ g: ConvGeometry, _ xb: UnsafePointer<Float>, _ wb: UnsafePointer<Float>, _ biasV: V16,
        _ yb: UnsafeMutablePointer<Float>, _ rb: UnsafePointer<Float>?, _ oh: Int, _ ow: Int,
        _ khBegin: Int, _ khEnd: Int
    ) {
        let ih0 = oh * g.strideH - g.padTop
        let iw0 = ow * g.strideW - g.padLeft
        var acc = biasV
        for kh in khBegin..<khEnd {
            let ih = ih0 + kh * g.dilationH
            for kw in 0..<g.kernelW {
                let iw = iw0 + kw * g.dilationW
                if iw < 0 || iw >= g.inW { continue }
                acc = acc.madd(load16(xb + (ih * g.inW + iw) * 16), load16(wb + (kh * g.kernelW + kw) * 16))
            }
        }
        finish(acc, g, yb, rb, oh * g.outW + ow)
    }

    @inline(__always)
    static func finish(
        _ acc: V16, _ g: ConvGeometry, _ yb: UnsafeMutablePointer<Float>,
        _ rb: UnsafePointer<Float>?, _ p: Int
    ) {
        var v = acc
        if let rb { v += load16(rb + p * 16) }
        store16(yb + p * 16, activate(v, g.activation))
    }
}

/// The indices of `a` then those of `b`, like `Array(a) + Array(b)` but without building arrays:
/// a session's run performs no heap allocation (Tests/CABI/alloc_test.c counts them).
struct TwoRanges: Sequence, IteratorProtocol {
    var first: Range<Int>.Iterator, second: Range<Int>.Iterator
    init(_ a: Range<Int>, _ b: Range<Int>) {
        first = a.makeIterator()
        second = b.makeIterator()
    }
    @inline(__always) mutating func next() -> Int? { first.next() ?? second.next() }
}

/// A `RowTileKind` (output width, kernel width, stride) as a type, for `narrowRows`.
protocol RowShape {
    static var outW: Int { get }
    static var kernel: Int { get }
    static var stride: Int { get }
}
enum W7K3S1: RowShape {
    static var outW: Int { 7 }
    static var kernel: Int { 3 }
    static var stride: Int { 1 }
}
enum W7K3S2: RowShape {
    static var outW: Int { 7 }
    static var kernel: Int { 3 }
    static var stride: Int { 2 }
}
enum W8K3S1: RowShape {
    static var outW: Int { 8 }
    static var kernel: Int { 3 }
    static var stride: Int { 1 }
}
enum W8K5S1: RowShape {
    static var outW: Int { 8 }
    static var kernel: Int { 5 }
    static var stride: Int { 1 }
}
enum W14K3S1: RowShape {
    static var outW: Int { 14 }
    static var kernel: Int { 3 }
    static var stride: Int { 1 }
}
enum W14K3S2: RowShape {
    static var outW: Int { 14 }
    static var kernel: Int { 3 }
    static var stride: Int { 2 }
}
enum W16K3S1: RowShape {
    static var outW: Int { 16 }
    static var kernel: Int { 3 }
    static var stride: Int { 1 }
}
enum W16K3S2: RowShape {
    static var outW: Int { 16 }
    static var kernel: Int { 3 }
    static var stride: Int { 2 }
}
enum W16K5S1: RowShape {
    static var outW: Int { 16 }
    static var kernel: Int { 5 }
    static var stride: Int { 1 }
}
enum W28K3S1: RowShape {
    static var outW: Int { 28 }
    static var kernel: Int { 3 }
    static var stride: Int { 1 }
}
enum W28K3S2: RowShape {
    static var outW: Int { 28 }
    static var kernel: Int { 3 }
    static var stride: Int { 2 }
}

#if arch(arm)
extension SIMD4 where Scalar == Float {
    /// self + x·w (see the V16 overload: one vfma.f32 per lane with ACNET_ISA_FMA).
    @inline(__always) func madd(_ x: Float, _ w: SIMD4<Float>) -> SIMD4<Float> {
        #if ACNET_ISA_FMA
        addingProduct(x, w)
        #else
        self + x * w
        #endif
    }
}
#endif
