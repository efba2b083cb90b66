/// The deployed form of a trained network: every ACB fused, every BatchNorm folded into the
/// conv before it, ReLUs fused into the op before them, residual adds into the second conv of
/// a block. Values are numbered: 0 is the input, node i produces value i + 1.
///
/// `forward` evaluates it in Swift (the exactness check of docs/DESIGN.md §3 against the unfused
/// eval network); `emit(into:)` writes it through ACNetWriter's `ModelBuilder`.
public final class FusedGraph {
    public enum Activation: Sendable { case none, relu }

    public enum Op {
        /// act(conv(x) + b [+ value `residual`]).
        case conv(FusedConv, activation: Activation, residual: Int?)
        /// act(x·Wᵀ + b), weight [O, F].
        case linear(weight: Tensor, bias: [Float], activation: Activation)
        case maxPool(kernelSize: Int, stride: Int, padding: Int, ceilMode: Bool)
        case avgPool(kernelSize: Int, stride: Int, padding: Int, ceilMode: Bool, countIncludePad: Bool)
        /// [N, C, H, W] → [N, C].
        case globalAvgPool
        /// [N, …] → [N, F]
        case flatten
        /// act(x + value `other`).
        case add(other: Int, activation: Activation)
        case activation(Activation)
        /// Per-channel act(x·scale + shift) (a BatchNorm not preceded by a conv).
        case scaleShift(scale: [Float], shift: [Float], activation: Activation)
    }

    public struct Node {
        public var op: Op
        public var input: Int
        public var name: String
    }

    public private(set) var nodes: [Node] = []
    public private(set) var output: Int = 0
    /// Rank of each value (4 for NCHW, 2 for [N, F]).
    private var ranks: [Int] = [4]
    private var executors: [Int: any Module] = [:]

    /// Lowers a trained model (any tree of ACTraining's modules). Throws `FusionError` if a
    /// BatchNorm has no running statistics or a module cannot be lowered.
    public init(_ model: any Module) throws {
        output = try lower(model, 0, name: "")
    }

    private func append(_ op: Op, _ input: Int, rank: Int, name: String) -> Int {
        nodes.append(Node(op: op, input: input, name: name))
        ranks.append(rank)
        return nodes.count
    }

    /// Sets the activation of the node producing `v` to ReLU, if it can absorb one.
    private func absorbReLU(_ v: Int) -> Bool {
        guard v >= 1, v == nodes.count else { return false }
        switch nodes[v - 1].op {
        case .conv(let c, .none, let r): nodes[v - 1].op = .conv(c, activation: .relu, residual: r)
        case .linear(let w, let b, .none): nodes[v - 1].op = .linear(weight: w, bias: b, activation: .relu)
        case .add(let o, .none): nodes[v - 1].op = .add(other: o, activation: .relu)
        case .scaleShift(let s, let t, .none): nodes[v - 1].op = .scaleShift(scale: s, shift: t, activation: .relu)
        default: return false
        }
        return true
    }

    private func lower(_ m: any Module, _ v: Int, name: String) throws -> Int {
        switch m {
        case let s as Sequential:
            var cur = v
            var i = 0
            let start = nodes.count
            while i < s.layers.count {
                let child = s.layers[i]
                let childName = join(name, s.names[i])
                if let conv = child as? Conv2d, i + 1 < s.layers.count, let bn = s.layers[i + 1] as? BatchNorm2d {
                    cur = append(
                        .conv(try Fusion.fold(conv, bn, name: childName), activation: .none, residual: nil),
                        cur, rank: 4, name: childName)
                    i += 2
                } else if child is ReLU, nodes.count > start, absorbReLU(cur) {
                    i += 1
                } else {
                    cur = try lower(child, cur, name: childName)
                    i += 1
                }
            }
            return cur
        case let a as ACBlock:
            return append(
                .conv(try Fusion.fuse(a, name: name), activation: .none, residual: nil), v, rank: 4, name: name)
        case let c as ConvBN:
            return append(
                .conv(try Fusion.fold(c.conv, c.bn, name: name), activation: .none, residual: nil),
                v, rank: 4, name: name)
        case let a as ACBReLU:
            return append(
                .conv(try Fusion.fuse(a.block, name: join(name, "0")), activation: .relu, residual: nil),
                v, rank: 4, name: name)
        case let c as ConvBNReLU:
            return append(
                .conv(try Fusion.fold(c.conv, c.bn, name: name), activation: .relu, residual: nil),
                v, rank: 4, name: name)
        case let c as Conv2d:
            return append(
                .conv(try Fusion.fold(c, nil, name: name), activation: .none, residual: nil), v, rank: 4, name: name)
        case let bn as BatchNorm2d:
            let (s, t) = try Fusion.scaleShift(bn, name: name)
            return append(.scaleShift(scale: s, shift: t, activation: .none), v, rank: ranks[v], name: name)
        case is ReLU:
            return append(.activation(.relu), v, rank: ranks[v], name: name)
        case let p as MaxPool2d:
            return append(
                .maxPool(kernelSize: p.kernelSize, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode),
                v, rank: 4, name: name)
        case let p as AvgPool2d:
            return append(
                .avgPool(
                    kernelSize: p.kernelSize, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode,
                    countIncludePad: p.countIncludePad), v, rank: 4, name: name)
        case is GlobalAvgPool:
            return append(.globalAvgPool, v, rank: 2, name: name)
        case is Flatten:
            return ranks[v] == 2 ? v : append(.flatten, v, rank: 2, name: name)
        case let l as Linear:
            let b = l.bias?.value.data ?? [Float](repeating: 0, count: l.outputFeatures)
            return append(.linear(weight: l.weight.value, bias: b, activation: .none), v, rank: 2, name: name)
        case is Dropout, is Identity:
            return v
        case let b as BasicBlock:
            let sc = try b.shortcut.map { try lower($0, v, name: join(name, "shortcut")) } ?? v
            var h = try lower(b.conv1, v, name: join(name, "conv1"))
            if !absorbReLU(h) { h = append(.activation(.relu), h, rank: 4, name: join(name, "relu1")) }
            let c2 = try convOf(b.conv2, name: join(name, "conv2"))
            return append(.conv(c2, activation: .relu, residual: sc), h, rank: 4, name: join(name, "conv2"))
        default:
            throw FusionError.unsupportedModule(name, String(describing: type(of: m)))
        }
    }

