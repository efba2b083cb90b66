import ACNetWriter
import ACRuntime

/// Writes a trained network as an .acnb file (docs/DESIGN.md §3, §4, §7): lowers it to a `FusedGraph`
/// (ACBs fused, BatchNorms folded) and emits that through ACNetWriter's `ModelBuilder`.
///
/// Refuses (throws `FusionError`) a BatchNorm without running statistics and any layer with a
/// padding mode other than zeros. Verification against the runtime is the caller's
/// (see `Exporter.maxLogitDifference`).
public enum Exporter {
    /// The .acnb bytes of `model` for per-image input `inputShape` `[C, H, W]`.
    public static func serialize(
        _ model: any Module, inputShape: [Int], inputSpec: InputSpec, labels: [String],
        winograd: WinogradPolicy = .off
    ) throws -> [UInt8] {
        let graph = try FusedGraph(model)
        var b = ModelBuilder(
            inputChannels: inputShape[0], height: inputShape[1], width: inputShape[2],
            inputSpec: inputSpec, labels: labels)
        b.winograd = winograd
        let out = try graph.emit(into: &b)
        return try b.serialize(output: out)
    }

    /// `serialize` written atomically to `path`.
    public static func write(
        _ model: any Module, to path: String, inputShape: [Int], inputSpec: InputSpec, labels: [String]
    ) throws {
        let graph = try FusedGraph(model)
        var b = ModelBuilder(
            inputChannels: inputShape[0], height: inputShape[1], width: inputShape[2],
            inputSpec: inputSpec, labels: labels)
        let out = try graph.emit(into: &b)
        try b.write(toFile: path, output: out)
    }

    /// max |logits(runtime) − logits(unfused eval forward)| over `input` (NCHW batch) and the
    /// number of rows whose arg-max differs, running the .acnb through ACRuntime.
    public static func maxLogitDifference(
        _ model: any Module, acnb bytes: [UInt8], input: Tensor
    ) throws -> (maxAbs: Float, maxReference: Float, argmaxMismatches: Int) {
        let n = input.shape[0]
        let rt = try ACRuntime.Model(bytes: bytes)
        let session = try Session(model: rt, options: SessionOptions(maxBatch: n))
        let got = try session.run(input.data, batch: n)
        let ref = model.forward(input, training: false)
        let k = ref.count / n
        let gotT = Tensor(shape: [n, k], data: got)
        let refT = ref.reshaped([n, k])
        let mism = zip(gotT.argmaxRows(), refT.argmaxRows()).filter { $0 != $1 }.count
        return (gotT.maxAbsDifference(refT), refT.maxAbs, mism)
    }
}

extension ModelSpec {
    /// The input spec of docs/DESIGN.md §4 for this model: grayscale for one channel, else RGB, with
    /// the model's normalisation.
    public var inputSpec: InputSpec {
        InputSpec(channelOrder: inputShape[0] == 1 ? .gray : .rgb, mean: mean, std: std)
    }
}

extension FusedGraph {
    /// Emits every node through `builder`; returns the output tensor.
    public func emit(into builder: inout ModelBuilder) throws -> TensorRef {
        var refs: [TensorRef] = [builder.input]
        func act(_ a: Activation) -> ACRuntime.Activation { a == .relu ? .relu : .none }
        for node in nodes {
            let x = refs[node.input]
            let y: TensorRef
            switch node.op {
            case .conv(let c, let a, let r):
                guard c.paddingMode == .zeros else {
                    throw FusionError.unsupportedPaddingMode(node.name, c.paddingMode)
                }
                y = try builder.conv2d(
                    x, weight: c.weight.data, bias: c.bias, outputChannels: c.outputChannels,
                    kernelSize: (c.kernelSize.height, c.kernelSize.width), stride: (c.stride.height, c.stride.width),
                    padding: Padding(
                        top: c.padding.top, left: c.padding.left, bottom: c.padding.bottom, right: c.padding.right),
                    dilation: (c.dilation.height, c.dilation.width), groups: c.groups, activation: act(a),
                    residual: r.map { refs[$0] })
            case .linear(let w, let b, let a):
                y = try builder.linear(x, weight: w.data, bias: b, outputFeatures: w.shape[0], activation: act(a))
            case .maxPool(let k, let s, let p, let ceil):
                y = try builder.maxPool(x, kernelSize: (k, k), stride: (s, s), padding: .symmetric(p), ceilMode: ceil)
            case .avgPool(let k, let s, let p, let ceil, let cip):
                y = try builder.avgPool(
                    x, kernelSize: (k, k), stride: (s, s), padding: .symmetric(p), ceilMode: ceil,
                    countIncludePad: cip)
            case .globalAvgPool:
                y = try builder.globalAvgPool(x)
            case .flatten:
                y = try builder.flatten(x)
            case .add(let other, let a):
                y = try builder.add(x, refs[other], activation: act(a))
            case .activation(let a):
                y = try builder.activation(x, act(a))
            case .scaleShift(let s, let t, let a):
                y = try builder.scaleShift(x, scale: s, shift: t, activation: act(a))
            }
            refs.append(y)
        }
        return refs[output]
    }
}
