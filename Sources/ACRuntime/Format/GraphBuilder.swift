/// Turns the validated tensor table and the op table into activation slots, execution steps
/// and layer descriptions. Every op's parameters, operand kinds, shapes and constant sizes are
/// checked here; ops must come in execution order (an op reads only tensors written earlier,
/// and every tensor is written once), which also rules out cycles.
struct GraphBuilder {
    let reader: ByteReader
    let tensors: [ModelParser.RawTensor]
    let inputIndex: Int
    let version: UInt32

    var activations: [ActivationDesc] = []
    var slotOfTensor: [Int]
    var written: [Bool]
    var steps: [Step] = []
    /// Conv steps that also have Winograd weights.
    var winograd: [WinogradAlternative] = []
    var layers: [LayerInfo] = []
    /// Slot of the blocked copy of the model input, once an op needed it.
    var blockedInputSlot: Int? = nil

    init(reader: ByteReader, tensors: [ModelParser.RawTensor], inputIndex: Int, version: UInt32) throws(ACNetError) {
        self.reader = reader
        self.version = version
        self.tensors = tensors
        self.inputIndex = inputIndex
        slotOfTensor = [Int](repeating: -1, count: tensors.count)
        written = [Bool](repeating: false, count: tensors.count)
        for (i, t) in tensors.enumerated() where t.kind == .activation {
            slotOfTensor[i] = activations.count
            activations.append(
                ActivationDesc(
                    rank: t.rank, c: t.dims[1], h: t.rank == 4 ? t.dims[2] : 1, w: t.rank == 4 ? t.dims[3] : 1,
                    blocked: t.rank == 4 && i != inputIndex, tensorIndex: i))
        }
        written[inputIndex] = true
    }

    private struct RawOp {
        var index: Int
        var code: OpCode
        var inputs: [Int]
        var output: Int
        var weight: Int?
        var bias: Int?
        var winogradWeight: Int?
        var params: [Int32]
    }

    mutating func parseOps() throws(ACNetError) {
        let H = ACNBFormat.Header.self
        let E = ACNBFormat.OpEntry.self
        let count = Int(try reader.u32(H.opCount))
        guard count >= 1, count <= ACNBFormat.maxOps else { throw .badFormat("op count \(count) is out of range") }
        let offset = try reader.offset(H.opTableOffset, "op table offset")
        try reader.range(offset, try Checked.mul(count, ACNBFormat.opEntrySize, "op table size"), "the op table")
        guard offset >= ACNBFormat.headerSize else { throw .badFormat("the op table overlaps the header") }
        for i in 0..<count {
            let e = offset + i * ACNBFormat.opEntrySize
            let codeRaw = try reader.u32(e + E.opcode)
            guard let code = OpCode(rawValue: codeRaw) else {
                throw .unsupported("op \(i): unknown op code \(codeRaw)")
            }
            let inputCount = Int(try reader.u32(e + E.inputCount))
            guard inputCount >= 1, inputCount <= ACNBFormat.maxOpInputs else {
                throw .badFormat("op \(i): input count \(inputCount)")
            }
            var inputs = [Int]()
            for k in 0..<ACNBFormat.maxOpInputs {
                let v = try reader.u32(e + E.inputs + 4 * k)
                if k < inputCount {
                    let t = try activationOperand(Int(v), op: i, role: "input \(k)")
                    guard written[t] else { throw .badFormat("op \(i) reads tensor \(t) before it is written") }
                    inputs.append(t)
                } else if v != ACNBFormat.none {
                    throw .badFormat("op \(i): unused input slot \(k) must be empty")
                }
            }
            let output = try activationOperand(Int(try reader.u32(e + E.output)), op: i, role: "output")
            guard !written[output] else {
                throw .badFormat("op \(i) writes tensor \(output), which is already written")
            }
            let weight = try constantOperand(try reader.u32(e + E.weight), op: i, role: "weight")
            let bias = try constantOperand(try reader.u32(e + E.bias), op: i, role: "bias")
            var winogradWeight: Int? = nil
            if version >= 2 {
                winogradWeight = try constantOperand(
                    try reader.u32(e + E.winogradWeight), op: i, role: "winograd weight")
                if winogradWeight != nil && code != .conv2d {
                    throw .badFormat("op \(i) (\(code.name)): only conv2d takes Winograd weights")
                }
            } else {
                guard try reader.u32(e + E.winogradWeight) == 0 else {
                    throw .badFormat("op \(i): reserved field is not 0")
                }
            }
            var params = [Int32]()
            for k in 0..<ACNBFormat.paramCount { params.append(try reader.i32(e + E.params + 4 * k)) }
            for k in stride(from: E.params + 4 * ACNBFormat.paramCount, to: ACNBFormat.opEntrySize, by: 4)
            where try reader.u32(e + k) != 0 {
                throw .badFormat("op \(i): reserved bytes are not 0")
            }
            let op = RawOp(
                index: i, code: code, inputs: inputs, output: output, weight: weight, bias: bias,
                winogradWeight: winogradWeight, params: params)
            try build(op)
            written[output] = true
        }
    }

