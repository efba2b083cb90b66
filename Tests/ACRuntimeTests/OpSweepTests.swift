import ACNetWriter
import ACRuntime
import Testing

/// Every op of the runtime against its scalar reference (`Reference`), over odd shapes.
@Suite("Ops against the scalar reference")
struct OpSweepTests {
    struct ConvCase: CustomTestStringConvertible, Sendable {
        var c: Int, o: Int, h: Int, w: Int, k: (Int, Int), stride: (Int, Int)
        var pad: (Int, Int, Int, Int), dilation: (Int, Int), groups: Int, act: Activation, residual: Bool, batch: Int
        /// Feed the convolution a blocked tensor (the output of an identity 1x1 convolution, exact)
        /// instead of the model's plain NCHW input.
        var blocked = false
        var testDescription: String {
            "c\(c) o\(o) \(h)x\(w) k\(k.0)x\(k.1) s\(stride.0),\(stride.1) p\(pad) d\(dilation.0),\(dilation.1) g\(groups) \(act.name) res=\(residual) n\(batch)\(blocked ? " blocked" : "")"
        }
    }

    static let channelChoices = [1, 3, 5, 9, 13, 16, 17, 33]

    /// A seeded sweep of 160 convolution cases (plus 46 wide, tall, two-row and row-tile layers,
    /// 12 depthwise and 5 pointwise ones) over channels {1,3,5,9,13,16,17,33}, widths not
    /// a multiple of the 6-pixel register block, stride 1/2, padding 0...K (asymmetric too),
    /// dilation 1/2, groups 1, 2 and C (depthwise), every epilogue, batch 1 and 2 — not the
    /// full cross-product.
    static let convCases: [ConvCase] = {
        var rng = SeededRNG(seed: 2019)
        var cases = [ConvCase]()
        while cases.count < 160 {
            let c = channelChoices.randomElement(using: &rng)!
            let groupsKind = Int.random(in: 0..<4, using: &rng)
            var groups = 1
            var o = channelChoices.randomElement(using: &rng)!
            if groupsKind == 2, c % 2 == 0 {
                groups = 2
                o = 2 * Int.random(in: 1...12, using: &rng)
            }
            if groupsKind == 3 {
                groups = c
                o = c
            }
            let k = [(1, 1), (3, 3), (5, 5), (3, 1), (1, 3), (7, 7), (2, 2)].randomElement(using: &rng)!
            let s = [(1, 1), (2, 2), (1, 2)].randomElement(using: &rng)!
            let d = Int.random(in: 0..<5, using: &rng) == 0 ? (2, 2) : (1, 1)
            let pad = (
                Int.random(in: 0...k.0, using: &rng), Int.random(in: 0...k.1, using: &rng),
                Int.random(in: 0...k.0, using: &rng), Int.random(in: 0...k.1, using: &rng)
            )
            let h = Int.random(in: 1...15, using: &rng)
            let w = [1, 5, 7, 11, 13, 19, 23].randomElement(using: &rng)!
            guard h + pad.0 + pad.2 >= d.0 * (k.0 - 1) + 1, w + pad.1 + pad.3 >= d.1 * (k.1 - 1) + 1 else { continue }
            let act = [Activation.none, .relu, .relu6].randomElement(using: &rng)!
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: k, stride: s, pad: pad, dilation: d, groups: groups,
                    act: act, residual: Bool.random(using: &rng), batch: Int.random(in: 1...2, using: &rng)))
        }
        // Wide layers exercise the 4-block and 2-block register tiles (and their remainders):
        // 64 = one quad, 80 = quad + single, 96 = quad + pair, 128 with 2 groups = one quad per
        // group, widths 19 and 31 leave remainders after 12- and 6-pixel tiles.
        for (c, o, w, s, g, res) in [
            (16, 64, 19, 1, 1, false), (3, 80, 31, 1, 1, true), (9, 96, 23, 2, 1, false),
            (8, 128, 31, 1, 2, true), (33, 64, 40, 1, 1, true), (5, 48, 29, 1, 1, false),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: 6, w: w, k: (3, 3), stride: (s, s), pad: (1, 1, 1, 1), dilation: (1, 1),
                    groups: g, act: .relu, residual: res, batch: 2))
        }
        // Tall layers exercise the 4-block tiles that run down the left and right edge columns
        // (≥ 6 rows with every kernel row in bounds), with clipped kernel columns, 5x5 and
        // stride 2, and the corner and leftover pixels around them.
        for (c, o, h, w, k, s, p) in [
            (16, 64, 16, 14, 3, 1, 1), (5, 64, 21, 9, 5, 1, 2), (8, 64, 27, 13, 3, 2, 1),
            (3, 64, 19, 7, 5, 1, 1),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: (k, k), stride: (s, s), pad: (p, p, p, p), dilation: (1, 1),
                    groups: 1, act: .relu6, residual: c == 5, batch: 1))
        }
        // Single-block 3x3 stride-1 layers exercise the two-row tiles (≥ 8 interior columns):
        // odd and even row counts (a last unpaired row), remainders of 1–7 columns (the shifted
        // last tile), padding 0 and asymmetric, plain (c 3) and blocked input, 48 channels in
        // 3 groups (one block per group), residual add.
        for (c, o, h, w, pad, g, res, blocked) in [
            (16, 16, 13, 32, (1, 1, 1, 1), 1, true, true), (3, 16, 10, 17, (1, 1, 1, 1), 1, false, false),
            (17, 11, 9, 12, (0, 0, 0, 0), 1, true, true), (5, 16, 8, 15, (1, 0, 2, 1), 1, false, false),
            (48, 48, 7, 21, (1, 1, 1, 1), 3, true, true), (16, 16, 6, 9, (1, 1, 1, 1), 1, false, true),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: (3, 3), stride: (1, 1), pad: pad, dilation: (1, 1),
                    groups: g, act: .relu, residual: res, batch: 2, blocked: blocked))
        }
        // 7- and 8-wide outputs from blocked input run whole-row tiles of 1–3 blocks over chunks
        // of 16 input channels (`runNarrow`): 1, 3, 5 and 6 blocks, 1–3 chunks (33 = 16 + 16 + 1),
        // stride 1 (7 columns) and 2 (14 columns), 2 groups, residual; and a plain model input
        // of 33 channels (converted to blocked by the loader). Then 8 wide: 1–3 blocks (pairs +
        // single), a 5x3 kernel.
        for (c, o, h, w, s, g, res, blocked) in [
            (33, 48, 7, 7, 1, 1, true, true), (20, 80, 5, 7, 1, 1, false, true),
            (16, 16, 9, 7, 1, 1, true, true), (32, 96, 14, 14, 2, 2, true, true),
            (7, 40, 13, 14, 2, 1, false, true), (33, 48, 7, 7, 1, 1, true, false),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: (3, 3), stride: (s, s), pad: (1, 1, 1, 1), dilation: (1, 1),
                    groups: g, act: .relu6, residual: res, batch: 2, blocked: blocked))
        }
        for (c, o, h, k, pad, res) in [
            (33, 48, 8, (3, 3), (1, 1, 1, 1), true), (16, 32, 6, (3, 3), (1, 1, 1, 1), false),
            (20, 16, 9, (5, 3), (2, 1, 2, 1), true),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: 8, k: k, stride: (1, 1), pad: pad, dilation: (1, 1),
                    groups: 1, act: .relu, residual: res, batch: 2, blocked: true))
        }
        // Rows of 14, 16 and 28 run 2–4 tiles of 7 or 8 pixels (`RowTileKind`), each clipping
        // only the padding on its own side: 3x3 at stride 1 and 2 (from 28, 32 and 56 columns),
        // 5x5 and 3x5 into 16 and 8 columns over 8-channel chunks (17 = 8 + 8 + 1), block counts
        // that split 3 + 2, 2 + 2 and 2 + 1, 2 groups, residual, and a plain model input of 20
        // channels (converted to blocked by the loader).
        for (c, o, h, w, k, s, pad, g, res) in [
            (20, 80, 9, 14, (3, 3), 1, (1, 1, 1, 1), 1, true), (48, 64, 6, 14, (3, 3), 1, (1, 1, 1, 1), 1, false),
            (16, 48, 11, 28, (3, 3), 2, (1, 1, 1, 1), 1, true), (33, 48, 10, 16, (3, 3), 1, (1, 1, 1, 1), 1, true),
            (16, 32, 9, 32, (3, 3), 2, (1, 1, 0, 0), 1, false), (32, 64, 7, 16, (3, 3), 1, (1, 1, 1, 1), 2, true),
            (17, 32, 12, 16, (5, 5), 1, (2, 2, 2, 2), 1, true), (20, 48, 8, 8, (5, 5), 1, (2, 2, 2, 2), 1, false),
            (16, 16, 7, 16, (3, 5), 1, (1, 2, 1, 2), 1, false), (16, 32, 5, 28, (3, 3), 1, (1, 1, 1, 1), 1, true),
            (16, 64, 7, 56, (3, 3), 2, (1, 1, 1, 1), 1, false), (33, 32, 6, 28, (3, 3), 1, (1, 1, 1, 1), 1, false),
            (33, 48, 9, 56, (3, 3), 2, (1, 1, 1, 1), 1, true), (20, 48, 3, 14, (3, 3), 1, (1, 1, 1, 1), 1, false),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: k, stride: (s, s), pad: pad, dilation: (1, 1),
                    groups: g, act: .relu, residual: res, batch: 2, blocked: c != 20 || o != 80 && o != 48))
        }
        // Row tiles with the rest of the geometry free: vertical stride and dilation ≠ the
        // horizontal ones, top/bottom padding 0 and 2, single blocks on the 14- and 28-wide
        // kinds, a partly filled last block (o 40), 7 blocks (3 + 2 + 2), 16-wide stride 2 over
        // 3 chunks with residual, 5x5 into 8 columns with residual, 2 groups whose blocks read
        // different input ranges, no activation and relu6.
        for (c, o, h, w, k, s, pad, d, g, act, res) in [
            (20, 40, 11, 16, (3, 3), (2, 1), (2, 1, 0, 1), (2, 1), 1, Activation.relu6, true),
            (17, 16, 9, 14, (3, 3), (1, 1), (0, 1, 2, 1), (1, 1), 1, .none, false),
            (16, 16, 6, 56, (3, 3), (1, 2), (1, 1, 1, 1), (1, 1), 1, .relu, true),
            (40, 32, 8, 32, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1, .none, true),
            (16, 112, 4, 7, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, .relu6, false),
            (24, 32, 8, 8, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 1, .relu, true),
            (32, 40, 6, 16, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, .relu, true),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: k, stride: s, pad: pad, dilation: d,
                    groups: g, act: act, residual: res, batch: 2, blocked: true))
        }
        // Depthwise rows in tiles of 8 (AVX-512), 6 (AVX2), 4 (NEON) or 2 (x86 baseline) pixels:
        // interior widths 21, 19, 13, 15, 14, 22, 10, 5, 0, 31, 57 and 12 leave every remainder
        // of every tile width (one partial tile), 3x3 and 5x5 at stride 1 (literal tap geometry) and 2,
        // dilation 2 and 7x7 (run-time geometry), stride (2, 1) and asymmetric padding, no
        // padding, rows shorter than the kernel's reach (edge pixels only), partly filled last
        // blocks, every epilogue.
        for (c, h, w, k, s, pad, d, act, res) in [
            (16, 5, 23, 3, (1, 1), (1, 1, 1, 1), 1, Activation.relu6, true),
            (17, 4, 21, 3, (1, 1), (0, 0, 0, 0), 1, .none, false),
            (33, 6, 29, 3, (2, 2), (1, 1, 1, 1), 1, .relu, true),
            (48, 7, 19, 5, (1, 1), (2, 2, 2, 2), 1, .relu6, false),
            (20, 9, 31, 5, (2, 2), (2, 2, 2, 2), 1, .none, true),
            (16, 6, 26, 3, (1, 1), (1, 1, 1, 1), 2, .relu, true),
            (24, 5, 12, 3, (2, 1), (1, 0, 2, 1), 1, .relu, false),
            (32, 3, 7, 3, (1, 1), (1, 1, 1, 1), 1, .none, true),
            (16, 4, 3, 5, (1, 1), (2, 2, 2, 2), 1, .relu6, true),
            (19, 8, 37, 7, (1, 1), (3, 3, 3, 3), 1, .relu, false),
            (40, 5, 59, 3, (1, 1), (1, 1, 1, 1), 1, .relu6, true),
            (16, 6, 28, 5, (2, 2), (1, 2, 2, 1), 1, .none, false),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: c, h: h, w: w, k: (k, k), stride: s, pad: pad, dilation: (d, d),
                    groups: c, act: act, residual: res, batch: 2, blocked: true))
        }
        // 1x1 stride-1 unpadded layers on blocked input run on merged rows (k·W pixels per
        // row, k dividing H, enough work units for the thread split): 7×7 (one row of 49),
        // 14×6, a prime height (13: no merge but whole rows), 1 to 5 output blocks, residual.
        for (c, o, h, w, res) in [
            (48, 80, 7, 7, true), (33, 16, 14, 6, false), (16, 40, 13, 5, true),
            (20, 64, 8, 9, false), (64, 17, 6, 11, true),
        ] {
            cases.append(
                ConvCase(
                    c: c, o: o, h: h, w: w, k: (1, 1), stride: (1, 1), pad: (0, 0, 0, 0), dilation: (1, 1),
                    groups: 1, act: .relu, residual: res, batch: 2, blocked: true))
        }
        return cases
    }()

    @Test("conv2d matches the reference, with every supported kernel ISA", arguments: convCases, supportedISAs)
    func conv(_ t: ConvCase, isa: KernelISA) throws {
        var rng = SeededRNG(seed: UInt64(t.c * 1000 + t.o * 10 + t.h))
        let cg = t.c / t.groups
        let x = randomArray(t.batch * t.c * t.h * t.w, &rng)
        let weight = randomArray(t.o * cg * t.k.0 * t.k.1, &rng, scale: 0.5)
        let bias = randomArray(t.o, &rng)
        let xt = Reference.Tensor(n: t.batch, c: t.c, h: t.h, w: t.w, data: x)
        let plain = Reference.conv2d(
            xt, weight: weight, bias: bias, outputChannels: t.o, kernelSize: t.k, stride: t.stride,
            padding: t.pad, dilation: t.dilation, groups: t.groups)
        // The residual operand is produced inside the graph (models have one input): a first
        // convolution without activation computes `plain`, and the second adds it:
        // y = act(conv(x) + conv(x)).
        let want = Reference.conv2d(
            xt, weight: weight, bias: bias, outputChannels: t.o, kernelSize: t.k,
            stride: t.stride, padding: t.pad, dilation: t.dilation, groups: t.groups,
            activation: t.act, residual: t.residual ? plain : nil
        ).data
        let padding = Padding(top: t.pad.0, left: t.pad.1, bottom: t.pad.2, right: t.pad.3)
        var identity = [Float](repeating: 0, count: t.c * t.c)
        for i in 0..<t.c { identity[i * t.c + i] = 1 }
        let (out, model) = try runModel(c: t.c, h: t.h, w: t.w, n: t.batch, input: x, isa: isa) { b, input in
            let x =
                t.blocked
                ? try b.conv2d(
                    input, weight: identity, bias: .init(repeating: 0, count: t.c), outputChannels: t.c,
                    kernelSize: (1, 1))
                : input
            let r =
                t.residual
                ? try b.conv2d(
                    x, weight: weight, bias: bias, outputChannels: t.o, kernelSize: t.k, stride: t.stride,
                    padding: padding, dilation: t.dilation, groups: t.groups)
                : nil
            return try b.conv2d(
                x, weight: weight, bias: bias, outputChannels: t.o, kernelSize: t.k, stride: t.stride,
                padding: padding, dilation: t.dilation, groups: t.groups, activation: t.act, residual: r)
        }
        let depthwise = cg == 1 && t.o == t.c
        let kernel = depthwise ? "conv.depthwise16.direct" : "conv.oc16.direct"
        #expect(model.layers.last!.kernel == kernel)
        let terms = cg * t.k.0 * t.k.1
        let tol = accumulationTolerance(terms: terms + 2, magnitude: 0.5 * Float(terms) + 3)
        #expect(maxAbsDiff(out, want) <= tol, "tolerance \(tol)")
        try expectSameWithThreads(model, x, batch: t.batch, isa: isa, out, threads: 2 + t.h % 3)
    }

    struct PoolCase: CustomTestStringConvertible, Sendable {
        var c: Int, h: Int, w: Int, k: Int, s: Int, p: Int, ceil: Bool, cip: Bool, isMax: Bool
        var testDescription: String {
            "\(isMax ? "max" : "avg") c\(c) \(h)x\(w) k\(k) s\(s) p\(p) ceil=\(ceil) cip=\(cip)"
        }
    }

    static let poolCases: [PoolCase] = {
        var rng = SeededRNG(seed: 7)
        var cases = [PoolCase]()
        while cases.count < 48 {
            let k = Int.random(in: 1...4, using: &rng)
            let s = Int.random(in: 1...3, using: &rng)
            let p = Int.random(in: 0...(k / 2), using: &rng)
            let h = Int.random(in: 1...13, using: &rng)
            let w = Int.random(in: 1...13, using: &rng)
            guard h + 2 * p >= k, w + 2 * p >= k else { continue }
            cases.append(
                PoolCase(
                    c: channelChoices.randomElement(using: &rng)!, h: h, w: w, k: k, s: s, p: p,
                    ceil: Bool.random(using: &rng), cip: Bool.random(using: &rng), isMax: Bool.random(using: &rng)))
        }
        return cases
    }()

    @Test("max/avg pooling match the reference, with every supported kernel ISA", arguments: poolCases, supportedISAs)
    func pool(_ t: PoolCase, isa: KernelISA) throws {
        var rng = SeededRNG(seed: UInt64(t.h * 100 + t.w))
        let x = randomArray(2 * t.c * t.h * t.w, &rng)
        let want = Reference.pool(
            Reference.Tensor(n: 2, c: t.c, h: t.h, w: t.w, data: x), max: t.isMax,
            kernelSize: (t.k, t.k), stride: (t.s, t.s), padding: (t.p, t.p, t.p, t.p),
            ceilMode: t.ceil, countIncludePad: t.cip)
        let (out, model) = try runModel(c: t.c, h: t.h, w: t.w, n: 2, input: x, isa: isa) { b, x in
            t.isMax
                ? try b.maxPool(
                    x, kernelSize: (t.k, t.k), stride: (t.s, t.s), padding: .symmetric(t.p), ceilMode: t.ceil)
                : try b.avgPool(
                    x, kernelSize: (t.k, t.k), stride: (t.s, t.s), padding: .symmetric(t.p), ceilMode: t.ceil,
                    countIncludePad: t.cip)
        }
        #expect(model.layers.last!.kernel == (t.isMax ? "max_pool.c16" : "avg_pool.c16"))
        #expect(maxAbsDiff(out, want.data) <= accumulationTolerance(terms: t.k * t.k, magnitude: 1))
        try expectSameWithThreads(model, x, batch: 2, isa: isa, out, threads: 2 + t.h % 3)
    }

    @Test(
        "global average pool, flatten, linear and softmax, with every supported kernel ISA",
        arguments: [1, 3, 5, 9, 13, 16, 17, 33], supportedISAs)
    func head(_ c: Int, isa: KernelISA) throws {
        var rng = SeededRNG(seed: UInt64(c))
        let (h, w, o) = (5, 7, 11)
        let x = randomArray(2 * c * h * w, &rng)
        let w1 = randomArray(o * c * h * w, &rng, scale: 0.2)
        let b1 = randomArray(o, &rng)
        let w2 = randomArray(o * c, &rng, scale: 0.2)
        let xt = Reference.Tensor(n: 2, c: c, h: h, w: w, data: x)
        let flat = Reference.linear(Reference.flatten(xt), weight: w1, bias: b1, outputFeatures: o, activation: .relu)
        let gap = Reference.linear(Reference.globalAvgPool(xt), weight: w2, bias: nil, outputFeatures: o)
        let want = Reference.softmax(Reference.add(flat, gap))
        let (out, model) = try runModel(c: c, h: h, w: w, n: 2, input: x, isa: isa) { b, x in
            let f = try b.linear(try b.flatten(x), weight: w1, bias: b1, outputFeatures: o, activation: .relu)
            let g = try b.linear(try b.globalAvgPool(x), weight: w2, bias: nil, outputFeatures: o)
            return try b.softmax(try b.add(f, g))
        }
        #expect(model.layers.map(\.kernel).contains("linear.oc16"))
        #expect(model.layers.map(\.kernel).contains("global_avg_pool.c16"))
        #expect(
            maxAbsDiff(out, want.data) <= accumulationTolerance(terms: c * h * w, magnitude: 0.2 * Float(c * h * w)))
    }

    @Test(
        "add, concat, scale_shift and activation on blocked tensors, with every supported kernel ISA",
        arguments: [1, 3, 5, 9, 13, 16, 17, 33], supportedISAs)
    func elementwise(_ c: Int, isa: KernelISA) throws {
        var rng = SeededRNG(seed: UInt64(100 + c))
        let (h, w) = (3, 7)
        let x = randomArray(c * h * w, &rng, scale: 8)
        let scale = randomArray(c, &rng)
        let shift = randomArray(c, &rng)
        let xt = Reference.Tensor(n: 1, c: c, h: h, w: w, data: x)
        let a = Reference.activation(xt, .relu6)
        let s = Reference.scaleShift(xt, scale: scale, shift: shift, activation: .relu)
        let want = Reference.concat([Reference.add(a, s, activation: .none), xt, a])
        let (out, model) = try runModel(c: c, h: h, w: w, input: x, isa: isa) { b, x in
            let a = try b.activation(x, .relu6)
            let s = try b.scaleShift(x, scale: scale, shift: shift, activation: .relu)
            let a2 = try b.activation(x, .relu6)
            return try b.concat([try b.add(a, s), try b.activation(x, .none), a2])
        }
        #expect(model.layers.map(\.kernel).contains("concat.channels"))
        #expect(maxAbsDiff(out, want.data) <= 1e-5)
        try expectSameWithThreads(model, x, batch: 1, isa: isa, out, threads: 2 + c % 3)
    }

    @Test(
        "layout conversions: plain input → blocked → plain output, exact, for channels not a multiple of 16, planes not a multiple of 16, unaligned caller buffers, batch 3 and threads 1-3",
        arguments: supportedISAs)
    func layoutRoundTrip(isa: KernelISA) throws {
        for (c, h, w) in [(1, 1, 1), (3, 7, 5), (16, 4, 4), (17, 5, 13), (33, 16, 16), (40, 9, 29), (64, 1, 17)] {
            var rng = SeededRNG(seed: UInt64(c * 1000 + h * 10 + w))
            let n = 3
            let count = n * c * h * w
            // ReLU reads the plain model input through the loader's toBlocked step and leaves a
            // blocked output for the session's output step: y = max(x, 0) exactly.
            var b = ModelBuilder(inputChannels: c, height: h, width: w, inputSpec: rawSpec(c))
            let y = try b.activation(b.input, .relu)
            let model = try Model(bytes: try b.serialize(output: y))
            let x = randomArray(count, &rng)
            let want = x.map { max($0, 0) }
            for threads in 1...3 {
                let s = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: n, isa: isa))
                // Caller buffers one float past a 64-byte boundary.
                var inBuf = [Float](repeating: 0, count: count + 16)
                var outBuf = [Float](repeating: .nan, count: count + 17)
                inBuf.replaceSubrange(1...count, with: x)
                try inBuf.withUnsafeBufferPointer { i in
                    try outBuf.withUnsafeMutableBufferPointer { o in
                        try s.run(
                            input: i.baseAddress! + 1, inputCount: count, output: o.baseAddress! + 1,
                            outputCount: count, batch: n)
                    }
                }
                #expect(Array(outBuf[1...count]) == want, "c\(c) \(h)x\(w) threads \(threads)")
                #expect(outBuf[0].isNaN && outBuf[count + 1].isNaN, "c\(c) \(h)x\(w): wrote outside the output")
            }
        }
    }

    @Test("residual network graph with in-place ops and batch 3")
    func residualGraph() throws {
        var rng = SeededRNG(seed: 99)
        let (c, h, w) = (3, 9, 9)
        let x = randomArray(3 * c * h * w, &rng)
        let w0 = randomArray(16 * c * 9, &rng, scale: 0.3)
        let b0 = randomArray(16, &rng)
        let w1 = randomArray(16 * 16 * 9, &rng, scale: 0.1)
        let b1 = randomArray(16, &rng)
        let w2 = randomArray(16 * 16 * 9, &rng, scale: 0.1)
        let b2 = randomArray(16, &rng)
        let xt = Reference.Tensor(n: 3, c: c, h: h, w: w, data: x)
        let y0 = Reference.conv2d(
            xt, weight: w0, bias: b0, outputChannels: 16, kernelSize: (3, 3), padding: (1, 1, 1, 1), activation: .relu)
        let y1 = Reference.conv2d(
            y0, weight: w1, bias: b1, outputChannels: 16, kernelSize: (3, 3), padding: (1, 1, 1, 1), activation: .relu)
        let y2 = Reference.conv2d(
            y1, weight: w2, bias: b2, outputChannels: 16, kernelSize: (3, 3), padding: (1, 1, 1, 1),
            activation: .relu, residual: y0)
        let want = Reference.globalAvgPool(y2)
        let (out, model) = try runModel(c: c, h: h, w: w, n: 3, input: x) { b, x in
            let y0 = try b.conv2d(
                x, weight: w0, bias: b0, outputChannels: 16, kernelSize: (3, 3), padding: .symmetric(1),
                activation: .relu)
            let y1 = try b.conv2d(
                y0, weight: w1, bias: b1, outputChannels: 16, kernelSize: (3, 3), padding: .symmetric(1),
                activation: .relu)
            let y2 = try b.conv2d(
                y1, weight: w2, bias: b2, outputChannels: 16, kernelSize: (3, 3), padding: .symmetric(1),
                activation: .relu, residual: y0)
            return try b.globalAvgPool(y2)
        }
        #expect(maxAbsDiff(out, want.data) <= 1e-4)
        for threads in 2...4 { try expectSameWithThreads(model, x, batch: 3, isa: model.isa, out, threads: threads) }
    }
}
