public import ACNetWriter
public import ACRuntime
import Foundation

/// What `ONNXImporter` needs besides the graph.
public struct ImportOptions: Sendable {
    /// C, H, W of the input when the graph leaves them symbolic (nil: take them from the graph).
    public var inputShape: [Int]?
    /// Preprocessing written into the model (docs/DESIGN.md §4). nil: channel order RGB for C = 3, gray
    /// for C = 1, otherwise none, with mean 0 and std 1 (the ONNX graph sees pixel/255).
    public var inputSpec: InputSpec?
    /// Class names (may be empty).
    public var labels: [String]
    /// Which 3×3 stride-1 convolutions also get Winograd weights.
    public var winograd: WinogradPolicy

    public init(
        inputShape: [Int]? = nil, inputSpec: InputSpec? = nil, labels: [String] = [],
        winograd: WinogradPolicy = .off
    ) {
        self.inputShape = inputShape
        self.inputSpec = inputSpec
        self.labels = labels
        self.winograd = winograd
    }
}

/// What the importer did, for the command's report.
public struct ImportSummary: Sendable {
    /// ONNX nodes read.
    public var nodes: Int
    /// Ops in the written model.
    public var ops: Int
    /// BatchNormalizations folded into a convolution (including identity branches).
    public var foldedBatchNorms: Int
    /// Parallel convolution branches merged into one convolution (ACB, RepVGG).
    public var mergedBranches: Int
    /// Stride-2 slice + channel zero-pad shortcuts lowered to 0/1 selection convolutions.
    public var loweredShortcuts: Int
    /// Spatial zero Pads absorbed into the padding of a following convolution (counted per
    /// consuming convolution).
    public var foldedPads: Int
    /// Spatial zero Pads written as 1×1 identity convolutions (a consumer is not a convolution).
    public var loweredPads: Int
    /// Nodes evaluated by constant folding (shape and index arithmetic, `ConstantFolding`).
    public var foldedConstants: Int
    /// Input C, H, W of the model.
    public var inputShape: [Int]
}

/// Imports an ONNX graph (float32 CNN classifiers, NCHW) into an `.acnb` model.
///
/// Every BatchNormalization that follows a convolution is folded into it; convolutions that
/// read the same tensor and are summed (ACB: K×K + K×1 + 1×K, RepVGG: 3×3 + 1×1 + identity BN)
/// are merged into one K×K convolution by embedding each kernel at its offset, which is exact
/// up to float rounding of the folded weights; residual additions become the convolution's
/// residual input; ReLU / Clip(0, 6) become the op's activation. A node that cannot be computed
/// exactly by the runtime's ops is refused with `ImportError` naming it.
///
/// Not thread-safe; use one importer per model.
public struct ONNXImporter {
    let graph: ONNXGraph
    let options: ImportOptions

    /// Parses and validates `path` (truncated files, cycles, missing initializers, external
    /// data and oversized tensors throw `ImportError`).
    public init(contentsOfFile path: String, options: ImportOptions) throws(ImportError) {
        graph = try ONNXGraph(contentsOfFile: path)
        self.options = options
    }

    /// Parses serialized ONNX bytes.
    public init(data: Data, options: ImportOptions) throws(ImportError) {
        graph = try ONNXGraph(data: data)
        self.options = options
    }

    /// The .acnb bytes of the imported model and a summary.
    public func importModel() throws(ImportError) -> (bytes: [UInt8], summary: ImportSummary) {
        var lowering = try Lowering(graph: graph, options: options)
        let out = try lowering.run()
        let bytes: [UInt8]
        do { bytes = try lowering.builder.serialize(output: out) } catch {
            throw ImportError("writing the model: \(error)")
        }
        // The runtime's validator is the final word on what it can run: a limit the lowering
        // does not check is a clear error here, never a file that fails to load later.
        do { _ = try Model(bytes: bytes) } catch {
            throw ImportError("the imported graph is outside what the runtime can run: \(error)")
        }
        let s = ImportSummary(
            nodes: graph.nodes.count, ops: lowering.opCount, foldedBatchNorms: lowering.foldedBatchNorms,
            mergedBranches: lowering.mergedBranches, loweredShortcuts: lowering.loweredShortcuts,
            foldedPads: lowering.foldedPads, loweredPads: lowering.loweredPads,
            foldedConstants: lowering.foldedConstants, inputShape: lowering.inputCHW)
        return (bytes, s)
    }
}

/// A convolution not yet written: OIHW weights and bias in Double (so folding and merging
/// round once), with optional residual. `scaleOnly` marks a per-channel scale/shift (an
/// identity BatchNorm branch), written as scale_shift if it is never merged.
struct PendingConv {
    var input: TensorRef
    var inC: Int
    var o: Int
    var groups: Int
    var kh: Int, kw: Int
    var sh: Int, sw: Int
    var dh: Int, dw: Int
    var pt: Int, pl: Int, pb: Int, pr: Int
    var weight: [Double]
    var bias: [Double]
    var residual: TensorRef? = nil
    var scaleOnly = false
    var isShortcut = false
    /// A spatial zero Pad (1×1 identity); counted as such if it is ever written.
    var isPad = false

    var cg: Int { inC / groups }
    var outH: Int { (input.shape[2] + pt + pb - dh * (kh - 1) - 1) / sh + 1 }
    var outW: Int { (input.shape[3] + pl + pr - dw * (kw - 1) - 1) / sw + 1 }
    var outShape: [Int] { [1, o, outH, outW] }

    /// Identity 1×1 convolution with per-channel weights `scale` (groups = `groups`).
    static func diagonal(_ x: TensorRef, scale: [Double], shift: [Double], groups: Int) -> PendingConv {
        let c = x.shape[1]
        let cg = c / groups
        var w = [Double](repeating: 0, count: c * cg)
        for ch in 0..<c { w[ch * cg + ch % cg] = scale[ch] }
        return PendingConv(
            input: x, inC: c, o: c, groups: groups, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1,
            pt: 0, pl: 0, pb: 0, pr: 0, weight: w, bias: shift, scaleOnly: true)
    }

