public import ACRuntime
import Foundation

/// Error from building a model: a shape mismatch or an invalid parameter, with a message
/// naming the op.
public struct WriterError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An activation tensor of a model under construction. `shape` is per image with N = 1:
/// [1, C, H, W] or [1, F].
public struct TensorRef: Sendable, Equatable {
    public let index: Int
    public let shape: [Int]
}

/// Symmetric or per-side zero padding in pixels.
public struct Padding: Sendable, Equatable {
    public var top: Int, left: Int, bottom: Int, right: Int
    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }
    public static func symmetric(_ p: Int) -> Padding { Padding(top: p, left: p, bottom: p, right: p) }
    public static func symmetric(_ ph: Int, _ pw: Int) -> Padding { Padding(top: ph, left: pw, bottom: ph, right: pw) }
    public static let zero = Padding(top: 0, left: 0, bottom: 0, right: 0)
}

/// Builds an .acnb model from plain float32 tensors (NCHW activations, OIHW convolution
/// weights, [out][in] Linear weights), packing weights into the kernels' layouts, and
/// serialises it (docs/FORMAT.md).
///
/// Ops are recorded in call order, which is the execution order. Shapes are inferred and
/// checked at each call, so a model that serialises also loads.
///
/// Not thread-safe; a value type.
public struct ModelBuilder {
    struct Tensor {
        var kind: TensorKind
        var dims: [Int]
        var data: [Float]
        var packing: WeightPacking
    }

    struct Op {
        var code: OpCode
        var inputs: [Int]
        var output: Int
        var weight: Int?
        var bias: Int?
        var winogradWeight: Int? = nil
        var params: [Int32]
    }

    var tensors: [Tensor] = []
    var ops: [Op] = []
    let inputSpec: InputSpec
    let labels: [String]

    /// The model input, [1, C, H, W].
    public let input: TensorRef
    /// Which 3×3 stride-1 convolutions also get Winograd F(4×4, 3×3) weights (applies to
    /// `conv2d` calls made after setting it). Default `.off`.
    public var winograd: WinogradPolicy = .off

    /// - Parameters:
    ///   - inputChannels, height, width: the input image tensor C × H × W.
    ///   - inputSpec: preprocessing (docs/DESIGN.md §4); `mean`/`std` have C entries.
    ///   - labels: class names (may be empty).
    public init(inputChannels: Int, height: Int, width: Int, inputSpec: InputSpec, labels: [String] = []) {
        precondition(inputChannels >= 1 && height >= 1 && width >= 1, "ModelBuilder: empty input")
        precondition(
            inputSpec.mean.count == inputChannels && inputSpec.std.count == inputChannels,
            "ModelBuilder: input spec needs \(inputChannels) mean and std entries")
        self.inputSpec = inputSpec
        self.labels = labels
        tensors.append(Tensor(kind: .activation, dims: [1, inputChannels, height, width], data: [], packing: .plain))
        input = TensorRef(index: 0, shape: [1, inputChannels, height, width])
    }

    /// Shape of a tensor, [1, C, H, W] or [1, F].
    public func shape(of t: TensorRef) -> [Int] { tensors[t.index].dims }

    private mutating func activation(_ dims: [Int]) -> TensorRef {
        tensors.append(Tensor(kind: .activation, dims: dims, data: [], packing: .plain))
        return TensorRef(index: tensors.count - 1, shape: dims)
    }

    private mutating func constant(_ data: [Float], _ packing: WeightPacking) -> Int {
        tensors.append(Tensor(kind: .constant, dims: [data.count], data: data, packing: packing))
        return tensors.count - 1
    }

    private mutating func emit(
        _ code: OpCode, _ inputs: [TensorRef], _ outDims: [Int], weight: Int? = nil,
        bias: Int? = nil, params: [Int] = []
    ) -> TensorRef {
        let out = activation(outDims)
        var p = params.map { Int32($0) }
        p += [Int32](repeating: 0, count: ACNBFormat.paramCount - p.count)
        ops.append(
            Op(code: code, inputs: inputs.map(\.index), output: out.index, weight: weight, bias: bias, params: p))
        return out
    }

    private func rank4(_ x: TensorRef, _ op: String) throws(WriterError) -> (c: Int, h: Int, w: Int) {
        let d = shape(of: x)
        guard d.count == 4 else { throw WriterError("\(op): input must be [1, C, H, W], got \(d)") }
        return (d[1], d[2], d[3])
    }

    // MARK: Ops

