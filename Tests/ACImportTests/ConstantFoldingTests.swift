import ACRuntime
import Foundation
import Testing

@testable import ACImport

/// The importer's constant folding (`ConstantFolding`): each operator against values worked out
/// by hand from the ONNX specification, the hostile cases (bad indices, huge shapes, overflow),
/// and PyTorch's ZeroPad2d subgraph folded into a following convolution end to end.
@Suite struct ConstantFoldingTests {
    static func attr(_ name: String, int v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(v)
        return a
    }

    static func attr(_ name: String, ints v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v.map(Int64.init)
        return a
    }

    static func node(_ op: String, _ attrs: [Onnx_AttributeProto] = []) -> ONNXNode {
        ONNXNode(
            name: "n", opType: op, inputs: [], outputs: ["y"],
            attributes: Dictionary(uniqueKeysWithValues: attrs.map { ($0.name, $0) }))
    }

    static func ints(_ dims: [Int], _ v: [Int64]) -> ONNXConstant { ONNXConstant(dims: dims, ints: v) }
    static func ints(_ v: [Int64]) -> ONNXConstant { ONNXConstant(dims: [v.count], ints: v) }

    func fold(_ op: String, _ attrs: [Onnx_AttributeProto] = [], _ inputs: [ONNXConstant?]) throws -> ONNXConstant {
        try #require(try ConstantFolding.evaluate(Self.node(op, attrs), inputs))
    }

    /// The error message folding `op` produces (nil if it folds).
    func failure(_ op: String, _ attrs: [Onnx_AttributeProto] = [], _ inputs: [ONNXConstant?]) -> String? {
        do {
            _ = try ConstantFolding.evaluate(Self.node(op, attrs), inputs)
            return nil
        } catch { return error.message }
    }

    @Test("Shape: static dims with start/end (negative, clamped), batch 1")
    func shape() throws {
        let n = Self.node("Shape")
        #expect(try ConstantFolding.shape(n, dims: [1, 3, 224, 224]).ints == [1, 3, 224, 224])
        let tail = Self.node("Shape", [Self.attr("start", int: -2)])
        #expect(try ConstantFolding.shape(tail, dims: [1, 3, 7, 5]).ints == [7, 5])
        let clamped = Self.node("Shape", [Self.attr("start", int: 1), Self.attr("end", int: 99)])
        #expect(try ConstantFolding.shape(clamped, dims: [1, 3, 7, 5]).ints == [3, 7, 5])
        let empty = Self.node("Shape", [Self.attr("start", int: 3), Self.attr("end", int: 1)])
        let e = try ConstantFolding.shape(empty, dims: [1, 3, 7, 5])
        #expect(e.ints == [] && e.dims == [0])
    }

