import Testing

@testable import ACTraining

/// The direct-convolution tile loops of every ISA build this CPU can run (AVX2: 4-row × 3-ymm
/// forward tiles with 2- and 1-vector remainders, 16-channel × 6-source weight-gradient
/// sub-tiles; AVX-512: 8 × 3 zmm, 32 × 12) against the im2col + SGEMM path of the same
/// `ConvEngine`, on one convolution with its ACB-style sub-branches (the square branch reads
/// every im2col row, the hor branch one contiguous kh block, the ver branch every KW-th row).
/// Shapes are chosen so that the padded row length covers every strip remainder (2·nv mod 3 =
/// 0, 1, 2 with nv 16-float vectors), and the output-channel counts every weight-gradient tile
/// mix (16: one 16-channel tile; 32; 40: 32 + a partial 16; 8 and 13: partial 8-row blocks).
/// Strided cases (stride 2 and 3, 3x3, 5x5 and 1x1) run the polyphase path on the same tiles.
@Suite("Direct-convolution tiles per ISA vs im2col")
struct DirectConvKernelTests {
    struct Case: CustomStringConvertible, Sendable {
        var n: Int, c: Int, o: Int, k: Int, pad: Int, dilation: Int, h: Int, w: Int, stride = 1
        var description: String { "N\(n) \(c)->\(o) k\(k) s\(stride) p\(pad) d\(dilation) \(h)x\(w)" }
        var geometry: ConvGeometry {
            ConvGeometry(
                batch: n, channels: c, height: h, width: w, kernelH: k, kernelW: k,
                strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation,
                padding: .symmetric(pad), groups: 1, mode: .zeros)
        }
    }

    static let cases: [Case] = [
        Case(n: 2, c: 3, o: 16, k: 3, pad: 1, dilation: 1, h: 5, w: 6),  // L = 4·8+6 = 38: nv 3, 2nv mod 3 = 0
        Case(n: 1, c: 5, o: 13, k: 3, pad: 1, dilation: 1, h: 4, w: 5),  // L = 26: nv 2, 2nv mod 3 = 1
        Case(n: 3, c: 2, o: 40, k: 3, pad: 1, dilation: 1, h: 3, w: 7),  // L = 25: nv 2
        Case(n: 2, c: 4, o: 32, k: 5, pad: 2, dilation: 1, h: 6, w: 5),  // L = 5·9+5 = 50: nv 4, 2nv mod 3 = 2
        Case(n: 2, c: 9, o: 8, k: 3, pad: 2, dilation: 2, h: 7, w: 7),  // L = 6·11+7 = 73: nv 5, 2nv mod 3 = 1
        Case(n: 1, c: 7, o: 17, k: 1, pad: 0, dilation: 1, h: 4, w: 4),  // 1x1: L = 16, nv 1, 2nv mod 3 = 2
        Case(n: 4, c: 16, o: 33, k: 3, pad: 1, dilation: 1, h: 11, w: 9),  // L = 10·11+9 = 119: nv 8, 2nv mod 3 = 1
        // Strided (polyphase, `StridedConvPlan`): 2nv mod 3 of the forward rows (pitch OW + Dl)
        // and 2nvx mod 3 of the input-gradient rows (pitch max(Jx, OW) + Dl) both cover 0, 1, 2.
        Case(n: 2, c: 3, o: 16, k: 3, pad: 1, dilation: 1, h: 9, w: 11, stride: 2),  // out 5x6: nv 3, nvx 3 (0, 0)
        Case(n: 2, c: 16, o: 32, k: 3, pad: 1, dilation: 1, h: 16, w: 16, stride: 2),  // ResNet-like 16->32: nv 5, nvx 6 (1, 0)
        Case(n: 3, c: 16, o: 32, k: 3, pad: 1, dilation: 1, h: 8, w: 8, stride: 2),  // out 4x4: nv 2, nvx 2 (1, 1)
        Case(n: 1, c: 5, o: 13, k: 5, pad: 2, dilation: 1, h: 12, w: 13, stride: 2),  // out 6x7: nv 4, nvx 5 (2, 1)
        Case(n: 3, c: 2, o: 40, k: 3, pad: 1, dilation: 1, h: 6, w: 5, stride: 2),  // out 3x3: nv 1, nvx 1 (2, 2)
        Case(n: 2, c: 9, o: 8, k: 3, pad: 0, dilation: 1, h: 15, w: 15, stride: 2),  // no padding: nv 4, nvx 5
        Case(n: 2, c: 4, o: 17, k: 3, pad: 1, dilation: 1, h: 11, w: 11, stride: 3),  // stride 3: 9 phases
        Case(n: 2, c: 16, o: 32, k: 1, pad: 0, dilation: 1, h: 10, w: 12, stride: 2),  // 1x1/s2 shortcut: 3 empty phases
        Case(n: 3, c: 7, o: 17, k: 1, pad: 0, dilation: 1, h: 9, w: 7, stride: 2),
    ]

    static var isas: [TrainingKernelISA] { [.avx2, .avx512].filter { TrainingKernelISA.isSupported($0) } }

    /// Square branch (all KH·C·KW im2col rows, order (kh, c, kw)) plus, for k > 1, the hor
    /// (kh = k/2: rows [kh·C·KW, (kh+1)·C·KW)) and ver (kw = k/2: every KW-th row) branches.
    static func branchLayout(_ c: Case) -> [(kb: Int, rowOffset: Int, rowStride: Int)] {
        var b = [(kb: c.k * c.c * c.k, rowOffset: 0, rowStride: 1)]
        if c.k > 1 {
            b.append((kb: c.c * c.k, rowOffset: c.k / 2 * c.c * c.k, rowStride: 1))
            b.append((kb: c.k * c.c, rowOffset: c.k / 2, rowStride: c.k))
        }
        return b
    }