    /// 2-D convolution with fused bias, optional residual add and activation:
    /// y = act(conv(x, W) + b + residual).
    /// - Parameters:
    ///   - weight: OIHW, O × C/groups × KH × KW.
    ///   - bias: O values, or nil for zeros.
    ///   - residual: a tensor of the output's shape added before the activation.
    public mutating func conv2d(
        _ x: TensorRef, weight: [Float], bias: [Float]?, outputChannels o: Int,
        kernelSize: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding = .zero,
        dilation: (Int, Int) = (1, 1), groups: Int = 1, activation: Activation = .none,
        residual: TensorRef? = nil
    ) throws(WriterError) -> TensorRef {
        let (c, h, w) = try rank4(x, "conv2d")
        let (kh, kw) = kernelSize
        let (sh, sw) = stride
        let (dh, dw) = dilation
        guard o >= 1, kh >= 1, kw >= 1, sh >= 1, sw >= 1, dh >= 1, dw >= 1, groups >= 1,
            padding.top >= 0, padding.left >= 0, padding.bottom >= 0, padding.right >= 0
        else { throw WriterError("conv2d: invalid parameters") }
        guard c % groups == 0, o % groups == 0 else {
            throw WriterError("conv2d: groups \(groups) must divide input channels \(c) and output channels \(o)")
        }
        let cg = c / groups
        guard weight.count == o * cg * kh * kw else {
            throw WriterError(
                "conv2d: weight has \(weight.count) elements, OIHW \(o)×\(cg)×\(kh)×\(kw) needs \(o * cg * kh * kw)")
        }
        if let bias, bias.count != o { throw WriterError("conv2d: bias has \(bias.count) elements, expected \(o)") }
        let numH = h + padding.top + padding.bottom - dh * (kh - 1) - 1
        let numW = w + padding.left + padding.right - dw * (kw - 1) - 1
        guard numH >= 0, numW >= 0 else { throw WriterError("conv2d: kernel larger than the padded input \(h)×\(w)") }
        let outDims = [1, o, numH / sh + 1, numW / sw + 1]
        if let residual, shape(of: residual) != outDims {
            throw WriterError("conv2d: residual shape \(shape(of: residual)) differs from the output \(outDims)")
        }
        let depthwise = cg == 1 && o == c
        let packed =
            depthwise
            ? Packing.depthwise16(weight, channels: c, kernelH: kh, kernelW: kw)
            : Packing.convOC16(weight, outputChannels: o, inputChannels: c, kernelH: kh, kernelW: kw, groups: groups)
        let wi = constant(packed, depthwise ? .depthwise16 : .oc16)
        let bi = constant(Packing.padded16(bias ?? [Float](repeating: 0, count: o)), .plain)
        let params = [
            kh, kw, sh, sw, padding.top, padding.left, padding.bottom, padding.right, dh, dw, groups,
            Int(activation.rawValue), o,
        ]
        let out = emit(.conv2d, residual.map { [x, $0] } ?? [x], outDims, weight: wi, bias: bi, params: params)
        let g = ConvGeometry(
            inC: c, inH: h, inW: w, outC: o, outH: outDims[2], outW: outDims[3], kernelH: kh,
            kernelW: kw, strideH: sh, strideW: sw, padTop: padding.top, padLeft: padding.left,
            dilationH: dh, dilationW: dw, groups: groups, activation: activation)
        if winograd.selects(g) {
            ops[ops.count - 1].winogradWeight = constant(
                Packing.winograd(weight, outputChannels: o, inputChannels: c, kernel: kh), .winograd(kernel: kh)!)
        }
        return out
    }

    private mutating func pool(
        _ code: OpCode, _ x: TensorRef, _ k: (Int, Int), _ s: (Int, Int), _ p: Padding,
        _ ceilMode: Bool, _ cip: Bool
    ) throws(WriterError) -> TensorRef {
        let (c, h, w) = try rank4(x, code.name)
        guard k.0 >= 1, k.1 >= 1, s.0 >= 1, s.1 >= 1, p.top >= 0, p.left >= 0, p.bottom >= 0, p.right >= 0,
            2 * max(p.top, p.bottom) <= k.0, 2 * max(p.left, p.right) <= k.1
        else { throw WriterError("\(code.name): invalid kernel/stride/padding (padding must be ≤ kernel/2)") }
        guard let oh = poolExtent(h, k.0, s.0, p.top, p.bottom, ceilMode),
            let ow = poolExtent(w, k.1, s.1, p.left, p.right, ceilMode)
        else { throw WriterError("\(code.name): window larger than the padded input") }
        return emit(
            code, [x], [1, c, oh, ow],
            params: [k.0, k.1, s.0, s.1, p.top, p.left, p.bottom, p.right, ceilMode ? 1 : 0, cip ? 1 : 0])
    }

    /// Max pooling (PyTorch semantics; padding counts as −∞).
    public mutating func maxPool(
        _ x: TensorRef, kernelSize: (Int, Int), stride: (Int, Int), padding: Padding = .zero,
        ceilMode: Bool = false
    ) throws(WriterError) -> TensorRef {
        try pool(.maxPool, x, kernelSize, stride, padding, ceilMode, true)
    }

    /// Average pooling (PyTorch semantics).
    public mutating func avgPool(
        _ x: TensorRef, kernelSize: (Int, Int), stride: (Int, Int), padding: Padding = .zero,
        ceilMode: Bool = false, countIncludePad: Bool = true
    ) throws(WriterError) -> TensorRef {
        try pool(.avgPool, x, kernelSize, stride, padding, ceilMode, countIncludePad)
    }