    private func convOf(_ m: any Module, name: String) throws -> FusedConv {
        switch m {
        case let a as ACBlock: return try Fusion.fuse(a, name: name)
        case let c as ConvBN: return try Fusion.fold(c.conv, c.bn, name: name)
        case let c as Conv2d: return try Fusion.fold(c, nil, name: name)
        default: throw FusionError.unsupportedModule(name, String(describing: type(of: m)))
        }
    }

    /// Number of convolutions in the deployed graph.
    public var convolutionCount: Int {
        nodes.filter { if case .conv = $0.op { return true } else { return false } }.count
    }

    /// Evaluates the fused network on an NCHW batch (float32, im2col + SGEMM).
    public func forward(_ x: Tensor) -> Tensor {
        var values: [Tensor] = [x]
        for (i, node) in nodes.enumerated() {
            let inp = values[node.input]
            var y: Tensor
            switch node.op {
            case .conv(let c, let act, let r):
                let conv = executors[i] ?? c.makeConv2d()
                executors[i] = conv
                y = conv.forward(inp, training: false)
                if let r { y.add(values[r]) }
                apply(act, &y)
            case .linear(let w, let b, let act):
                y = inp.reshaped([inp.shape[0], w.shape[1]])
                var out = Tensor(shape: [inp.shape[0], w.shape[0]])
                for n in 0..<inp.shape[0] {
                    for o in 0..<w.shape[0] {
                        var s = Double(b[o])
                        for f in 0..<w.shape[1] {
                            s += Double(y.data[n * w.shape[1] + f]) * Double(w.data[o * w.shape[1] + f])
                        }
                        out.data[n * w.shape[0] + o] = Float(s)
                    }
                }
                y = out
                apply(act, &y)
            case .maxPool(let k, let s, let p, let ceil):
                y = MaxPool2d(kernelSize: k, stride: s, padding: p, ceilMode: ceil).forward(inp, training: false)
            case .avgPool(let k, let s, let p, let ceil, let cip):
                y = AvgPool2d(kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: cip)
                    .forward(inp, training: false)
            case .globalAvgPool:
                y = GlobalAvgPool().forward(inp, training: false)
                y = y.reshaped([inp.shape[0], inp.shape[1]])
            case .flatten:
                y = inp.reshaped([inp.shape[0], inp.count / inp.shape[0]])
            case .add(let other, let act):
                y = inp
                y.add(values[other])
                apply(act, &y)
            case .activation(let act):
                y = inp
                apply(act, &y)
            case .scaleShift(let s, let t, let act):
                y = inp
                let c = s.count
                let inner = inp.count / (inp.shape[0] * c)
                for j in 0..<inp.count {
                    let ch = (j / inner) % c
                    y.data[j] = y.data[j] * s[ch] + t[ch]
                }
                apply(act, &y)
            }
            values.append(y)
        }
        return values[output]
    }

    private func apply(_ act: Activation, _ y: inout Tensor) {
        if act == .relu { for i in 0..<y.count where !(y.data[i] > 0) { y.data[i] = 0 } }
    }
}