    /// The same per-channel scale re-expressed with another group count (a diagonal conv).
    func regrouped(_ g: Int) -> PendingConv? {
        guard scaleOnly, kh == 1, kw == 1, o == inC, inC % g == 0 else { return nil }
        var scale = [Double](repeating: 0, count: o)
        for ch in 0..<o { scale[ch] = weight[ch * cg + ch % cg] }
        var r = PendingConv.diagonal(input, scale: scale, shift: bias, groups: g)
        r.pt = pt
        r.pl = pl
        r.pb = pb
        r.pr = pr
        return r
    }
}

/// A value of the ONNX graph during lowering.
enum Value {
    /// A tensor the builder has written. `gap` marks [1, C] from GlobalAveragePool, which ONNX
    /// sees as [N, C, 1, 1].
    case tensor(TensorRef, gap: Bool)
    case conv(PendingConv)
    /// a + b, not yet written (an activation may still be attached).
    case add(TensorRef, TensorRef)
    /// x·Wᵀ + b, not yet written.
    case linear(input: TensorRef, weight: [Float], bias: [Float]?, o: Int)
    /// x[:, :, ::sh, ::sw] from a Slice.
    case subsample(TensorRef, sh: Int, sw: Int)
    case constant(ONNXConstant)
}

struct Lowering {
    let graph: ONNXGraph
    var builder: ModelBuilder
    var values: [String: Value] = [:]
    var useCounts: [String: Int]
    var inputCHW: [Int]
    var opCount = 0
    var foldedBatchNorms = 0
    var mergedBranches = 0
    var loweredShortcuts = 0
    var foldedPads = 0
    var loweredPads = 0
    var foldedConstants = 0
    /// Outputs of spatial zero Pads: the unpadded tensor and [top, left, bottom, right]. A Conv
    /// reading one adds the pads to its own (exact: the padded taps read zeros either way),
    /// whether or not another consumer has written the padded tensor.
    var zeroPads: [String: (TensorRef, [Int])] = [:]