    /// Mean over H and W: [1, C, H, W] → [1, C].
    public mutating func globalAvgPool(_ x: TensorRef) throws(WriterError) -> TensorRef {
        let (c, _, _) = try rank4(x, "global_avg_pool")
        return emit(.globalAvgPool, [x], [1, c])
    }

    /// [1, C, H, W] → [1, C·H·W] in NCHW order (identity on [1, F]).
    public mutating func flatten(_ x: TensorRef) throws(WriterError) -> TensorRef {
        let d = shape(of: x)
        return emit(.flatten, [x], [1, d.dropFirst().reduce(1, *)])
    }

    /// y = act(x·Wᵀ + b); x: [1, F], weight: [O][F] row-major, bias: O values or nil.
    public mutating func linear(
        _ x: TensorRef, weight: [Float], bias: [Float]?, outputFeatures o: Int,
        activation: Activation = .none
    ) throws(WriterError) -> TensorRef {
        let d = shape(of: x)
        guard d.count == 2 else { throw WriterError("linear: input must be [1, F] (flatten first), got \(d)") }
        guard o >= 1, weight.count == o * d[1] else {
            throw WriterError("linear: weight has \(weight.count) elements, expected \(o)×\(d[1])")
        }
        if let bias, bias.count != o { throw WriterError("linear: bias has \(bias.count) elements, expected \(o)") }
        let wi = constant(Packing.linearOC16(weight, outputFeatures: o, inputFeatures: d[1]), .oc16)
        let bi = constant(Packing.padded16(bias ?? [Float](repeating: 0, count: o)), .plain)
        return emit(.linear, [x], [1, o], weight: wi, bias: bi, params: [o, Int(activation.rawValue)])
    }

    /// y = act(a + b) for tensors of equal shape.
    public mutating func add(
        _ a: TensorRef, _ b: TensorRef, activation: Activation = .none
    ) throws(WriterError) -> TensorRef {
        guard shape(of: a) == shape(of: b) else {
            throw WriterError("add: shapes \(shape(of: a)) and \(shape(of: b)) differ")
        }
        return emit(.add, [a, b], shape(of: a), params: [Int(activation.rawValue)])
    }

    /// y = act(x).
    public mutating func activation(_ x: TensorRef, _ act: Activation) throws(WriterError) -> TensorRef {
        emit(.activation, [x], shape(of: x), params: [Int(act.rawValue)])
    }

    /// Per-channel y = act(x·scale[c] + shift[c]) (e.g. a pre-activation BatchNorm in eval
    /// mode: scale = γ/√(running_var + eps), shift = β − running_mean·scale).
    public mutating func scaleShift(
        _ x: TensorRef, scale: [Float], shift: [Float], activation: Activation = .none
    )
        throws(WriterError) -> TensorRef
    {
        let (c, _, _) = try rank4(x, "scale_shift")
        guard scale.count == c, shift.count == c else {
            throw WriterError("scale_shift: needs \(c) scale and shift values")
        }
        let s = constant(Packing.padded16(scale), .plain)
        let t = constant(Packing.padded16(shift), .plain)
        return emit(.scaleShift, [x], shape(of: x), weight: s, bias: t, params: [Int(activation.rawValue)])
    }

    /// Concatenation along channels of 2…4 tensors with equal H and W.
    public mutating func concat(_ xs: [TensorRef]) throws(WriterError) -> TensorRef {
        guard xs.count >= 2, xs.count <= ACNBFormat.maxOpInputs else { throw WriterError("concat: 2...4 inputs") }
        var c = 0
        let (_, h, w) = try rank4(xs[0], "concat")
        for x in xs {
            let d = try rank4(x, "concat")
            guard d.h == h, d.w == w else { throw WriterError("concat: spatial sizes differ") }
            c += d.c
        }
        return emit(.concat, xs, [1, c, h, w])
    }

    /// Row-wise softmax of [1, F].
    public mutating func softmax(_ x: TensorRef) throws(WriterError) -> TensorRef {
        guard shape(of: x).count == 2 else { throw WriterError("softmax: input must be [1, F]") }
        return emit(.softmax, [x], shape(of: x))
    }

    private func poolExtent(_ n: Int, _ k: Int, _ s: Int, _ pb: Int, _ pe: Int, _ ceil: Bool) -> Int? {
        ACNBFormat.poolOutputExtent(n, kernel: k, stride: s, padBegin: pb, padEnd: pe, ceilMode: ceil)
    }

    // MARK: Output

    /// Writes the model atomically (a temporary file in the same folder, then rename).
    public func write(toFile path: String, output: TensorRef) throws {
        let bytes = try serialize(output: output)
        let url = URL(fileURLWithPath: path)
        try Data(bytes).write(to: url, options: .atomic)
    }
}
