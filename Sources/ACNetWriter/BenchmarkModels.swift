import ACRuntime
import Foundation

/// The six benchmark architectures of the peer benchmark suite (gen_models.py), layer for layer (conv
/// kernel, stride, padding, ReLU placement, pools, projection shortcuts, FC sizes), with
/// seeded He-normal random weights, so `acnet bench` measures the same work the peers do.
public enum BenchmarkModels {
    /// Names accepted by `build(_:)`; besides these, `conv:IN:OUT:HW[:K[:S]]` builds one
    /// K×K convolution (default 3, stride S default 1, padding K/2, no activation) from IN to
    /// OUT channels on an HW×HW input, to time a single layer shape.
    public static let names = ["conv64", "conv256", "fmnist", "cifar_quick", "resnet56", "resnet18", "resnet20"]

    /// Parses `conv:IN:OUT:HW[:K[:S]]` into (IN, OUT, HW, K, S); nil if `name` is not of that form.
    static func layerSpec(_ name: String) throws(WriterError) -> (c: Int, o: Int, hw: Int, k: Int, s: Int)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.first == "conv", parts.count > 1 else { return nil }
        let v = parts.dropFirst().map { Int($0) }
        guard (4...6).contains(parts.count), v.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4096 }) else {
            throw WriterError("'\(name)': expected conv:IN:OUT:HW[:K[:S]] with integers 1...4096")
        }
        let n = v.map { $0! }
        let k = n.count > 3 ? n[3] : 3
        let s = n.count > 4 ? n[4] : 1
        guard k <= 15, s <= 8 else { throw WriterError("'\(name)': kernel at most 15, stride at most 8") }
        return (n[0], n[1], n[2], k, s)
    }

    /// The weights and bias of one conv or linear layer supplied from outside (for example the
    /// ONNX initializers of gen_models.py, extracted by bench/onnx_weights.py), so our runtime
    /// runs on exactly the peers' weights.
    public struct LayerParameters: Sendable {
        /// For error messages (e.g. the ONNX node name).
        public var name: String
        /// OIHW for a convolution, [O, F] for a linear layer.
        public var weightShape: [Int]
        /// Row-major in `weightShape`.
        public var weight: [Float]
        /// O values.
        public var bias: [Float]

        public init(name: String, weightShape: [Int], weight: [Float], bias: [Float]) {
            self.name = name
            self.weightShape = weightShape
            self.weight = weight
            self.bias = bias
        }
    }

    /// Builds architecture `name` and returns the serialised .acnb bytes.
    ///
    /// Layers take their parameters in gen_models.py's layer order (in a ResNet basic block:
    /// first conv, second conv, then the projection shortcut), either drawn from the seeded
    /// generator or, with `parameters`, taken from that list one by one. Every given shape must
    /// equal the layer's, and the list must have exactly one entry per conv/linear layer.
    /// `winograd` chooses which 3×3 stride-1 convolutions also get Winograd weights.
    /// - Throws: `WriterError` for an unknown name or any parameter mismatch.
    public static func build(
        _ name: String, seed: UInt64 = 20_240_601, parameters: [LayerParameters]? = nil,
        winograd: WinogradPolicy = .off
    ) throws(WriterError) -> [UInt8] {
        var net = Net(seed: seed)
        net.winograd = winograd
        net.given = parameters
        let bytes: [UInt8]
        if let l = try layerSpec(name) {
            bytes = try net.single(c: l.c, hw: l.hw, o: l.o, k: l.k, s: l.s)
        } else {
            switch name {
            case "conv64": bytes = try net.single(c: 64, hw: 56)
            case "conv256": bytes = try net.single(c: 256, hw: 14)
            case "fmnist": bytes = try net.fmnist()
            case "cifar_quick": bytes = try net.cifarQuick()
            case "resnet56": bytes = try net.cifarResNet(blocksPerStage: 9)
            case "resnet20": bytes = try net.cifarResNet(blocksPerStage: 3)
            case "resnet18": bytes = try net.resnet18()
            default:
                throw WriterError(
                    "unknown architecture '\(name)'; one of \(names.joined(separator: ", ")) or conv:IN:OUT:HW[:K[:S]]")
            }
        }
        if let given = net.given, net.used != given.count {
            throw WriterError("\(name) has \(net.used) conv/linear layers but \(given.count) were given")
        }
        return bytes
    }

    struct Net {
        var rng: UInt64
        var b: ModelBuilder!
        /// Parameters supplied from outside, consumed in layer order; nil = random.
        var given: [LayerParameters]?
        var used = 0
        var winograd = WinogradPolicy.off

        init(seed: UInt64) { rng = seed }

        mutating func normal() -> Float {
            // Box–Muller on a SplitMix64 stream.
            func next(_ s: inout UInt64) -> Double {
                s &+= 0x9E37_79B9_7F4A_7C15
                var z = s
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
            }
            let u = max(next(&rng), 1e-12)
            let v = next(&rng)
            return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }

        mutating func weights(_ n: Int, std: Float) -> [Float] { (0..<n).map { _ in normal() * std } }

        mutating func start(c: Int, hw: Int, labels: Int) {
            b = ModelBuilder(
                inputChannels: c, height: hw, width: hw,
                inputSpec: InputSpec(
                    channelOrder: .none, mean: .init(repeating: 0, count: c),
                    std: .init(repeating: 1, count: c)),
                labels: (0..<labels).map { "class \($0)" })
            b.winograd = winograd
        }

        /// The next layer's (weight, bias): random (He-normal × `wscale`, bias N(0, 0.01)) or the
        /// next given entry, whose shapes must match exactly.
        mutating func parameters(
            _ shape: [Int], wscale: Float = 1, linear: Bool = false
        ) throws(WriterError)
            -> (weight: [Float], bias: [Float])
        {
            let fanIn = shape.dropFirst().reduce(1, *)
            guard let given else {
                let w = weights(shape.reduce(1, *), std: ((linear ? 1 : 2) / Float(fanIn)).squareRoot() * wscale)
                return (w, weights(shape[0], std: 0.01))
            }
            let what =
                "\(linear ? "linear" : "conv") layer #\(used) (weight \(shape.map(String.init).joined(separator: "x")))"
            guard used < given.count else {
                throw WriterError("no parameters given for \(what): only \(given.count) given")
            }
            let p = given[used]
            guard p.weightShape == shape else {
                throw WriterError(
                    "\(what): given '\(p.name)' has weight shape \(p.weightShape.map(String.init).joined(separator: "x"))"
                )
            }
            guard p.weight.count == shape.reduce(1, *) else {
                throw WriterError("\(what): given '\(p.name)' has \(p.weight.count) weight values")
            }
            guard p.bias.count == shape[0] else {
                throw WriterError("\(what): given '\(p.name)' has \(p.bias.count) bias values, expected \(shape[0])")
            }
            used += 1
            return (p.weight, p.bias)
        }

        mutating func conv(
            _ x: TensorRef, _ o: Int, _ k: Int, _ s: Int = 1, _ p: Int = 0, relu: Bool = true,
            wscale: Float = 1, residual: TensorRef? = nil
        ) throws(WriterError) -> TensorRef {
            let params = try parameters([o, b.shape(of: x)[1], k, k], wscale: wscale)
            return try conv(x, params, o, k, s, p, relu: relu, residual: residual)
        }

        mutating func conv(
            _ x: TensorRef, _ params: (weight: [Float], bias: [Float]), _ o: Int, _ k: Int, _ s: Int,
            _ p: Int, relu: Bool, residual: TensorRef? = nil
        ) throws(WriterError) -> TensorRef {
            try b.conv2d(
                x, weight: params.weight, bias: params.bias, outputChannels: o, kernelSize: (k, k),
                stride: (s, s), padding: .symmetric(p), activation: relu ? .relu : .none, residual: residual)
        }

        mutating func fc(_ x: TensorRef, _ o: Int, relu: Bool = false) throws(WriterError) -> TensorRef {
            let params = try parameters([o, b.shape(of: x)[1]], linear: true)
            return try b.linear(
                x, weight: params.weight, bias: params.bias, outputFeatures: o,
                activation: relu ? .relu : .none)
        }

        /// ResNet basic block: conv-ReLU, conv + shortcut (1x1 projection when the shape
        /// changes), ReLU — the residual add and ReLU are fused into the second conv. The
        /// parameters are taken in gen_models.py's order (conv1, conv2, projection) although
        /// the projection is built before the conv it feeds.
        mutating func basicBlock(_ x: TensorRef, _ o: Int, _ s: Int) throws(WriterError) -> TensorRef {
            let c = b.shape(of: x)[1]
            let p1 = try parameters([o, c, 3, 3])
            let p2 = try parameters([o, o, 3, 3], wscale: 0.3)
            let ps = (s != 1 || c != o) ? try parameters([o, c, 1, 1]) : nil
            let h = try conv(x, p1, o, 3, s, 1, relu: true)
            let shortcut = if let ps { try conv(x, ps, o, 1, s, 0, relu: false) } else { x }
            return try conv(h, p2, o, 3, 1, 1, relu: true, residual: shortcut)
        }

        mutating func single(c: Int, hw: Int, o: Int? = nil, k: Int = 3, s: Int = 1) throws(WriterError) -> [UInt8] {
            start(c: c, hw: hw, labels: 0)
            let y = try conv(b.input, o ?? c, k, s, k / 2, relu: false)
            return try b.serialize(output: y)
        }

        mutating func fmnist() throws(WriterError) -> [UInt8] {
            start(c: 1, hw: 28, labels: 10)
            var x = try conv(b.input, 32, 3, 1, 1)
            x = try conv(x, 32, 3, 1, 1)
            x = try b.maxPool(x, kernelSize: (2, 2), stride: (2, 2))
            x = try conv(x, 64, 3, 1, 1)
            x = try conv(x, 64, 3, 1, 1)
            x = try b.maxPool(x, kernelSize: (2, 2), stride: (2, 2))
            x = try conv(x, 128, 3, 1, 1)
            x = try fc(try b.globalAvgPool(x), 10)
            return try b.serialize(output: x)
        }

        /// Caffe's cifar10_quick (no BN, ceil-mode pools 32→16→8→4, FC 1024→64→10).
        mutating func cifarQuick() throws(WriterError) -> [UInt8] {
            start(c: 3, hw: 32, labels: 10)
            var x = try conv(b.input, 32, 5, 1, 2, relu: false)
            x = try b.maxPool(x, kernelSize: (3, 3), stride: (2, 2), ceilMode: true)
            x = try b.activation(x, .relu)
            x = try conv(x, 32, 5, 1, 2)
            x = try b.avgPool(x, kernelSize: (3, 3), stride: (2, 2), ceilMode: true)
            x = try conv(x, 64, 5, 1, 2)
            x = try b.avgPool(x, kernelSize: (3, 3), stride: (2, 2), ceilMode: true)
            x = try fc(try b.flatten(x), 64)
            x = try fc(x, 10)
            return try b.serialize(output: x)
        }

        mutating func cifarResNet(blocksPerStage n: Int) throws(WriterError) -> [UInt8] {
            start(c: 3, hw: 32, labels: 10)
            var x = try conv(b.input, 16, 3, 1, 1)
            for (si, o) in [16, 32, 64].enumerated() {
                for k in 0..<n { x = try basicBlock(x, o, si > 0 && k == 0 ? 2 : 1) }
            }
            x = try fc(try b.globalAvgPool(x), 10)
            return try b.serialize(output: x)
        }

        mutating func resnet18() throws(WriterError) -> [UInt8] {
            start(c: 3, hw: 224, labels: 1000)
            var x = try conv(b.input, 64, 7, 2, 3)
            x = try b.maxPool(x, kernelSize: (3, 3), stride: (2, 2), padding: .symmetric(1))
            for (o, s) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
                x = try basicBlock(x, o, s)
                x = try basicBlock(x, o, 1)
            }
            x = try fc(try b.globalAvgPool(x), 1000)
            return try b.serialize(output: x)
        }
    }
}