    @Test("Gather: scalar and vector indices, negative indices, axis 1; out-of-range indices refused")
    func gather() throws {
        let shape = Self.ints([1, 3, 224, 200])
        let s = try fold("Gather", [Self.attr("axis", int: 0)], [shape, Self.ints([], [2])])
        #expect(s.dims == [] && s.ints == [224])
        let v = try fold("Gather", [], [shape, Self.ints([-1, 0])])
        #expect(v.dims == [2] && v.ints == [200, 1])
        let m = Self.ints([2, 3], [0, 1, 2, 3, 4, 5])
        let cols = try fold("Gather", [Self.attr("axis", int: -1)], [m, Self.ints([2, 0])])
        #expect(cols.dims == [2, 2] && cols.ints == [2, 0, 5, 3])
        #expect(failure("Gather", [], [shape, Self.ints([4])])?.contains("index 4 is out of range") == true)
        #expect(failure("Gather", [], [shape, Self.ints([-5])])?.contains("index -5 is out of range") == true)
        #expect(
            failure("Gather", [Self.attr("axis", int: 2)], [m, Self.ints([0])])?.contains("axis 2 is out of range")
                == true)
        #expect(failure("Gather", [], [shape, ONNXConstant(dims: [1], floats: [0])])?.contains("integer") == true)
    }

    @Test("Concat along axis 0 and 1; rank, type and size mismatches refused")
    func concat() throws {
        let a = try fold("Concat", [Self.attr("axis", int: 0)], [Self.ints([0, 1]), Self.ints([2]), Self.ints([])])
        #expect(a.dims == [3] && a.ints == [0, 1, 2])
        let b = try fold(
            "Concat", [Self.attr("axis", int: -1)], [Self.ints([2, 1], [1, 2]), Self.ints([2, 2], [3, 4, 5, 6])])
        #expect(b.dims == [2, 3] && b.ints == [1, 3, 4, 2, 5, 6])
        #expect(failure("Concat", [], [Self.ints([1])])?.contains("axis attribute is required") == true)
        #expect(
            failure("Concat", [Self.attr("axis", int: 0)], [Self.ints([1]), ONNXConstant(dims: [1], floats: [1])])
                != nil)
        #expect(
            failure("Concat", [Self.attr("axis", int: 1)], [Self.ints([2, 1], [1, 2]), Self.ints([1, 1], [3])]) != nil)
    }

    @Test("Reshape: -1 inferred, 0 copies (unless allowzero); bad targets refused")
    func reshape() throws {
        let x = Self.ints([8], [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(try fold("Reshape", [], [x, Self.ints([-1, 2])]).dims == [4, 2])
        let y = Self.ints([4, 2], [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(try fold("Reshape", [], [y, Self.ints([0, -1])]).dims == [4, 2])
        #expect(try fold("Reshape", [], [y, Self.ints([-1])]).ints == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(failure("Reshape", [Self.attr("allowzero", int: 1)], [y, Self.ints([0, -1])]) != nil)
        #expect(failure("Reshape", [], [x, Self.ints([-1, -1])])?.contains("more than one -1") == true)
        #expect(failure("Reshape", [], [x, Self.ints([3, -1])]) != nil)
        #expect(failure("Reshape", [], [x, Self.ints([1 << 40, 1 << 40, 0])]) != nil)
        #expect(failure("Reshape", [], [x, Self.ints([Int64.max, 2])]) != nil)
    }

    @Test(
        "Slice: PyTorch's reversal (start -1, end INT64_MIN+1, step -1), INT64_MAX ends, clamping, steps; step 0 refused"
    )
    func slice() throws {
        let m = Self.ints([4, 2], [0, 1, 2, 3, 4, 5, 6, 7])
        let rev = try fold(
            "Slice", [], [m, Self.ints([-1]), Self.ints([Int64.min + 1]), Self.ints([0]), Self.ints([-1])])
        #expect(rev.dims == [4, 2] && rev.ints == [6, 7, 4, 5, 2, 3, 0, 1])
        let v = Self.ints([0, 1, 2, 3, 4, 5, 6])
        #expect(try fold("Slice", [], [v, Self.ints([1]), Self.ints([Int64.max])]).ints == [1, 2, 3, 4, 5, 6])
        #expect(
            try fold("Slice", [], [v, Self.ints([-100]), Self.ints([100]), nil, Self.ints([3])]).ints == [0, 3, 6])
        #expect(
            try fold("Slice", [], [v, Self.ints([100]), Self.ints([-100]), nil, Self.ints([-2])]).ints == [6, 4, 2, 0])
        #expect(try fold("Slice", [], [v, Self.ints([5]), Self.ints([2])]).ints == [])
        #expect(try fold("Slice", [], [v, Self.ints([0]), Self.ints([7]), nil, Self.ints([Int64.max])]).ints == [0])
        #expect(try fold("Slice", [], [v, Self.ints([6]), Self.ints([0]), nil, Self.ints([Int64.min])]).ints == [6])
        let cols = try fold("Slice", [], [m, Self.ints([1]), Self.ints([2]), Self.ints([-1])])
        #expect(cols.dims == [4, 1] && cols.ints == [1, 3, 5, 7])
        let attrs = try fold("Slice", [Self.attr("starts", ints: [1]), Self.attr("ends", ints: [3])], [v])
        #expect(attrs.ints == [1, 2])
        #expect(
            failure("Slice", [], [v, Self.ints([0]), Self.ints([3]), nil, Self.ints([0])])?.contains("step 0") == true)
        #expect(
            failure("Slice", [], [v, Self.ints([0]), Self.ints([3]), Self.ints([1])])?.contains(
                "axis 1 is out of range") == true)
        #expect(
            failure("Slice", [], [m, Self.ints([0, 0]), Self.ints([1, 1]), Self.ints([0, -2])])?.contains(
                "appears twice") == true)
        #expect(failure("Slice", [], [v, Self.ints([0, 1]), Self.ints([3])]) != nil)
    }

    @Test("Transpose with perm and the default reversal; bad perm refused")
    func transpose() throws {
        let m = Self.ints([2, 3], [0, 1, 2, 3, 4, 5])
        let t = try fold("Transpose", [Self.attr("perm", ints: [1, 0])], [m])
        #expect(t.dims == [3, 2] && t.ints == [0, 3, 1, 4, 2, 5])
        #expect(try fold("Transpose", [], [m]).ints == t.ints)
        let c = ONNXConstant(dims: [1, 2, 3], floats: [0, 1, 2, 3, 4, 5])
        let u = try fold("Transpose", [Self.attr("perm", ints: [2, 0, 1])], [c])
        #expect(u.dims == [3, 1, 2] && u.floats == [0, 3, 1, 4, 2, 5])
        #expect(failure("Transpose", [Self.attr("perm", ints: [0, 0])], [m]) != nil)
        #expect(failure("Transpose", [Self.attr("perm", ints: [0, 1, 2])], [m]) != nil)
    }

    @Test("Cast: int64 ↔ float32 (truncation toward zero), int32 range; non-finite and unsupported types refused")
    func cast() throws {
        let toI64 = [Self.attr("to", int: 7)]
        let toF = [Self.attr("to", int: 1)]
        let toI32 = [Self.attr("to", int: 6)]
        #expect(try fold("Cast", toI64, [ONNXConstant(dims: [3], floats: [2.9, -2.9, 0])]).ints == [2, -2, 0])
        #expect(try fold("Cast", toF, [Self.ints([3, -1])]).floats == [3, -1])
        #expect(try fold("Cast", toI64, [Self.ints([5])]).ints == [5])
        #expect(failure("Cast", toI64, [ONNXConstant(dims: [1], floats: [.nan])]) != nil)
        #expect(failure("Cast", toI64, [ONNXConstant(dims: [1], floats: [.infinity])]) != nil)
        #expect(failure("Cast", toI32, [Self.ints([1 << 40])])?.contains("does not fit int32") == true)
        #expect(failure("Cast", [Self.attr("to", int: 9)], [Self.ints([1])])?.contains("element type 9") == true)
    }

    @Test("ConstantOfShape: default float 0, int64 value; huge and negative shapes refused")
    func constantOfShape() throws {
        let z = try fold("ConstantOfShape", [], [Self.ints([2, 3])])
        #expect(z.dims == [2, 3] && z.floats == [Float](repeating: 0, count: 6))
        var a = Onnx_AttributeProto()
        a.name = "value"
        a.type = .tensor
        a.t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        a.t.dims = [1]
        a.t.int64Data = [7]
        #expect(try fold("ConstantOfShape", [a], [Self.ints([4])]).ints == [7, 7, 7, 7])
        #expect(try fold("ConstantOfShape", [a], [Self.ints([0])]).ints == [])
        let huge = failure("ConstantOfShape", [], [Self.ints([1 << 20, 1 << 20])])
        #expect(huge?.contains("more than 1048576 elements") == true)
        #expect(failure("ConstantOfShape", [], [Self.ints([Int64.max, Int64.max])]) != nil)
        #expect(failure("ConstantOfShape", [], [Self.ints([-1])])?.contains("negative dimension") == true)
    }

    @Test("Unsqueeze and Squeeze: axes as input or attribute, negative axes; bad axes refused")
    func unsqueezeSqueeze() throws {
        let s = Self.ints([], [5])
        #expect(try fold("Unsqueeze", [], [s, Self.ints([0])]).dims == [1])
        #expect(
            try fold("Unsqueeze", [Self.attr("axes", ints: [0, -1])], [Self.ints([3], [1, 2, 3])]).dims == [1, 3, 1])
        #expect(failure("Unsqueeze", [], [s, Self.ints([0, 0])])?.contains("repeat") == true)
        #expect(failure("Unsqueeze", [], [s, Self.ints([2])]) != nil)
        #expect(failure("Unsqueeze", [], [s]) != nil)
        let x = Self.ints([1, 3, 1], [1, 2, 3])
        #expect(try fold("Squeeze", [], [x]).dims == [3])
        #expect(try fold("Squeeze", [], [x, Self.ints([-1])]).dims == [1, 3])
        #expect(failure("Squeeze", [], [x, Self.ints([1])])?.contains("extent 3") == true)
    }

    @Test(
        "Integer Add/Sub/Mul/Div with broadcasting; Div truncates; overflow and division by zero refused; float arithmetic not folded"
    )
    func arithmetic() throws {
        #expect(try fold("Add", [], [Self.ints([1, 2, 3]), Self.ints([], [10])]).ints == [11, 12, 13])
        #expect(try fold("Sub", [], [Self.ints([], [8]), Self.ints([1, 2])]).ints == [7, 6])
        let outer = try fold("Mul", [], [Self.ints([2, 1], [1, 2]), Self.ints([1, 3], [1, 10, 100])])
        #expect(outer.dims == [2, 3] && outer.ints == [1, 10, 100, 2, 20, 200])
        #expect(try fold("Div", [], [Self.ints([7, -7]), Self.ints([], [2])]).ints == [3, -3])
        #expect(failure("Div", [], [Self.ints([1]), Self.ints([0])])?.contains("division by zero") == true)
        #expect(failure("Div", [], [Self.ints([Int64.min]), Self.ints([-1])])?.contains("overflows") == true)
        #expect(failure("Add", [], [Self.ints([Int64.max]), Self.ints([1])])?.contains("overflows") == true)
        #expect(failure("Mul", [], [Self.ints([1 << 40]), Self.ints([1 << 40])])?.contains("overflows") == true)
        #expect(failure("Add", [], [Self.ints([1, 2]), Self.ints([1, 2, 3])])?.contains("do not broadcast") == true)
        let f = ONNXConstant(dims: [1], floats: [1])
        #expect(try ConstantFolding.evaluate(Self.node("Add"), [f, f]) == nil)
        #expect(failure("Mul", [], [Self.ints([1 << 11, 1], []), Self.ints([1, 1 << 11], [])]) != nil)
    }

    @Test("Range: positive and negative deltas, empty; delta 0 and huge ranges refused")
    func range() throws {
        let s = { (v: Int64) in Self.ints([], [v]) }
        #expect(try fold("Range", [], [s(0), s(5), s(2)]).ints == [0, 2, 4])
        #expect(try fold("Range", [], [s(5), s(0), s(-2)]).ints == [5, 3, 1])
        #expect(try fold("Range", [], [s(5), s(0), s(1)]).ints == [])
        #expect(failure("Range", [], [s(0), s(5), s(0)])?.contains("delta is 0") == true)
        #expect(failure("Range", [], [s(0), s(Int64.max), s(1)])?.contains("exceed") == true)
        #expect(failure("Range", [], [s(Int64.min), s(Int64.max), s(1)])?.contains("overflows") == true)
    }

    @Test("Folding never builds more than 2^20 elements: Transpose, Cast and Concat of a large constant are refused")
    func largeInputs() throws {
        let big = ONNXConstant(dims: [2048, 1024], floats: [Float](repeating: 0, count: 2048 * 1024))
        #expect(failure("Transpose", [], [big])?.contains("more than 1048576 elements") == true)
        #expect(failure("Cast", [Self.attr("to", int: 7)], [big])?.contains("more than 1048576 elements") == true)
        #expect(
            failure("Concat", [Self.attr("axis", int: 0)], [big, big])?.contains("more than 1048576 elements") == true)
        let row = try fold("Gather", [], [big, Self.ints([], [5])])
        #expect(row.dims == [1024])
    }

    // MARK: End to end

    /// PyTorch's export of `nn.ZeroPad2d((l, r, t, b))` (opset 13): the pads vector is built by
    /// ConstantOfShape, Concat, Reshape, a reversing Slice, Transpose, Reshape and Cast.
    static func torchPad(_ g: inout ONNXFusionTests.Graph, _ x: String, lrtb: [Int64]) -> String {
        var k = 0
        func int64(_ v: [Int64], dims: [Int64]? = nil) -> String {
            k += 1
            var t = Onnx_TensorProto()
            t.name = "pad_const\(k)_\(g.counter)"
            t.dims = dims ?? [Int64(v.count)]
            t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            t.int64Data = v
            g.initializers.append(t)
            return t.name
        }
        var zero = Onnx_AttributeProto()
        zero.name = "value"
        zero.type = .tensor
        zero.t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        zero.t.dims = [1]
        zero.t.int64Data = [0]
        let rest = g.node("ConstantOfShape", [int64([4])], [zero])
        let all = g.node("Concat", [int64(lrtb), rest], [ConstantFoldingTests.attr("axis", int: 0)])
        let pairs = g.node("Reshape", [all, int64([-1, 2])])
        let rev = g.node("Slice", [pairs, int64([-1]), int64([Int64.min + 1]), int64([0]), int64([-1])])
        let t = g.node("Transpose", [rev], [ConstantFoldingTests.attr("perm", ints: [1, 0])])
        let flat = g.node("Cast", [g.node("Reshape", [t, int64([-1])])], [ConstantFoldingTests.attr("to", int: 7)])
        return g.node("Pad", [x, flat])
    }

    @Test(
        "PyTorch's ZeroPad2d subgraph folds to constant pads, and the Pad into the following convolutions (stem and depthwise, asymmetric TF-SAME)"
    )
    func torchPadIntoConv() throws {
        // Reference: the same convolutions with the padding as their own pads.
        var ref = ONNXFusionTests.Graph()
        let a = ref.node(
            "Conv", ["x", ref.tensor([8, 3, 3, 3])],
            [
                ONNXFusionTests.Graph.ints("pads", [0, 0, 1, 1]), ONNXFusionTests.Graph.ints("strides", [2, 2]),
                ONNXFusionTests.Graph.int("group", 1),
            ])
        let b = ref.node(
            "Conv", [a, ref.tensor([8, 1, 5, 5])],
            [
                ONNXFusionTests.Graph.ints("pads", [1, 2, 3, 2]), ONNXFusionTests.Graph.ints("strides", [2, 2]),
                ONNXFusionTests.Graph.int("group", 8),
            ])
        let out = ref.node("Relu", [b])
        // The exported form: each convolution reads a ZeroPad2d; the depthwise one also pads itself.
        var g = ref
        g.nodes = []
        let p1 = Self.torchPad(&g, "x", lrtb: [0, 1, 0, 1])
        var c1 = ref.nodes[0]
        c1.input[0] = p1
        c1.attribute[0] = ONNXFusionTests.Graph.ints("pads", [0, 0, 0, 0])
        g.nodes.append(c1)
        let p2 = Self.torchPad(&g, a, lrtb: [1, 1, 0, 2])
        var c2 = ref.nodes[1]
        c2.input[0] = p2
        c2.attribute[0] = ONNXFusionTests.Graph.ints("pads", [1, 1, 1, 1])
        g.nodes.append(c2)
        g.nodes.append(ref.nodes[2])

        let data = try g.model(input: [3, 11, 12], output: out).serializedData()
        let (bytes, summary) = try ONNXImporter(data: data, options: ImportOptions()).importModel()
        #expect(summary.foldedPads == 2 && summary.loweredPads == 0)
        #expect(summary.foldedConstants == 14, "7 folded nodes per ZeroPad2d")
        let model = try Model(bytes: bytes)
        #expect(model.layers.count == 2 && model.layers.allSatisfy { $0.kernel.hasPrefix("conv") })
        var rng = ONNXFusionTests.Random(state: 5)
        let x = rng.array(3 * 11 * 12)
        let y = try Session(model: model, options: SessionOptions(useWinograd: false)).run(x)
        let (want, shape) = ref.evaluate(x.map(Double.init), shape: [3, 11, 12])
        #expect(shape == [8, 3, 3])
        try #require(y.count == want.count)
        let maxY = want.map(abs).max() ?? 0
        let maxDiff = zip(y, want).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(maxDiff <= 1e-4 * (1 + maxY), "max|Δ| \(maxDiff), max|y| \(maxY)")
    }

    @Test(
        "A Pad read by a non-convolution stays an identity convolution; a Gather outside its input is refused by name")
    func padFallbackAndRefusal() throws {
        var g = ONNXFusionTests.Graph()
        let p = Self.torchPad(&g, "x", lrtb: [1, 1, 1, 1])
        let c = g.node(
            "Conv", [p, g.tensor([4, 4, 3, 3])],
            [
                ONNXFusionTests.Graph.ints("pads", [1, 1, 1, 1]),
                ONNXFusionTests.Graph.ints("strides", [1, 1]),
                ONNXFusionTests.Graph.int("group", 1),
            ])
        let y = g.node("Add", [c, g.node("Relu", [p])])
        let data = try g.model(input: [4, 6, 6], output: y).serializedData()
        let (_, summary) = try ONNXImporter(data: data, options: ImportOptions()).importModel()
        #expect(summary.foldedPads == 1 && summary.loweredPads == 1)

        var h = ONNXFusionTests.Graph()
        var t = Onnx_TensorProto()
        t.name = "idx"
        t.dims = [1]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = [9]
        h.initializers.append(t)
        let s = h.node("Shape", ["x"])
        let bad = h.node("Gather", [s, "idx"])
        let out = h.node("Reshape", ["x", bad])
        let m = try h.model(input: [4, 6, 6], output: out).serializedData()
        do {
            _ = try ONNXImporter(data: m, options: ImportOptions()).importModel()
            Issue.record("imported a Gather with index 9 of a rank-4 shape")
        } catch {
            #expect(error.message.contains("(Gather): index 9 is out of range"), "\(error.message)")
        }
    }
}