    struct Result { var z: [[Float]], dW: [[Float]], dx: [Float] }

    static func run(_ c: Case, kernels: DirectConvKernelTable?) -> Result {
        let g = c.geometry
        let layout = branchLayout(c)
        let P = g.columns
        let x = GradientCheck.randomTensor([c.n, c.c, c.h, c.w], seed: 1).data
        let weights = layout.enumerated().map { i, l in
            GradientCheck.randomTensor([c.o, l.kb], seed: UInt64(10 + i)).data
        }
        let dz = layout.indices.map { i in GradientCheck.randomTensor([c.o, P], seed: UInt64(20 + i)).data }
        var z = layout.map { _ in [Float](repeating: .nan, count: c.o * P) }
        var dW = layout.map { l in [Float](repeating: 0.25, count: c.o * l.kb) }  // dW accumulates (+=)
        var dx = [Float](repeating: .nan, count: x.count)
        let engine = ConvEngine(directKernels: kernels)
        func withBranches(_ zs: inout [[Float]], _ body: ([ConvBranch]) -> Void) {
            let wp = weights.map { w -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: w.count)
                p.initialize(from: w, count: w.count)
                return p
            }
            let zp = zs.map { v -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: v.count)
                p.initialize(from: v, count: v.count)
                return p
            }
            let dwp = dW.map { v -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: v.count)
                p.initialize(from: v, count: v.count)
                return p
            }
            defer { (wp + zp + dwp).forEach { $0.deallocate() } }
            let branches = layout.indices.map { i in
                ConvBranch(
                    weight: UnsafePointer(wp[i]), kb: layout[i].kb, rowOffset: layout[i].rowOffset,
                    rowStride: layout[i].rowStride, z: zp[i], dW: dwp[i])
            }
            body(branches)
            for i in layout.indices {
                zs[i] = Array(UnsafeBufferPointer(start: zp[i], count: zs[i].count))
                dW[i] = Array(UnsafeBufferPointer(start: dwp[i], count: dW[i].count))
            }
        }
        x.withUnsafeBufferPointer { xp in
            withBranches(&z) { engine.forward(g, x: xp.baseAddress!, outputChannels: c.o, branches: $0) }
            var dzs = dz
            withBranches(&dzs) { b in
                dx.withUnsafeMutableBufferPointer {
                    engine.backward(
                        g, x: xp.baseAddress!, outputChannels: c.o, branches: b,
                        dx: $0.baseAddress!)
                }
            }
        }
        return Result(z: z, dW: dW, dx: dx)
    }

    static func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        var worst: Float = 0
        var scale: Float = 0
        for (u, v) in zip(a, b) {
            worst = max(worst, u.isNaN || v.isNaN ? .infinity : abs(u - v))
            scale = max(scale, abs(v))
        }
        return worst / (1 + scale)
    }

    @Test("forward, weight gradient and input gradient match im2col", arguments: cases)
    func matchesIm2col(_ c: Case) throws {
        let isas = Self.isas
        guard !isas.isEmpty else {
            print("SKIP direct-convolution tiles (no AVX2 + FMA or AVX-512 on this CPU)")
            return
        }
        let ref = Self.run(c, kernels: nil)
        for isa in isas {
            let table = try #require(DirectConvKernelTable.table(for: isa))
            // The geometry must take the direct path for the comparison to mean anything.
            let g = c.geometry
            let probe = [
                ConvBranch(
                    weight: UnsafePointer(bitPattern: 64)!, kb: c.k * c.c * c.k, rowOffset: 0, rowStride: 1,
                    z: UnsafeMutablePointer(bitPattern: 64)!, dW: nil)
            ]
            if c.stride == 1 {
                #expect(
                    DirectConvPlan(g, outputChannels: c.o, branches: probe, kernels: table) != nil,
                    "\(c): not on the direct path")
            } else {
                #expect(
                    StridedConvPlan(g, outputChannels: c.o, branches: probe, kernels: table) != nil,
                    "\(c): not on the strided path")
            }
            let got = Self.run(c, kernels: table)
            for b in ref.z.indices {
                #expect(Self.maxRelativeError(got.z[b], ref.z[b]) <= 1e-5, "\(isa) \(c) branch \(b) forward")
                #expect(Self.maxRelativeError(got.dW[b], ref.dW[b]) <= 1e-5, "\(isa) \(c) branch \(b) weight gradient")
            }
            #expect(Self.maxRelativeError(got.dx, ref.dx) <= 1e-5, "\(isa) \(c) input gradient")
        }
    }

    @Test(
        "strided and stride-1 direct paths are bit-for-bit repeatable at a fixed thread count",
        arguments: [cases[1], cases[6], cases[8], cases[14]])
    func repeatable(_ c: Case) throws {
        guard let isa = Self.isas.first else {
            print("SKIP direct-convolution repeatability (no AVX2 + FMA or AVX-512 on this CPU)")
            return
        }
        let table = try #require(DirectConvKernelTable.table(for: isa))
        let a = Self.run(c, kernels: table)
        let b = Self.run(c, kernels: table)
        #expect(a.z == b.z && a.dW == b.dW && a.dx == b.dx, "\(isa) \(c): two identical runs differ")
    }

    @Test("ACNET_TRAINING_KERNELS never raises the ISA above the CPU's")
    func activeIsSupported() {
        #expect(TrainingKernelISA.isSupported(TrainingKernelISA.active))
        #expect((DirectConvKernelTable.active == nil) == (TrainingKernelISA.active == .im2col))
    }
}