    init(graph: ONNXGraph, options: ImportOptions) throws(ImportError) {
        self.graph = graph
        useCounts = graph.useCounts
        var chw: [Int]
        let dims = graph.inputDims
        if let s = options.inputShape {
            guard s.count == 3, s.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
                throw ImportError("--input-shape must be C,H,W with each in 1...65536")
            }
            if !dims.isEmpty {
                guard dims.count == 4 else {
                    throw ImportError(
                        "input '\(graph.inputName)' has rank \(dims.count); only NCHW images (rank 4) are supported")
                }
                for (i, d) in dims.dropFirst().enumerated() where d != nil && d != s[i] {
                    throw ImportError(
                        "--input-shape \(s) disagrees with the graph's input dims \(dims.map { $0.map(String.init) ?? "?" })"
                    )
                }
            }
            chw = s
        } else {
            guard dims.count == 4 else {
                throw ImportError(
                    "input '\(graph.inputName)' has rank \(dims.count) (declared dims \(dims.map { $0.map(String.init) ?? "?" })); only NCHW images (rank 4) are supported, or pass --input-shape C,H,W"
                )
            }
            guard let c = dims[1], let h = dims[2], let w = dims[3], c <= 1 << 16, h <= 1 << 16, w <= 1 << 16 else {
                throw ImportError(
                    "input '\(graph.inputName)' has symbolic or out-of-range C/H/W \(dims.map { $0.map(String.init) ?? "?" }); pass --input-shape C,H,W"
                )
            }
            chw = [c, h, w]
        }
        if let n = dims.first, let n, n != 1 {
            _ = n  // a fixed batch > 1 is fine: the runtime runs any batch; ONNX Runtime gets that batch.
        }
        guard chw[0] * chw[1] * chw[2] <= ONNXGraph.maxElements else { throw ImportError("input \(chw) is too large") }
        inputCHW = chw
        let spec =
            options.inputSpec
            ?? InputSpec(
                channelOrder: chw[0] == 3 ? .rgb : chw[0] == 1 ? .gray : .none,
                mean: [Float](repeating: 0, count: chw[0]), std: [Float](repeating: 1, count: chw[0]))
        guard spec.mean.count == chw[0], spec.std.count == chw[0], spec.std.allSatisfy({ $0 > 0 }) else {
            throw ImportError("the input spec needs \(chw[0]) mean and \(chw[0]) positive std values")
        }
        builder = ModelBuilder(
            inputChannels: chw[0], height: chw[1], width: chw[2], inputSpec: spec, labels: options.labels)
        builder.winograd = options.winograd
        values[graph.inputName] = .tensor(builder.input, gap: false)
        for (k, c) in graph.constants { values[k] = .constant(c) }
    }

    mutating func run() throws(ImportError) -> TensorRef {
        for n in graph.nodes { try lower(n) }
        guard let v = values[graph.outputName] else {
            throw ImportError("graph output '\(graph.outputName)' was not computed")
        }
        switch v {
        case .tensor(let t, _) where t.index == builder.input.index:
            throw ImportError("the graph output is its input; nothing to compute")
        default: break
        }
        return try materialize(graph.outputName, for: nil)
    }

    // MARK: Value access

    func constant(_ name: String, _ n: ONNXNode) throws(ImportError) -> ONNXConstant {
        guard case .constant(let c)? = values[name] else {
            throw ImportError.node(n, "input '\(name)' must be a constant (initializer or Constant node)")
        }
        return c
    }

    func floats(_ name: String, _ n: ONNXNode, count: Int? = nil) throws(ImportError) -> [Float] {
        let c = try constant(name, n)
        guard let f = c.floats else { throw ImportError.node(n, "constant '\(name)' must be float32") }
        if let count, f.count != count {
            throw ImportError.node(n, "constant '\(name)' has \(f.count) values, expected \(count)")
        }
        for v in f where !v.isFinite { throw ImportError.node(n, "constant '\(name)' holds a non-finite value") }
        return f
    }

    func int64s(_ name: String, _ n: ONNXNode) throws(ImportError) -> [Int] {
        let c = try constant(name, n)
        guard let v = c.ints else { throw ImportError.node(n, "constant '\(name)' must be an integer tensor") }
        return v.map { Int(clamping: $0) }
    }

    /// Whether `name` may be absorbed by its consumer (read by exactly one node).
    func single(_ name: String) -> Bool { useCounts[name, default: 0] == 1 }

    /// Writes the value `name` if it is pending and returns its tensor. `act` is applied when
    /// the value can absorb it (the caller then must not apply it again).
    mutating func materialize(
        _ name: String, for n: ONNXNode?, activation act: Activation = .none
    ) throws(ImportError) -> TensorRef {
        guard let v = values[name] else {
            if let n { throw ImportError.node(n, "input '\(name)' is not available") }
            throw ImportError("value '\(name)' is not available")
        }
        let t = try write(v, activation: act, node: n)
        guard t.shape.reduce(1, *) <= ONNXGraph.maxElements else {
            let what = "activation \(t.shape) has more than \(ONNXGraph.maxElements) elements per image"
            if let n { throw ImportError.node(n, what) }
            throw ImportError(what)
        }
        values[name] = .tensor(t, gap: { if case .tensor(_, let g) = v { return g } else { return false } }())
        return t
    }

    mutating func write(_ v: Value, activation act: Activation, node n: ONNXNode?) throws(ImportError) -> TensorRef {
        do {
            switch v {
            case .tensor(let t, _):
                if act == .none { return t }
                opCount += 1
                return try builder.activation(t, act)
            case .conv(let p):
                opCount += 1
                if p.scaleOnly, p.residual == nil, p.kh == 1, p.kw == 1, p.pt == 0, p.pl == 0, p.pb == 0, p.pr == 0,
                    p.sh == 1, p.sw == 1
                {
                    var scale = [Float](repeating: 0, count: p.o)
                    var shift = [Float](repeating: 0, count: p.o)
                    for c in 0..<p.o {
                        scale[c] = Float(p.weight[c * p.cg + c % p.cg])
                        shift[c] = Float(p.bias[c])
                    }
                    return try builder.scaleShift(p.input, scale: scale, shift: shift, activation: act)
                }
                if p.isShortcut { loweredShortcuts += 1 }
                if p.isPad { loweredPads += 1 }
                return try builder.conv2d(
                    p.input, weight: p.weight.map { Float($0) }, bias: p.bias.map { Float($0) },
                    outputChannels: p.o, kernelSize: (p.kh, p.kw), stride: (p.sh, p.sw),
                    padding: Padding(top: p.pt, left: p.pl, bottom: p.pb, right: p.pr),
                    dilation: (p.dh, p.dw), groups: p.groups, activation: act, residual: p.residual)
            case .add(let a, let b):
                opCount += 1
                return try builder.add(a, b, activation: act)
            case .linear(let x, let w, let b, let o):
                opCount += 1
                return try builder.linear(x, weight: w, bias: b, outputFeatures: o, activation: act)
            case .subsample(let x, let sh, let sw):
                let c = x.shape[1]
                var p = PendingConv.diagonal(
                    x, scale: [Double](repeating: 1, count: c), shift: [Double](repeating: 0, count: c), groups: 1)
                p.scaleOnly = false
                p.sh = sh
                p.sw = sw
                p.isShortcut = true
                return try write(.conv(p), activation: act, node: n)
            case .constant:
                if let n { throw ImportError.node(n, "a constant cannot be used as an activation input") }
                throw ImportError("a constant is the graph output")
            }
        } catch let e as ImportError {
            throw e
        } catch {
            if let n { throw ImportError.node(n, "\(error)") }
            throw ImportError("\(error)")
        }
    }

    /// The ONNX-visible shape of a value (N = 1).
    func onnxShape(_ v: Value) -> [Int] {
        switch v {
        case .tensor(let t, let gap): gap ? t.shape + [1, 1] : t.shape
        case .conv(let p): p.outShape
        case .add(let a, _): a.shape
        case .linear(_, _, _, let o): [1, o]
        case .subsample(let x, let sh, let sw): [1, x.shape[1], (x.shape[2] + sh - 1) / sh, (x.shape[3] + sw - 1) / sw]
        case .constant(let c): c.dims
        }
    }

    // MARK: Nodes

    mutating func set(_ n: ONNXNode, _ v: Value) {
        if let o = n.outputs.first { values[o] = v }
    }

    mutating func lower(_ n: ONNXNode) throws(ImportError) {
        guard !n.inputs.isEmpty || n.opType == "Constant" else { throw ImportError.node(n, "node has no inputs") }
        guard n.outputs.first.map({ !$0.isEmpty }) == true else { throw ImportError.node(n, "node has no output") }
        if ConstantFolding.ops.contains(n.opType), let c = try fold(n) {
            foldedConstants += 1
            set(n, .constant(c))
            return
        }
        switch n.opType {
        case "Constant":
            set(n, .constant(try constantNode(n)))
        case "Identity":
            set(n, try input(n, 0))
        case "Dropout":
            if n.outputs.count > 1, !n.outputs[1].isEmpty, useCounts[n.outputs[1], default: 0] > 0 {
                throw ImportError.node(n, "the dropout mask output is used; only inference (no mask) is supported")
            }
            set(n, try input(n, 0))
        case "Conv": try lowerConv(n)
        case "BatchNormalization": try lowerBatchNorm(n)
        case "Relu": try lowerActivation(n, .relu)
        case "Clip": try lowerClip(n)
        case "Add", "Sum": try lowerAdd(n)
        case "MaxPool", "AveragePool": try lowerPool(n)
        case "GlobalAveragePool":
            let x = try materialize(n.inputs[0], for: n)
            guard x.shape.count == 4 else { throw ImportError.node(n, "input must be [N, C, H, W]") }
            opCount += 1
            do { set(n, .tensor(try builder.globalAvgPool(x), gap: true)) } catch {
                throw ImportError.node(n, "\(error)")
            }
        case "Flatten":
            let axis = try n.int("axis", default: 1)
            guard axis == 1 else {
                throw ImportError.node(n, "axis \(axis): only axis 1 (keep the batch dimension) is supported")
            }
            try lowerFlatten(n)
        case "Reshape": try lowerReshape(n)
        case "Gemm": try lowerGemm(n)
        case "MatMul": try lowerMatMul(n)
        case "Slice": try lowerSlice(n)
        case "Pad": try lowerPad(n)
        case "Concat":
            let axis = try n.int("axis", default: 1)
            guard axis == 1 || axis == -3 else {
                throw ImportError.node(n, "axis \(axis): only channel concatenation (axis 1) is supported")
            }
            guard n.inputs.count >= 2, n.inputs.count <= 4 else {
                throw ImportError.node(n, "2 to 4 inputs are supported, got \(n.inputs.count)")
            }
            var xs = [TensorRef]()
            for name in n.inputs { xs.append(try materialize(name, for: n)) }
            opCount += 1
            do { set(n, .tensor(try builder.concat(xs), gap: false)) } catch { throw ImportError.node(n, "\(error)") }
        case "Softmax":
            let axis = try n.int("axis", default: -1)
            let x = try materialize(n.inputs[0], for: n)
            guard x.shape.count == 2, axis == 1 || axis == -1 else {
                throw ImportError.node(
                    n, "only softmax over the features of [N, F] is supported (axis \(axis), input \(x.shape))")
            }
            opCount += 1
            do { set(n, .tensor(try builder.softmax(x), gap: false)) } catch { throw ImportError.node(n, "\(error)") }
        case let op where ConstantFolding.constantOnly.contains(op):
            let what =
                n.inputs.first(where: { name in
                    if name.isEmpty { return false }
                    if case .constant? = values[name] { return false }
                    return true
                }) ?? "?"
            throw ImportError.node(
                n,
                "\(op) is supported only as shape arithmetic on constants (folded at import); input '\(what)' is computed from the image"
            )
        default:
            throw ImportError.node(
                n,
                "operator not supported by the runtime (supported: Conv, BatchNormalization, Relu, Clip(0,6), Add, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Gemm, MatMul, Concat, Softmax, Slice+Pad shortcuts, Pad, Identity, Dropout, Constant, and shape arithmetic on constants)"
            )
        }
    }

    /// Evaluates `n` when its inputs are constant (`Shape`: when its input's shape is known),
    /// else nil. See `ConstantFolding` for the set and its semantics.
    func fold(_ n: ONNXNode) throws(ImportError) -> ONNXConstant? {
        if n.opType == "Shape" {
            return try ConstantFolding.shape(n, dims: onnxShape(try input(n, 0)))
        }
        var cs = [ONNXConstant?]()
        for name in n.inputs {
            if name.isEmpty {
                cs.append(nil)
                continue
            }
            guard case .constant(let c)? = values[name] else { return nil }
            cs.append(c)
        }
        return try ConstantFolding.evaluate(n, cs)
    }

    /// A Constant node's value: the `value` tensor, or value_float(s) / value_int(s).
    func constantNode(_ n: ONNXNode) throws(ImportError) -> ONNXConstant {
        if let a = n.attributes["value"], a.hasT {
            return try ONNXGraph.constant(a.t, what: "node '\(n.name)' (Constant)")
        }
        if let a = n.attributes["value_int"] { return ONNXConstant(dims: [], ints: [a.i]) }
        if let a = n.attributes["value_float"] { return ONNXConstant(dims: [], floats: [a.f]) }
        if let a = n.attributes["value_ints"] {
            guard a.ints.count <= ConstantFolding.maxElements else {
                throw ImportError.node(n, "value_ints is too long")
            }
            return ONNXConstant(dims: [a.ints.count], ints: a.ints)
        }
        if let a = n.attributes["value_floats"] {
            guard a.floats.count <= ConstantFolding.maxElements else {
                throw ImportError.node(n, "value_floats is too long")
            }
            return ONNXConstant(dims: [a.floats.count], floats: a.floats)
        }
        throw ImportError.node(n, "only Constant with a value, value_float(s) or value_int(s) attribute is supported")
    }

    func input(_ n: ONNXNode, _ i: Int) throws(ImportError) -> Value {
        guard i < n.inputs.count, let v = values[n.inputs[i]] else { throw ImportError.node(n, "missing input \(i)") }
        return v
    }

    mutating func lowerConv(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count >= 2 else { throw ImportError.node(n, "needs X and W") }
        // A zero Pad feeding the convolution becomes part of the convolution's own padding.
        let x: TensorRef
        var extra = [0, 0, 0, 0]
        if let (t, pads) = zeroPads[n.inputs[0]] {
            x = t
            extra = pads
            foldedPads += 1
        } else {
            x = try materialize(n.inputs[0], for: n)
        }
        guard x.shape.count == 4 else {
            throw ImportError.node(n, "input must be [N, C, H, W], got \(onnxShape(values[n.inputs[0]]!))")
        }
        let wc = try constant(n.inputs[1], n)
        guard wc.dims.count == 4 else {
            throw ImportError.node(n, "weight must be OIHW (2-D convolution), got dims \(wc.dims)")
        }
        let w = try floats(n.inputs[1], n)
        let (o, cg, kh, kw) = (wc.dims[0], wc.dims[1], wc.dims[2], wc.dims[3])
        let groups = try n.int("group", default: 1)
        let c = x.shape[1]
        guard o >= 1, cg >= 1, kh >= 1, kw >= 1, groups >= 1, cg * groups == c, o % groups == 0 else {
            throw ImportError.node(n, "weight \(wc.dims) with group \(groups) does not fit \(c) input channels")
        }
        if let ks = try n.ints("kernel_shape"), ks != [kh, kw] {
            throw ImportError.node(n, "kernel_shape \(ks) disagrees with the weight \(wc.dims)")
        }
        let strides = try n.ints("strides") ?? [1, 1]
        let dil = try n.ints("dilations") ?? [1, 1]
        guard strides.count == 2, dil.count == 2, strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 10 }),
            dil.allSatisfy({ $0 >= 1 && $0 <= 1 << 10 })
        else {
            throw ImportError.node(n, "strides \(strides) / dilations \(dil) must be two values ≥ 1")
        }
        guard kh <= 64, kw <= 64, strides.allSatisfy({ $0 <= 64 }), dil.allSatisfy({ $0 <= 64 }) else {
            throw ImportError.node(
                n,
                "kernel \(kh)x\(kw), strides \(strides), dilations \(dil): the runtime's convolution takes 1...64 for each"
            )
        }
        let own = try resolvePads(
            n, in: [x.shape[2] + extra[0] + extra[2], x.shape[3] + extra[1] + extra[3]],
            kernel: [(kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1], strides: strides)
        let pads = (0..<4).map { own[$0] + extra[$0] }
        var bias = [Double](repeating: 0, count: o)
        if n.inputs.count > 2, !n.inputs[2].isEmpty { bias = try floats(n.inputs[2], n, count: o).map(Double.init) }
        let p = PendingConv(
            input: x, inC: c, o: o, groups: groups, kh: kh, kw: kw, sh: strides[0], sw: strides[1],
            dh: dil[0], dw: dil[1], pt: pads[0], pl: pads[1], pb: pads[2], pr: pads[3],
            weight: w.map(Double.init), bias: bias)
        guard x.shape[2] + p.pt + p.pb >= p.dh * (kh - 1) + 1, x.shape[3] + p.pl + p.pr >= p.dw * (kw - 1) + 1 else {
            throw ImportError.node(n, "kernel larger than the padded input \(x.shape)")
        }
        set(n, .conv(p))
    }

    /// pads [top, left, bottom, right] from `pads` or `auto_pad` (SAME_UPPER/SAME_LOWER/VALID).
    func resolvePads(_ n: ONNXNode, in size: [Int], kernel: [Int], strides: [Int]) throws(ImportError) -> [Int] {
        let auto = try n.string("auto_pad", default: "NOTSET")
        switch auto {
        case "NOTSET":
            let p = try n.ints("pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 10 }) else {
                throw ImportError.node(n, "pads \(p) must be 4 non-negative values")
            }
            return [p[0], p[1], p[2], p[3]]
        case "VALID":
            return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var begin = [0, 0]
            var end = [0, 0]
            for a in 0..<2 {
                let out = (size[a] + strides[a] - 1) / strides[a]
                let total = max(0, (out - 1) * strides[a] + kernel[a] - size[a])
                let small = total / 2
                let large = total - small
                (begin[a], end[a]) = auto == "SAME_UPPER" ? (small, large) : (large, small)
            }
            return [begin[0], begin[1], end[0], end[1]]
        default:
            throw ImportError.node(n, "auto_pad '\(auto)' is not supported")
        }
    }

    mutating func lowerBatchNorm(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count == 5 else { throw ImportError.node(n, "needs X, scale, B, mean, var") }
        if n.outputs.count > 1, n.outputs.dropFirst().contains(where: { !$0.isEmpty && useCounts[$0, default: 0] > 0 })
        {
            throw ImportError.node(
                n, "training-mode outputs (running mean/var) are used; only inference mode is supported")
        }
        if try n.int("training_mode", default: 0) != 0 {
            throw ImportError.node(n, "training_mode = 1 is not supported")
        }
        let eps = Double(try n.float("epsilon", default: 1e-5))
        let shape = onnxShape(try input(n, 0))
        guard shape.count == 4 else { throw ImportError.node(n, "input must be [N, C, H, W], got \(shape)") }
        let c = shape[1]
        let gamma = try floats(n.inputs[1], n, count: c)
        let beta = try floats(n.inputs[2], n, count: c)
        let mean = try floats(n.inputs[3], n, count: c)
        let variance = try floats(n.inputs[4], n, count: c)
        var scale = [Double](repeating: 0, count: c)
        var shift = [Double](repeating: 0, count: c)
        for i in 0..<c {
            guard Double(variance[i]) + eps > 0 else {
                throw ImportError.node(n, "variance + epsilon ≤ 0 in channel \(i)")
            }
            scale[i] = Double(gamma[i]) / (Double(variance[i]) + eps).squareRoot()
            shift[i] = Double(beta[i]) - Double(mean[i]) * scale[i]
        }
        foldedBatchNorms += 1
        if case .conv(var p)? = values[n.inputs[0]], single(n.inputs[0]), p.residual == nil {
            // y = γ·(conv(x) + b − μ)/σ + β: scale each output channel's kernel and bias.
            let per = p.cg * p.kh * p.kw
            for oc in 0..<p.o {
                for k in 0..<per { p.weight[oc * per + k] *= scale[oc] }
                p.bias[oc] = p.bias[oc] * scale[oc] + shift[oc]
            }
            set(n, .conv(p))
            return
        }
        // BatchNorm on a tensor (RepVGG's identity branch, or pre-activation BN): a diagonal
        // 1×1 convolution that a following Add may merge, else a scale_shift.
        let x = try materialize(n.inputs[0], for: n)
        guard c <= 4096 else {
            // Too many channels for a diagonal convolution: a scale_shift right away.
            opCount += 1
            do {
                set(
                    n,
                    .tensor(
                        try builder.scaleShift(x, scale: scale.map { Float($0) }, shift: shift.map { Float($0) }),
                        gap: false))
            } catch { throw ImportError.node(n, "\(error)") }
            return
        }
        set(n, .conv(PendingConv.diagonal(x, scale: scale, shift: shift, groups: 1)))
    }

    mutating func lowerActivation(_ n: ONNXNode, _ act: Activation) throws(ImportError) {
        let name = n.inputs[0]
        let v = try input(n, 0)
        let absorbs: Bool
        switch v {
        case .conv, .add, .linear, .subsample: absorbs = true
        default: absorbs = false
        }
        if absorbs && single(name) {
            let t = try write(v, activation: act, node: n)
            values[name] = nil
            set(n, .tensor(t, gap: false))
        } else {
            let x = try materialize(name, for: n)
            opCount += 1
            do {
                set(n, .tensor(try builder.activation(x, act), gap: onnxShape(v).count == 4 && x.shape.count == 2))
            } catch {
                throw ImportError.node(n, "\(error)")
            }
        }
    }

    mutating func lowerClip(_ n: ONNXNode) throws(ImportError) {
        var lo: Float = -.infinity
        var hi: Float = .infinity
        if n.inputs.count > 1 {
            if !n.inputs[1].isEmpty { lo = try floats(n.inputs[1], n, count: 1)[0] }
            if n.inputs.count > 2, !n.inputs[2].isEmpty { hi = try floats(n.inputs[2], n, count: 1)[0] }
        } else {
            lo = try n.float("min", default: -.infinity)
            hi = try n.float("max", default: .infinity)
        }
        if lo == 0 && hi == 6 {
            try lowerActivation(n, .relu6)
        } else if lo == 0 && hi == .infinity {
            try lowerActivation(n, .relu)
        } else {
            throw ImportError.node(n, "Clip(\(lo), \(hi)): only Clip(0, 6) (ReLU6) and Clip(0, ∞) (ReLU) are supported")
        }
    }

    /// Merges two pending convolutions on the same input into one, embedding each kernel at
    /// its offset in a kernel covering both (exact: the extra taps have zero weight).
    func merge(_ a0: PendingConv, _ b0: PendingConv) -> PendingConv? {
        var a = a0
        var b = b0
        guard a.input.index == b.input.index, a.residual == nil, b.residual == nil, a.o == b.o,
            a.sh == b.sh, a.sw == b.sw, a.outShape == b.outShape
        else { return nil }
        if a.groups != b.groups {
            if let r = a.regrouped(b.groups) {
                a = r
            } else if let r = b.regrouped(a.groups) {
                b = r
            } else {
                return nil
            }
        }
        // Diagonal 1×1 branches take the other branch's dilation.
        if a.kh == 1 && a.kw == 1 {
            a.dh = b.dh
            a.dw = b.dw
        }
        if b.kh == 1 && b.kw == 1 {
            b.dh = a.dh
            b.dw = a.dw
        }
        guard a.dh == b.dh, a.dw == b.dw, a.groups == b.groups else { return nil }
        let top = max(a.pt, b.pt)
        let left = max(a.pl, b.pl)
        func offsets(_ p: PendingConv) -> (Int, Int)? {
            let ry = top - p.pt
            let rx = left - p.pl
            guard ry % p.dh == 0, rx % p.dw == 0 else { return nil }
            return (ry / p.dh, rx / p.dw)
        }
        guard let (ay, ax) = offsets(a), let (by, bx) = offsets(b) else { return nil }
        let kh = max(ay + a.kh, by + b.kh)
        let kw = max(ax + a.kw, bx + b.kw)
        guard a.o * a.cg * kh * kw <= ONNXGraph.maxElements else { return nil }
        let h = a.input.shape[2]
        let w = a.input.shape[3]
        let (oh, ow) = (a.outH, a.outW)
        let pb = max(0, (oh - 1) * a.sh + a.dh * (kh - 1) + 1 - h - top)
        let pr = max(0, (ow - 1) * a.sw + a.dw * (kw - 1) + 1 - w - left)
        var m = PendingConv(
            input: a.input, inC: a.inC, o: a.o, groups: a.groups, kh: kh, kw: kw, sh: a.sh, sw: a.sw,
            dh: a.dh, dw: a.dw, pt: top, pl: left, pb: pb, pr: pr,
            weight: [Double](repeating: 0, count: a.o * a.cg * kh * kw),
            bias: zip(a.bias, b.bias).map { $0 + $1 })
        guard m.outH == oh, m.outW == ow else { return nil }
        m.scaleOnly = a.scaleOnly && b.scaleOnly && kh == 1 && kw == 1
        for (p, oy, ox) in [(a, ay, ax), (b, by, bx)] {
            for oc in 0..<p.o {
                for ci in 0..<p.cg {
                    for y in 0..<p.kh {
                        for x in 0..<p.kw {
                            m.weight[((oc * m.cg + ci) * kh + y + oy) * kw + x + ox] +=
                                p.weight[((oc * p.cg + ci) * p.kh + y) * p.kw + x]
                        }
                    }
                }
            }
        }
        return m
    }

    mutating func lowerAdd(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count == 2 else {
            throw ImportError.node(n, "only two-input additions are supported (\(n.inputs.count) inputs)")
        }
        let (an, bn) = (n.inputs[0], n.inputs[1])
        let a = try input(n, 0)
        let b = try input(n, 1)
        // MatMul + Add(bias) → linear.
        for (lv, ln, cn) in [(a, an, bn), (b, bn, an)] {
            if case .linear(let x, let w, nil, let o) = lv, single(ln), case .constant(let c)? = values[cn] {
                guard c.count == o, c.dims.last == o, let f = c.floats else { break }
                set(n, .linear(input: x, weight: w, bias: f, o: o))
                return
            }
        }
        if case .constant = a {
            throw ImportError.node(n, "adding a constant to an activation is supported only as a MatMul bias")
        }
        if case .constant = b {
            throw ImportError.node(n, "adding a constant to an activation is supported only as a MatMul bias")
        }
        let sa = onnxShape(a)
        let sb = onnxShape(b)
        guard sa == sb else { throw ImportError.node(n, "broadcasting is not supported (shapes \(sa) and \(sb))") }
        // Parallel branches on the same input: one convolution.
        if case .conv(let p) = a, case .conv(let q) = b, single(an), single(bn), let m = merge(p, q) {
            mergedBranches += 1
            set(n, .conv(m))
            return
        }
        // A residual: the convolution adds the other tensor before its activation.
        for (cv, cn, other) in [(a, an, bn), (b, bn, an)] {
            if case .conv(var p) = cv, single(cn), p.residual == nil, !p.scaleOnly {
                p.residual = try materialize(other, for: n)
                set(n, .conv(p))
                return
            }
        }
        let x = try materialize(an, for: n)
        let y = try materialize(bn, for: n)
        guard x.shape == y.shape else { throw ImportError.node(n, "shapes \(x.shape) and \(y.shape) differ") }
        set(n, .add(x, y))
    }

    mutating func lowerPool(_ n: ONNXNode) throws(ImportError) {
        let x = try materialize(n.inputs[0], for: n)
        guard x.shape.count == 4 else { throw ImportError.node(n, "input must be [N, C, H, W]") }
        guard let k = try n.ints("kernel_shape"), k.count == 2, k.allSatisfy({ $0 >= 1 && $0 <= 1 << 10 }) else {
            throw ImportError.node(n, "kernel_shape must be two values ≥ 1")
        }
        let s = try n.ints("strides") ?? [1, 1]
        guard s.count == 2, s.allSatisfy({ $0 >= 1 && $0 <= 1 << 10 }) else {
            throw ImportError.node(n, "strides \(s) must be two values ≥ 1")
        }
        guard k.allSatisfy({ $0 <= 256 }), s.allSatisfy({ $0 <= 256 }) else {
            throw ImportError.node(n, "kernel_shape \(k), strides \(s): the runtime's pooling takes 1...256 for each")
        }
        if let d = try n.ints("dilations"), d.contains(where: { $0 != 1 }) {
            throw ImportError.node(n, "dilations \(d) are not supported")
        }
        if try n.int("storage_order", default: 0) != 0 { throw ImportError.node(n, "storage_order 1 is not supported") }
        if n.outputs.count > 1, !n.outputs[1].isEmpty, useCounts[n.outputs[1], default: 0] > 0 {
            throw ImportError.node(n, "the Indices output is not supported")
        }
        let ceil = try n.int("ceil_mode", default: 0) != 0
        let auto = try n.string("auto_pad", default: "NOTSET")
        if auto != "NOTSET" && ceil { throw ImportError.node(n, "auto_pad with ceil_mode is not supported") }
        let p = try resolvePads(n, in: [x.shape[2], x.shape[3]], kernel: k, strides: s)
        let pad = Padding(top: p[0], left: p[1], bottom: p[2], right: p[3])
        guard 2 * max(p[0], p[2]) <= k[0], 2 * max(p[1], p[3]) <= k[1] else {
            throw ImportError.node(n, "pads \(p) larger than half the kernel \(k) are not supported")
        }
        let max = n.opType == "MaxPool"
        let cip = try n.int("count_include_pad", default: 0) != 0
        // ONNX computes the ceil-mode extent like PyTorch (a window starting in the end padding
        // is dropped), which is what the runtime does.
        opCount += 1
        do {
            let y =
                max
                ? try builder.maxPool(x, kernelSize: (k[0], k[1]), stride: (s[0], s[1]), padding: pad, ceilMode: ceil)
                : try builder.avgPool(
                    x, kernelSize: (k[0], k[1]), stride: (s[0], s[1]), padding: pad, ceilMode: ceil,
                    countIncludePad: cip)
            set(n, .tensor(y, gap: false))
        } catch { throw ImportError.node(n, "\(error)") }
    }

    mutating func lowerFlatten(_ n: ONNXNode) throws(ImportError) {
        let v = try input(n, 0)
        if case .tensor(let t, _) = v, t.shape.count == 2 {
            set(n, .tensor(t, gap: false))
            return
        }
        if case .linear = v {
            set(n, v)
            return
        }
        let x = try materialize(n.inputs[0], for: n)
        if x.shape.count == 2 {
            set(n, .tensor(x, gap: false))
            return
        }
        opCount += 1
        do { set(n, .tensor(try builder.flatten(x), gap: false)) } catch { throw ImportError.node(n, "\(error)") }
    }

    mutating func lowerReshape(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count == 2 else { throw ImportError.node(n, "needs data and shape inputs") }
        let target = try int64s(n.inputs[1], n)
        let s = onnxShape(try input(n, 0))
        let features = s.dropFirst().reduce(1, *)
        // Accept exactly the reshapes to [N, C·H·W]: [N or 0 or -1, F or -1].
        guard target.count == 2, [0, 1, -1].contains(target[0]) || target[0] == 1,
            target[1] == -1 || target[1] == features, !(target[0] == -1 && target[1] == -1)
        else {
            throw ImportError.node(
                n, "only reshapes to [N, C·H·W] (flatten) are supported; target \(target) for input \(s)")
        }
        if target[0] == -1 && target[1] != features {
            throw ImportError.node(n, "target \(target) would change the batch size")
        }
        try lowerFlatten(n)
    }

    mutating func lowerGemm(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count >= 2 else { throw ImportError.node(n, "needs A and B") }
        if try n.int("transA", default: 0) != 0 {
            throw ImportError.node(n, "transA = 1 is not supported (A is the activation [N, F])")
        }
        let transB = try n.int("transB", default: 0) != 0
        let alpha = try n.float("alpha", default: 1)
        let beta = try n.float("beta", default: 1)
        // Scaling by a power of two is exact (barring overflow/underflow); other factors would
        // round differently from ONNX Runtime's alpha·(A·B) + beta·C.
        func exactScale(_ v: Float) -> Bool { v != 0 && v.isFinite && v.significandBitPattern == 0 }
        guard exactScale(alpha) else {
            throw ImportError.node(n, "alpha \(alpha) is not a power of two; scaling would not be exact")
        }
        let x = try materialize(n.inputs[0], for: n)
        guard x.shape.count == 2 else { throw ImportError.node(n, "A must be [N, F] (flatten first), got \(x.shape)") }
        let f = x.shape[1]
        let bc = try constant(n.inputs[1], n)
        guard bc.dims.count == 2 else { throw ImportError.node(n, "B must be a 2-D constant, got dims \(bc.dims)") }
        let b = try floats(n.inputs[1], n)
        let (rows, cols) = (bc.dims[0], bc.dims[1])
        let o = transB ? rows : cols
        guard (transB ? cols : rows) == f, o >= 1 else {
            throw ImportError.node(n, "B \(bc.dims) (transB \(transB ? 1 : 0)) does not fit A [N, \(f)]")
        }
        var w = [Float](repeating: 0, count: o * f)
        for j in 0..<o { for i in 0..<f { w[j * f + i] = (transB ? b[j * f + i] : b[i * o + j]) * alpha } }
        var bias: [Float]? = nil
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard exactScale(beta) else {
                throw ImportError.node(n, "beta \(beta) is not a power of two; scaling would not be exact")
            }
            let c = try constant(n.inputs[2], n)
            let cv = try floats(n.inputs[2], n)
            guard cv.count == o, c.dims.last == o else {
                throw ImportError.node(n, "C \(c.dims) must have \(o) values (per output feature)")
            }
            bias = cv.map { $0 * beta }
        }
        set(n, .linear(input: x, weight: w, bias: bias, o: o))
    }

    mutating func lowerMatMul(_ n: ONNXNode) throws(ImportError) {
        guard n.inputs.count == 2 else { throw ImportError.node(n, "needs two inputs") }
        let x = try materialize(n.inputs[0], for: n)
        guard x.shape.count == 2 else { throw ImportError.node(n, "A must be [N, F] (flatten first), got \(x.shape)") }
        let bc = try constant(n.inputs[1], n)
        guard bc.dims.count == 2, bc.dims[0] == x.shape[1], bc.dims[1] >= 1 else {
            throw ImportError.node(n, "B must be a constant [\(x.shape[1]), O], got dims \(bc.dims)")
        }
        let b = try floats(n.inputs[1], n)
        let (f, o) = (bc.dims[0], bc.dims[1])
        var w = [Float](repeating: 0, count: o * f)
        for j in 0..<o { for i in 0..<f { w[j * f + i] = b[i * o + j] } }
        set(n, .linear(input: x, weight: w, bias: nil, o: o))
    }

    /// Slice of H/W with start 0, end ≥ the extent and a positive step (option-A shortcuts'
    /// x[:, :, ::2, ::2]); channels and batch must be whole.
    mutating func lowerSlice(_ n: ONNXNode) throws(ImportError) {
        let shape = onnxShape(try input(n, 0))
        guard shape.count == 4 else { throw ImportError.node(n, "only slicing NCHW tensors is supported") }
        var starts: [Int]
        var ends: [Int]
        var axes: [Int]?
        var steps: [Int]?
        if n.inputs.count >= 3 {
            starts = try int64s(n.inputs[1], n)
            ends = try int64s(n.inputs[2], n)
            axes = n.inputs.count > 3 && !n.inputs[3].isEmpty ? try int64s(n.inputs[3], n) : nil
            steps = n.inputs.count > 4 && !n.inputs[4].isEmpty ? try int64s(n.inputs[4], n) : nil
        } else {
            starts = try n.ints("starts") ?? []
            ends = try n.ints("ends") ?? []
            axes = try n.ints("axes")
            steps = nil
        }
        let ax = axes ?? Array(0..<starts.count)
        let st = steps ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, ax.count == starts.count, st.count == starts.count else {
            throw ImportError.node(n, "starts, ends, axes and steps differ in length")
        }
        var step = [1, 1, 1, 1]
        for i in 0..<ax.count {
            let a = ax[i] < 0 ? ax[i] + 4 : ax[i]
            guard a >= 0, a < 4 else { throw ImportError.node(n, "axis \(ax[i]) out of range") }
            guard starts[i] == 0, ends[i] >= shape[a], st[i] >= 1 else {
                throw ImportError.node(
                    n,
                    "only slices from 0 to the end with a positive step are supported (axis \(a): start \(starts[i]), end \(ends[i]), step \(st[i]))"
                )
            }
            guard a >= 2 || st[i] == 1 else {
                throw ImportError.node(n, "strided slices of the batch or channel axis are not supported")
            }
            step[a] = st[i]
        }
        // x[..., ::a, ::b][..., ::c, ::d] = x[..., ::a·c, ::b·d] (PyTorch exports one Slice per axis).
        if case .subsample(let t, let a, let b)? = values[n.inputs[0]], single(n.inputs[0]) {
            // A step ≥ the extent keeps only the first row/column, as does a step equal to it.
            set(n, .subsample(t, sh: min(a * step[2], t.shape[2]), sw: min(b * step[3], t.shape[3])))
            return
        }
        let x = try materialize(n.inputs[0], for: n)
        if step[2] == 1 && step[3] == 1 {
            set(n, .tensor(x, gap: false))
            return
        }
        set(n, .subsample(x, sh: min(step[2], x.shape[2]), sw: min(step[3], x.shape[3])))
    }

    /// Constant zero padding of the channel axis (option-A shortcuts), and of H/W when not
    /// after a subsample: a 1×1 convolution with a 0/1 selection matrix (exact in float).
    /// Spatial-only padding stays pending, and every Conv that reads it adds the pads to its own
    /// (per side, so TF-SAME's asymmetric pads fold too); it is written as an identity
    /// convolution only if another consumer needs the padded tensor.
    mutating func lowerPad(_ n: ONNXNode) throws(ImportError) {
        let mode = try n.string("mode", default: "constant")
        guard mode == "constant" else {
            throw ImportError.node(n, "mode '\(mode)': only constant (zero) padding is supported")
        }
        var pads: [Int]
        var value: Float = 0
        if n.inputs.count >= 2 {
            pads = try int64s(n.inputs[1], n)
            if n.inputs.count > 2, !n.inputs[2].isEmpty { value = try floats(n.inputs[2], n, count: 1)[0] }
            if n.inputs.count > 3, !n.inputs[3].isEmpty { throw ImportError.node(n, "the axes input is not supported") }
        } else {
            pads = try n.ints("pads") ?? []
            value = try n.float("value", default: 0)
        }
        guard value == 0 else { throw ImportError.node(n, "padding value \(value): only zero padding is supported") }
        guard pads.count == 8, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
            throw ImportError.node(n, "pads \(pads): only 8 non-negative values for NCHW are supported")
        }
        guard pads[0] == 0, pads[4] == 0 else { throw ImportError.node(n, "padding the batch axis is not supported") }
        var (x, sh, sw): (TensorRef, Int, Int)
        if case .subsample(let t, let a, let b) = try input(n, 0), single(n.inputs[0]) {
            (x, sh, sw) = (t, a, b)
        } else {
            x = try materialize(n.inputs[0], for: n)
            (sh, sw) = (1, 1)
        }
        guard x.shape.count == 4 else { throw ImportError.node(n, "input must be [N, C, H, W]") }
        if sh > 1 || sw > 1, pads[2] != 0 || pads[3] != 0 || pads[6] != 0 || pads[7] != 0 {
            throw ImportError.node(n, "spatial padding after a strided slice is not supported")
        }
        let c = x.shape[1]
        let before = pads[1]
        let o = c + pads[1] + pads[5]
        guard o <= 1 << 16, o * c <= 1 << 24 else {
            throw ImportError.node(n, "\(o) × \(c) selection weights are too many")
        }
        var w = [Double](repeating: 0, count: o * c)
        for ch in 0..<c { w[(ch + before) * c + ch] = 1 }
        var p = PendingConv(
            input: x, inC: c, o: o, groups: 1, kh: 1, kw: 1, sh: sh, sw: sw, dh: 1, dw: 1,
            pt: pads[2], pl: pads[3], pb: pads[6], pr: pads[7], weight: w,
            bias: [Double](repeating: 0, count: o))
        // Spatial padding alone stays pending: a Conv reading it absorbs it (lowerConv).
        p.isPad = o == c && sh == 1 && sw == 1
        p.isShortcut = !p.isPad
        if p.isPad, let out = n.outputs.first { zeroPads[out] = (x, [pads[2], pads[3], pads[6], pads[7]]) }
        set(n, .conv(p))
    }
}
