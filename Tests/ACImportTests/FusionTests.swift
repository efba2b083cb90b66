import ACNetWriter
import ACRuntime
import Foundation
import Testing

@testable import ACImport

/// Builds small ONNX graphs in memory and checks that the imported (fused) model computes what
/// the unfused graph computes, evaluated here directly in Double.
@Suite struct ONNXFusionTests {
    /// A seeded generator (SplitMix64) for weights and inputs.
    struct Random {
        var state: UInt64
        mutating func next() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) * 2 - 1
        }
        mutating func array(_ n: Int, scale: Float = 1, offset: Float = 0) -> [Float] {
            (0..<n).map { _ in next() * scale + offset }
        }
    }

    /// An unfused graph: the ONNX model and a reference evaluator.
    struct Graph {
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var constants: [String: (dims: [Int], data: [Float])] = [:]
        var rng = Random(state: 7)
        var counter = 0

        mutating func tensor(_ dims: [Int], scale: Float = 0.5, offset: Float = 0) -> String {
            counter += 1
            let name = "t\(counter)"
            let data = rng.array(dims.reduce(1, *), scale: scale, offset: offset)
            var t = Onnx_TensorProto()
            t.name = name
            t.dims = dims.map(Int64.init)
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.floatData = data
            initializers.append(t)
            constants[name] = (dims, data)
            return name
        }

        mutating func node(_ op: String, _ inputs: [String], _ attrs: [Onnx_AttributeProto] = []) -> String {
            counter += 1
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = "\(op.lowercased())\(counter)"
            n.input = inputs
            n.output = [n.name + "_out"]
            n.attribute = attrs
            nodes.append(n)
            return n.output[0]
        }

        static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .ints
            a.ints = v.map(Int64.init)
            return a
        }

        static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = Int64(v)
            return a
        }

        mutating func convBN(
            _ x: String, cin: Int, cout: Int, k: (Int, Int), pads: [Int], stride: Int = 1, groups: Int = 1
        ) -> String {
            let w = tensor([cout, cin / groups, k.0, k.1])
            let y = node(
                "Conv", [x, w],
                [Graph.ints("pads", pads), Graph.ints("strides", [stride, stride]), Graph.int("group", groups)])
            return bn(y, cout)
        }

        mutating func bn(_ x: String, _ c: Int) -> String {
            node(
                "BatchNormalization",
                [x, tensor([c], scale: 0.4, offset: 1), tensor([c]), tensor([c]), tensor([c], scale: 0.4, offset: 1.2)])
        }

        func model(input: [Int], output: String) -> Onnx_ModelProto {
            var g = Onnx_GraphProto()
            g.node = nodes
            g.initializer = initializers
            var vi = Onnx_ValueInfoProto()
            vi.name = "x"
            var tt = Onnx_TypeProto.Tensor()
            tt.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            var shape = Onnx_TensorShapeProto()
            shape.dim = ([1] + input).map { v in
                var d = Onnx_TensorShapeProto.Dimension()
                d.dimValue = Int64(v)
                return d
            }
            tt.shape = shape
            vi.type.tensorType = tt
            g.input = [vi]
            var out = Onnx_ValueInfoProto()
            out.name = output
            g.output = [out]
            var m = Onnx_ModelProto()
            m.irVersion = 8
            var opset = Onnx_OperatorSetIdProto()
            opset.version = 13
            m.opsetImport = [opset]
            m.graph = g
            return m
        }

        /// Evaluates the unfused graph in Double (NCHW, batch 1).
        func evaluate(_ x: [Double], shape: [Int]) -> ([Double], [Int]) {
            var values: [String: ([Double], [Int])] = ["x": (x, shape)]
            for n in nodes {
                let attr = Dictionary(uniqueKeysWithValues: n.attribute.map { ($0.name, $0) })
                switch n.opType {
                case "Conv":
                    let (v, s) = values[n.input[0]]!
                    let (wd, w) = constants[n.input[1]]!
                    let pads = attr["pads"]!.ints.map(Int.init)
                    let stride = Int(attr["strides"]!.ints[0])
                    let groups = Int(attr["group"]!.i)
                    let (o, cg, kh, kw) = (wd[0], wd[1], wd[2], wd[3])
                    let oh = (s[1] + pads[0] + pads[2] - kh) / stride + 1
                    let ow = (s[2] + pads[1] + pads[3] - kw) / stride + 1
                    var y = [Double](repeating: 0, count: o * oh * ow)
                    for oc in 0..<o {
                        let g = oc / (o / groups)
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var sum = 0.0
                                for ci in 0..<cg {
                                    for ky in 0..<kh {
                                        for kx in 0..<kw {
                                            let iy = oy * stride - pads[0] + ky
                                            let ix = ox * stride - pads[1] + kx
                                            guard iy >= 0, iy < s[1], ix >= 0, ix < s[2] else { continue }
                                            sum +=
                                                Double(w[((oc * cg + ci) * kh + ky) * kw + kx])
                                                * v[((g * cg + ci) * s[1] + iy) * s[2] + ix]
                                        }
                                    }
                                }
                                y[(oc * oh + oy) * ow + ox] = sum
                            }
                        }
                    }
                    values[n.output[0]] = (y, [o, oh, ow])
                case "BatchNormalization":
                    let (v, s) = values[n.input[0]]!
                    let p = n.input[1...].map { constants[$0]!.data }
                    let hw = s[1] * s[2]
                    values[n.output[0]] = (
                        v.indices.map { i in
                            let c = i / hw
                            return (v[i] - Double(p[2][c])) / (Double(p[3][c]) + 1e-5).squareRoot() * Double(p[0][c])
                                + Double(p[1][c])
                        }, s
                    )
                case "Add":
                    let (a, s) = values[n.input[0]]!
                    let (b, _) = values[n.input[1]]!
                    values[n.output[0]] = (zip(a, b).map { $0 + $1 }, s)
                case "Relu":
                    let (a, s) = values[n.input[0]]!
                    values[n.output[0]] = (a.map { max($0, 0) }, s)
                default:
                    fatalError("reference: \(n.opType)")
                }
            }
            return values[nodes.last!.output[0]]!
        }
    }

    /// Imports `g`, runs it on a random input and compares with the Double reference.
    func check(_ g: Graph, input: [Int], output: String, expectConvs: Int) throws {
        let data = try g.model(input: input, output: output).serializedData()
        let (bytes, summary) = try ONNXImporter(data: data, options: ImportOptions()).importModel()
        let model = try Model(bytes: bytes)
        #expect(model.layers.filter { $0.kernel.hasPrefix("conv") }.count == expectConvs, "fused convolutions")
        #expect(summary.ops == model.layers.count)
        var rng = Random(state: 99)
        let x = rng.array(input.reduce(1, *))
        let session = try Session(model: model, options: SessionOptions(useWinograd: false))
        let y = try session.run(x)
        let (ref, _) = g.evaluate(x.map(Double.init), shape: input)
        try #require(y.count == ref.count)
        let maxY = ref.map(abs).max() ?? 0
        let maxDiff = zip(y, ref).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(maxDiff <= 1e-4 * (1 + maxY), "max|Δ| \(maxDiff), max|y| \(maxY)")
    }

    @Test(
        "ACB: K×K + K×1 + 1×K convolutions with BatchNorms, summed, fuse into one exact K×K conv",
        arguments: [(3, 1), (3, 2), (5, 1)])
    func acb(k: Int, stride: Int) throws {
        var g = Graph()
        let p = k / 2
        let sq = g.convBN("x", cin: 6, cout: 8, k: (k, k), pads: [p, p, p, p], stride: stride)
        let ver = g.convBN("x", cin: 6, cout: 8, k: (k, 1), pads: [p, 0, p, 0], stride: stride)
        let hor = g.convBN("x", cin: 6, cout: 8, k: (1, k), pads: [0, p, 0, p], stride: stride)
        let y = g.node("Relu", [g.node("Add", [g.node("Add", [sq, ver]), hor])])
        try check(g, input: [6, 9, 9], output: y, expectConvs: 1)
    }

    @Test("ACB with depthwise branches (groups = C)")
    func acbDepthwise() throws {
        var g = Graph()
        let sq = g.convBN("x", cin: 16, cout: 16, k: (3, 3), pads: [1, 1, 1, 1], groups: 16)
        let ver = g.convBN("x", cin: 16, cout: 16, k: (3, 1), pads: [1, 0, 1, 0], groups: 16)
        let hor = g.convBN("x", cin: 16, cout: 16, k: (1, 3), pads: [0, 1, 0, 1], groups: 16)
        let y = g.node("Add", [hor, g.node("Add", [sq, ver])])
        try check(g, input: [16, 7, 7], output: y, expectConvs: 1)
    }

    @Test("RepVGG: 3×3+BN, 1×1+BN and identity BN fuse into one 3×3 conv; then a residual")
    func repvgg() throws {
        var g = Graph()
        let a = g.convBN("x", cin: 8, cout: 8, k: (3, 3), pads: [1, 1, 1, 1])
        let b = g.convBN("x", cin: 8, cout: 8, k: (1, 1), pads: [0, 0, 0, 0])
        let y = g.node("Relu", [g.node("Add", [g.node("Add", [a, b]), g.bn("x", 8)])])
        let z = g.convBN(y, cin: 8, cout: 8, k: (3, 3), pads: [1, 1, 1, 1])
        let out = g.node("Relu", [g.node("Add", [z, y])])
        try check(g, input: [8, 6, 6], output: out, expectConvs: 2)
    }

    @Test("Hostile bytes: truncated or garbage protobuf and a cycle are ImportErrors")
    func hostile() throws {
        var g = Graph()
        let y = g.convBN("x", cin: 3, cout: 4, k: (3, 3), pads: [1, 1, 1, 1])
        var proto = g.model(input: [3, 5, 5], output: y)
        proto.opsetImport = []  // the graph is then the last field: every strict prefix cuts it
        let data = try proto.serializedData()
        for cut in stride(from: 1, to: data.count, by: max(1, data.count / 40)) {
            let r = Result { try ONNXImporter(data: data.prefix(cut), options: ImportOptions()).importModel() }
            if case .success = r { Issue.record("a \(cut)-byte prefix imported") }
        }
        var c = Graph()
        _ = c.node("Relu", ["relu2_out"])
        _ = c.node("Relu", ["relu1_out"])
        let m = try c.model(input: [3, 5, 5], output: "relu2_out").serializedData()
        #expect(throws: ImportError.self) { try ONNXImporter(data: m, options: ImportOptions()) }
        do { _ = try ONNXImporter(data: m, options: ImportOptions()) } catch {
            #expect(error.message.contains("cycle"))
        }
    }
}
