import ACRuntime
import Foundation

/// The six benchmark architectures of ../shared/bench/gen_models.py, layer for layer (conv
/// kernel, stride, padding, ReLU placement, pools, projection shortcuts, FC sizes), with
/// seeded He-normal random weights, so `acnet bench` measures the same work the peers do.
public enum BenchmarkModels {
    /// Names accepted by `build(_:)`.
    public static let names = ["conv64", "conv256", "fmnist", "cifar_quick", "resnet56", "resnet18", "resnet20"]

    /// Builds architecture `name` and returns the serialised .acnb bytes.
    /// - Throws: `WriterError` for an unknown name.
    public static func build(_ name: String, seed: UInt64 = 20240601) throws(WriterError) -> [UInt8] {
        var net = Net(seed: seed)
        switch name {
        case "conv64": return try net.single(c: 64, hw: 56)
        case "conv256": return try net.single(c: 256, hw: 14)
        case "fmnist": return try net.fmnist()
        case "cifar_quick": return try net.cifarQuick()
        case "resnet56": return try net.cifarResNet(blocksPerStage: 9)
        case "resnet20": return try net.cifarResNet(blocksPerStage: 3)
        case "resnet18": return try net.resnet18()
        default: throw WriterError("unknown architecture '\(name)'; one of \(names.joined(separator: ", "))")
        }
    }

    struct Net {
        var rng: UInt64
        var b: ModelBuilder!

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
            let u = max(next(&rng), 1e-12), v = next(&rng)
            return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }

        mutating func weights(_ n: Int, std: Float) -> [Float] { (0..<n).map { _ in normal() * std } }

        mutating func start(c: Int, hw: Int, labels: Int) {
            b = ModelBuilder(inputChannels: c, height: hw, width: hw,
                             inputSpec: InputSpec(channelOrder: .none, mean: .init(repeating: 0, count: c),
                                                  std: .init(repeating: 1, count: c)),
                             labels: (0..<labels).map { "class \($0)" })
        }

        mutating func conv(_ x: TensorRef, _ o: Int, _ k: Int, _ s: Int = 1, _ p: Int = 0, relu: Bool = true,
                           wscale: Float = 1, residual: TensorRef? = nil) throws(WriterError) -> TensorRef
        {
            let c = b.shape(of: x)[1]
            let w = weights(o * c * k * k, std: (2 / Float(c * k * k)).squareRoot() * wscale)
            let bias = weights(o, std: 0.01)
            return try b.conv2d(x, weight: w, bias: bias, outputChannels: o, kernelSize: (k, k), stride: (s, s),
                                padding: .symmetric(p), activation: relu ? .relu : .none, residual: residual)
        }

        mutating func fc(_ x: TensorRef, _ o: Int, relu: Bool = false) throws(WriterError) -> TensorRef {
            let f = b.shape(of: x)[1]
            return try b.linear(x, weight: weights(o * f, std: (1 / Float(f)).squareRoot()), bias: weights(o, std: 0.01),
                                outputFeatures: o, activation: relu ? .relu : .none)
        }

        /// ResNet basic block: conv-ReLU, conv + shortcut (1x1 projection when the shape
        /// changes), ReLU — the residual add and ReLU are fused into the second conv.
        mutating func basicBlock(_ x: TensorRef, _ o: Int, _ s: Int) throws(WriterError) -> TensorRef {
            let c = b.shape(of: x)[1]
            let h = try conv(x, o, 3, s, 1)
            let shortcut = (s != 1 || c != o) ? try conv(x, o, 1, s, 0, relu: false) : x
            return try conv(h, o, 3, 1, 1, relu: true, wscale: 0.3, residual: shortcut)
        }

        mutating func single(c: Int, hw: Int) throws(WriterError) -> [UInt8] {
            start(c: c, hw: hw, labels: 0)
            let y = try conv(b.input, c, 3, 1, 1, relu: false)
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