    private func activationOperand(_ t: Int, op: Int, role: String) throws(ACNetError) -> Int {
        guard t >= 0, t < tensors.count, tensors[t].kind == .activation else {
            throw .badFormat("op \(op): \(role) \(t) is not an activation tensor")
        }
        return t
    }

    private func constantOperand(_ raw: UInt32, op: Int, role: String) throws(ACNetError) -> Int? {
        if raw == ACNBFormat.none { return nil }
        let t = Int(raw)
        guard t < tensors.count, tensors[t].kind == .constant else {
            throw .badFormat("op \(op): \(role) \(t) is not a constant tensor")
        }
        return t
    }

    // MARK: Helpers

    private func desc(_ tensor: Int) -> ActivationDesc { activations[slotOfTensor[tensor]] }

    private func param(_ op: RawOp, _ k: Int, _ name: String, _ range: ClosedRange<Int>) throws(ACNetError) -> Int {
        let v = Int(op.params[k])
        guard range.contains(v) else {
            throw .unsupported(
                "op \(op.index) (\(op.code.name)): \(name) = \(v) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    private func reservedParams(_ op: RawOp, from k: Int) throws(ACNetError) {
        for j in k..<ACNBFormat.paramCount where op.params[j] != 0 {
            throw .badFormat("op \(op.index) (\(op.code.name)): parameter \(j) is reserved and must be 0")
        }
    }

    private func activationParam(_ op: RawOp, _ k: Int) throws(ACNetError) -> Activation {
        guard let a = Activation(rawValue: op.params[k]) else {
            throw .unsupported("op \(op.index): unknown activation \(op.params[k])")
        }
        return a
    }

    /// Reads parameters 0–7, which conv2d and pooling share: kernel H/W, stride H/W and the
    /// top/left/bottom/right padding. Padding along an axis may be 0...maxPad(kernel extent).
    private func window(
        _ op: RawOp, kernel: ClosedRange<Int>, stride: ClosedRange<Int>,
        maxPad: (Int) -> Int
    ) throws(ACNetError)
        -> (Int, Int, Int, Int, Int, Int, Int, Int)
    {
        let P = ConvParam.self
        let kh = try param(op, P.kernelH, "kernel height", kernel)
        let kw = try param(op, P.kernelW, "kernel width", kernel)
        let sh = try param(op, P.strideH, "stride height", stride)
        let sw = try param(op, P.strideW, "stride width", stride)
        let padH = 0...maxPad(kh)
        let padW = 0...maxPad(kw)
        return (
            kh, kw, sh, sw,
            try param(op, P.padTop, "top padding", padH), try param(op, P.padLeft, "left padding", padW),
            try param(op, P.padBottom, "bottom padding", padH), try param(op, P.padRight, "right padding", padW)
        )
    }

    private func expectOutput(_ op: RawOp, rank: Int, _ c: Int, _ h: Int = 1, _ w: Int = 1) throws(ACNetError) {
        let d = desc(op.output)
        guard d.rank == rank, d.c == c, d.h == h, d.w == w else {
            let want = rank == 4 ? "[1, \(c), \(h), \(w)]" : "[1, \(c)]"
            throw .badFormat(
                "op \(op.index) (\(op.code.name)): output tensor \(op.output) has shape \(d.dims), expected \(want)")
        }
    }

    private func constant(
        _ op: RawOp, _ t: Int?, _ role: String, count: Int, packing: WeightPacking
    ) throws(ACNetError)
        -> UnsafePointer<Float>
    {
        guard let t else { throw .badFormat("op \(op.index) (\(op.code.name)): missing \(role)") }
        let raw = tensors[t]
        guard raw.packing == packing else {
            throw .unsupported("op \(op.index): \(role) packing \(raw.packing) (expected \(packing))")
        }
        guard raw.dims[0] == count else {
            throw .badFormat("op \(op.index) (\(op.code.name)): \(role) has \(raw.dims[0]) elements, expected \(count)")
        }
        return (reader.base + raw.dataOffset).assumingMemoryBound(to: Float.self)
    }

    private func noConstants(_ op: RawOp) throws(ACNetError) {
        guard op.weight == nil, op.bias == nil else {
            throw .badFormat("op \(op.index) (\(op.code.name)) takes no weight or bias")
        }
    }

    private func inputs(_ op: RawOp, _ n: Int) throws(ACNetError) {
        guard op.inputs.count == n else {
            throw .badFormat("op \(op.index) (\(op.code.name)) takes \(n) input(s), has \(op.inputs.count)")
        }
    }

    /// The slot to read `tensor` from in blocked layout, converting the model input once.
    private mutating func blockedSlot(_ tensor: Int) -> Int {
        let slot = slotOfTensor[tensor]
        if activations[slot].blocked || activations[slot].rank != 4 { return slot }
        if let s = blockedInputSlot { return s }
        var d = activations[slot]
        d.blocked = true
        let s = activations.count
        activations.append(d)
        steps.append(.toBlocked(input: slot, output: s))
        blockedInputSlot = s
        return s
    }

    private mutating func record(_ op: RawOp, macs: Int = 0, kernel: String) {
        var params = 0
        if let w = op.weight { params += tensors[w].dims[0] }
        if let b = op.bias { params += tensors[b].dims[0] }
        if let u = op.winogradWeight { params += tensors[u].dims[0] }
        layers.append(
            LayerInfo(
                op: op.code, inputShapes: op.inputs.map { desc($0).dims },
                outputShape: desc(op.output).dims, params: op.params, macs: macs,
                parameterCount: params, kernel: kernel))
    }

    // MARK: Ops

    private mutating func build(_ op: RawOp) throws(ACNetError) {
        let out = slotOfTensor[op.output]
        switch op.code {
        case .conv2d: try buildConv(op)
        case .maxPool, .avgPool: try buildPool(op)
        case .globalAvgPool:
            try inputs(op, 1)
            try noConstants(op)
            try reservedParams(op, from: 0)
            let x = desc(op.inputs[0])
            guard x.rank == 4 else { throw .badFormat("op \(op.index): global_avg_pool needs a rank-4 input") }
            try expectOutput(op, rank: 2, x.c)
            steps.append(.globalAvgPool(input: blockedSlot(op.inputs[0]), output: out))
            record(op, kernel: "global_avg_pool.c16")
        case .linear:
            try inputs(op, 1)
            let x = desc(op.inputs[0])
            guard x.rank == 2 else { throw .badFormat("op \(op.index): linear needs a rank-2 input (use flatten)") }
            let o = try param(op, 0, "output features", 1...ACNBFormat.maxDimension)
            let act = try activationParam(op, 1)
            try reservedParams(op, from: 2)
            try expectOutput(op, rank: 2, o)
            let blocks = ceilDiv(o, 16)
            let wCount = try Checked.mul(try Checked.mul(blocks, x.c, "linear weight size"), 16, "linear weight size")
            let w = try constant(op, op.weight, "weight", count: wCount, packing: .oc16)
            let b = try constant(op, op.bias, "bias", count: blocks * 16, packing: .plain)
            steps.append(
                .linear(
                    inFeatures: x.c, outFeatures: o, activation: act, input: slotOfTensor[op.inputs[0]],
                    output: out, weights: w, bias: b))
            record(op, macs: x.c * o, kernel: "linear.oc16")
        case .add:
            try inputs(op, 2)
            try noConstants(op)
            let act = try activationParam(op, 0)
            try reservedParams(op, from: 1)
            let a = desc(op.inputs[0])
            let b = desc(op.inputs[1])
            guard a.rank == b.rank, a.c == b.c, a.h == b.h, a.w == b.w else {
                throw .badFormat("op \(op.index): add of shapes \(a.dims) and \(b.dims)")
            }
            try expectOutput(op, rank: a.rank, a.c, a.h, a.w)
            steps.append(.add(activation: act, a: blockedSlot(op.inputs[0]), b: blockedSlot(op.inputs[1]), output: out))
            record(op, kernel: "add.simd")
        case .concat:
            try noConstants(op)
            try reservedParams(op, from: 0)
            guard op.inputs.count >= 2 else { throw .badFormat("op \(op.index): concat needs at least 2 inputs") }
            let first = desc(op.inputs[0])
            var c = 0
            var slots = [Int]()
            for t in op.inputs {
                let d = desc(t)
                guard d.rank == 4, d.h == first.h, d.w == first.w else {
                    throw .badFormat("op \(op.index): concat inputs must be rank 4 with equal H and W")
                }
                c += d.c
                slots.append(blockedSlot(t))
            }
            try expectOutput(op, rank: 4, c, first.h, first.w)
            steps.append(.concat(inputs: slots, output: out))
            record(op, kernel: "concat.channels")
        case .scaleShift:
            try inputs(op, 1)
            let x = desc(op.inputs[0])
            guard x.rank == 4 else { throw .unsupported("op \(op.index): scale_shift needs a rank-4 input") }
            let act = try activationParam(op, 0)
            try reservedParams(op, from: 1)
            try expectOutput(op, rank: 4, x.c, x.h, x.w)
            let n = ceilDiv(x.c, 16) * 16
            let s = try constant(op, op.weight, "scale", count: n, packing: .plain)
            let t = try constant(op, op.bias, "shift", count: n, packing: .plain)
            steps.append(
                .scaleShift(activation: act, input: blockedSlot(op.inputs[0]), output: out, scale: s, shift: t))
            record(op, kernel: "scale_shift.c16")
        case .flatten:
            try inputs(op, 1)
            try noConstants(op)
            try reservedParams(op, from: 0)
            let x = desc(op.inputs[0])
            try expectOutput(op, rank: 2, x.logicalElements)
            steps.append(.flatten(input: slotOfTensor[op.inputs[0]], output: out))
            record(op, kernel: x.blocked ? "flatten.unblock" : "flatten.copy")
        case .softmax:
            try inputs(op, 1)
            try noConstants(op)
            try reservedParams(op, from: 0)
            let x = desc(op.inputs[0])
            guard x.rank == 2 else { throw .unsupported("op \(op.index): softmax needs a rank-2 input") }
            try expectOutput(op, rank: 2, x.c)
            steps.append(.softmax(input: slotOfTensor[op.inputs[0]], output: out))
            record(op, kernel: "softmax.rows")
        case .activation:
            try inputs(op, 1)
            try noConstants(op)
            let act = try activationParam(op, 0)
            try reservedParams(op, from: 1)
            let x = desc(op.inputs[0])
            try expectOutput(op, rank: x.rank, x.c, x.h, x.w)
            steps.append(.activation(act, input: blockedSlot(op.inputs[0]), output: out))
            record(op, kernel: "activation.simd")
        }
    }

    private mutating func buildConv(_ op: RawOp) throws(ACNetError) {
        guard op.inputs.count == 1 || op.inputs.count == 2 else {
            throw .badFormat("op \(op.index): conv2d takes 1 input and an optional residual")
        }
        let x = desc(op.inputs[0])
        guard x.rank == 4 else { throw .badFormat("op \(op.index): conv2d needs a rank-4 input") }
        let P = ConvParam.self
        let (kh, kw, sh, sw, pt, pl, pb, pr) = try window(op, kernel: 1...64, stride: 1...64) { _ in 4096 }
        let dh = try param(op, P.dilationH, "dilation height", 1...64)
        let dw = try param(op, P.dilationW, "dilation width", 1...64)
        let groups = try param(op, P.groups, "groups", 1...ACNBFormat.maxDimension)
        let act = try activationParam(op, P.activation)
        let o = try param(op, P.outputChannels, "output channels", 1...ACNBFormat.maxDimension)
        try reservedParams(op, from: P.outputChannels + 1)
        guard x.c % groups == 0, o % groups == 0 else {
            throw .unsupported(
                "op \(op.index): groups \(groups) must divide input channels \(x.c) and output channels \(o)")
        }
        let numH = x.h + pt + pb - dh * (kh - 1) - 1
        let numW = x.w + pl + pr - dw * (kw - 1) - 1
        guard numH >= 0, numW >= 0 else {
            throw .badFormat("op \(op.index): the dilated kernel is larger than the padded input")
        }
        let g = ConvGeometry(
            inC: x.c, inH: x.h, inW: x.w, outC: o, outH: numH / sh + 1, outW: numW / sw + 1,
            kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl,
            dilationH: dh, dilationW: dw, groups: groups, activation: act)
        try expectOutput(op, rank: 4, o, g.outH, g.outW)
        var residual = -1
        if op.inputs.count == 2 {
            let r = desc(op.inputs[1])
            guard r.rank == 4, r.c == o, r.h == g.outH, r.w == g.outW else {
                throw .badFormat("op \(op.index): residual shape \(r.dims) differs from the output's")
            }
            residual = blockedSlot(op.inputs[1])
        }
        let depthwise = g.inPerGroup == 1 && g.outPerGroup == 1
        let taps = kh * kw
        guard let wt = op.weight else { throw .badFormat("op \(op.index): conv2d needs a weight tensor") }
        if depthwise && tensors[wt].packing == .depthwise16 {
            let count = try Checked.mul(ceilDiv(o, 16) * 16, taps, "depthwise weight size")
            let w = try constant(op, op.weight, "weight", count: count, packing: .depthwise16)
            let b = try constant(op, op.bias, "bias", count: ceilDiv(o, 16) * 16, packing: .plain)
            steps.append(
                .depthwise(
                    g, input: blockedSlot(op.inputs[0]), output: slotOfTensor[op.output],
                    residual: residual, weights: w, bias: b))
            record(op, macs: g.macs, kernel: "conv.depthwise16.direct")
            return
        }
        var offsets = [Int]()
        var total = 0
        for b in 0..<g.outBlocks {
            offsets.append(total)
            let blockSize = try Checked.mul(
                try Checked.mul(g.blockInputRange(b).count, taps, "conv weight size"),
                16, "conv weight size")
            total = try Checked.add(total, blockSize, "conv weight size")
        }
        guard total <= ACNBFormat.maxElements else { throw .badFormat("op \(op.index): conv weights too large") }
        let w = try constant(op, op.weight, "weight", count: total, packing: .oc16)
        let b = try constant(op, op.bias, "bias", count: g.outBlocks * 16, packing: .plain)
        guard op.winogradWeight != nil else {
            // Row-tiled layers (`RowTileKind`, AVX-512) read blocked input only, so a plain
            // model input of 16 or more channels is converted for them; narrower inputs (image
            // layers of 1–3 channels) are read in place by the tiles for plain input.
            let input = g.rowTileKind != nil && x.c >= 16 ? blockedSlot(op.inputs[0]) : slotOfTensor[op.inputs[0]]
            steps.append(
                .conv(
                    g, input: input, output: slotOfTensor[op.output], residual: residual,
                    weights: w, bias: b, blockOffsets: offsets))
            record(op, macs: g.macs, kernel: "conv.oc16.direct")
            return
        }
        guard Winograd.isApplicable(g) else {
            throw .unsupported(
                "op \(op.index): Winograd weights need a 3x3 or 5x5, stride-1, dilation-1, groups-1 conv2d")
        }
        let count = Winograd.weightElements(inC: g.inC, outC: o)
        guard count <= ACNBFormat.maxElements else { throw .badFormat("op \(op.index): Winograd weights too large") }
        let u = try constant(op, op.winogradWeight, "winograd weight", count: count, packing: .winograd(kernel: kh)!)
        // The Winograd kernel reads blocked input only; the direct fallback reads it too.
        steps.append(
            .conv(
                g, input: blockedSlot(op.inputs[0]), output: slotOfTensor[op.output], residual: residual,
                weights: w, bias: b, blockOffsets: offsets))
        winograd.append(
            WinogradAlternative(
                step: steps.count - 1, weights: u, chunkTiles: Winograd.chunkTiles(g),
                scratchElements: Winograd.scratchElements(g)))
        record(op, macs: g.macs, kernel: kh == 3 ? "conv.winograd43" : "conv.winograd25")
    }

    private mutating func buildPool(_ op: RawOp) throws(ACNetError) {
        try inputs(op, 1)
        try noConstants(op)
        let x = desc(op.inputs[0])
        guard x.rank == 4 else { throw .badFormat("op \(op.index): pooling needs a rank-4 input") }
        let P = PoolParam.self
        // PyTorch's rule: padding at most half the window, so no window lies in padding alone.
        let (kh, kw, sh, sw, pt, pl, pb, pr) = try window(op, kernel: 1...256, stride: 1...256) { $0 / 2 }
        let ceilMode = try param(op, P.ceilMode, "ceil mode", 0...1) == 1
        let cip = try param(op, P.countIncludePad, "count_include_pad", 0...1) == 1
        try reservedParams(op, from: P.countIncludePad + 1)
        guard let oh = Self.poolExtent(x.h, kh, sh, pt, pb, ceilMode),
            let ow = Self.poolExtent(x.w, kw, sw, pl, pr, ceilMode)
        else {
            throw .badFormat("op \(op.index): pooling window larger than the padded input")
        }
        try expectOutput(op, rank: 4, x.c, oh, ow)
        let g = PoolGeometry(
            c: x.c, inH: x.h, inW: x.w, outH: oh, outW: ow, kernelH: kh, kernelW: kw,
            strideH: sh, strideW: sw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
            countIncludePad: cip)
        let input = blockedSlot(op.inputs[0])
        if op.code == .maxPool {
            steps.append(.maxPool(g, input: input, output: slotOfTensor[op.output]))
            record(op, kernel: "max_pool.c16")
        } else {
            steps.append(.avgPool(g, input: input, output: slotOfTensor[op.output]))
            record(op, kernel: "avg_pool.c16")
        }
    }
    static func poolExtent(_ n: Int, _ k: Int, _ s: Int, _ padBegin: Int, _ padEnd: Int, _ ceil: Bool) -> Int? {
        ACNBFormat.poolOutputExtent(n, kernel: k, stride: s, padBegin: padBegin, padEnd: padEnd, ceilMode: ceil)
    }
}
