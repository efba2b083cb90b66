import Foundation
import SwiftProtobuf

/// Why an ONNX file cannot be imported: unreadable or malformed input, or a node the runtime
/// cannot compute exactly. `description` names the node (its name, op type) and the reason.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// A refusal naming the node, its op type and why.
    static func node(_ n: ONNXNode, _ reason: String) -> ImportError {
        ImportError("node '\(n.name)' (\(n.opType)): \(reason)")
    }
}

/// A constant tensor of the graph (initializer or `Constant` node), converted to float32 or
/// int64. `dims` as in ONNX (row-major).
struct ONNXConstant {
    var dims: [Int]
    var floats: [Float]?
    var ints: [Int64]?
    var count: Int { dims.reduce(1, *) }
}

/// One node with its attributes decoded.
struct ONNXNode {
    var name: String
    var opType: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: Onnx_AttributeProto]

    func int(_ key: String, default d: Int) throws(ImportError) -> Int {
        guard let a = attributes[key] else { return d }
        guard a.type == .int || (a.type == .undefined && a.hasI) else {
            throw ImportError.node(self, "attribute '\(key)' must be an integer")
        }
        guard a.i >= -(1 << 40), a.i <= 1 << 40 else { throw ImportError.node(self, "attribute '\(key)' out of range") }
        return Int(a.i)
    }

    func ints(_ key: String) throws(ImportError) -> [Int]? {
        guard let a = attributes[key] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else {
            throw ImportError.node(self, "attribute '\(key)' must be a list of integers")
        }
        var out = [Int]()
        for v in a.ints {
            guard v >= -(1 << 40), v <= 1 << 40 else {
                throw ImportError.node(self, "attribute '\(key)' value \(v) out of range")
            }
            out.append(Int(v))
        }
        return out
    }

    func float(_ key: String, default d: Float) throws(ImportError) -> Float {
        guard let a = attributes[key] else { return d }
        guard a.type == .float || (a.type == .undefined && a.hasF) else {
            throw ImportError.node(self, "attribute '\(key)' must be a float")
        }
        return a.f
    }

    func string(_ key: String, default d: String) throws(ImportError) -> String {
        guard let a = attributes[key] else { return d }
        guard a.type == .string || (a.type == .undefined && a.hasS) else {
            throw ImportError.node(self, "attribute '\(key)' must be a string")
        }
        return String(decoding: a.s, as: UTF8.self)
    }
}

/// A parsed, validated ONNX graph: nodes in a topological order, constants, the image input.
struct ONNXGraph {
    var nodes: [ONNXNode]
    var constants: [String: ONNXConstant]
    var inputName: String
    /// The input's declared dims; nil entries are symbolic (dim_param) or absent.
    var inputDims: [Int?]
    var outputName: String
    /// How many nodes (and graph outputs) read each value.
    var useCounts: [String: Int]

    /// Largest tensor this importer accepts (elements), so hostile dims cannot make it allocate
    /// without bound.
    static let maxElements = 1 << 28
    /// Largest ONNX file read.
    static let maxFileBytes = 1 << 31

    init(contentsOfFile path: String) throws(ImportError) {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch { throw ImportError("cannot read \(path): \(error.localizedDescription)") }
        guard size <= ONNXGraph.maxFileBytes else {
            throw ImportError("\(path): \(size) bytes is larger than the 2 GiB protobuf limit")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImportError("cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(data: data, source: path)
    }

    init(data: Data, source: String = "ONNX model") throws(ImportError) {
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, extensions: nil, partial: true, options: options)
        } catch {
            throw ImportError("\(source) is not a valid ONNX protobuf (\(error)); truncated or not an .onnx file?")
        }
        try self.init(model: model, source: source)
    }

    init(model: Onnx_ModelProto, source: String = "ONNX model") throws(ImportError) {
        guard model.hasGraph else { throw ImportError("\(source): the model has no graph") }
        for op in model.opsetImport where op.domain != "" && op.domain != "ai.onnx" {
            _ = op  // other domains are fine as long as no node uses them (checked below)
        }
        let g = model.graph
        guard g.sparseInitializer.isEmpty else { throw ImportError("\(source): sparse initializers are not supported") }
        var constants = [String: ONNXConstant]()
        for t in g.initializer {
            constants[t.name] = try ONNXGraph.constant(t, what: "initializer '\(t.name)'")
        }
        // The image input: the one graph input that is not an initializer.
        let inputs = g.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ImportError(
                "\(source): expected exactly one graph input (besides initializers), found \(inputs.map(\.name))")
        }
        inputName = input.name
        if case .tensorType(let tt)? = input.type.value {
            guard tt.elemType == Onnx_TensorProto.DataType.float.rawValue else {
                throw ImportError("input '\(input.name)': element type \(tt.elemType) is not float32")
            }
            inputDims = tt.shape.dim.map { d in
                if case .dimValue(let v)? = d.value, v >= 1, v <= 1 << 20 { return Int(v) }
                return nil
            }
        } else {
            inputDims = []
        }
        guard g.output.count == 1 else {
            throw ImportError("\(source): expected one graph output, found \(g.output.count) (\(g.output.map(\.name)))")
        }
        outputName = g.output[0].name

        // Nodes: decode, then order topologically (Kahn), refusing cycles and dangling inputs.
        var decoded = [ONNXNode]()
        for (i, n) in g.node.enumerated() {
            var attrs = [String: Onnx_AttributeProto]()
            for a in n.attribute { attrs[a.name] = a }
            let node = ONNXNode(
                name: n.name.isEmpty ? "#\(i)" : n.name, opType: n.opType, inputs: n.input,
                outputs: n.output, attributes: attrs)
            guard n.domain == "" || n.domain == "ai.onnx" else {
                throw ImportError.node(
                    node, "operator domain '\(n.domain)' is not supported (only the default ONNX domain)")
            }
            decoded.append(node)
        }
        var producer = [String: Int]()
        for (i, n) in decoded.enumerated() {
            for o in n.outputs where !o.isEmpty {
                guard producer[o] == nil, constants[o] == nil, o != inputName else {
                    throw ImportError.node(n, "value '\(o)' is produced more than once")
                }
                producer[o] = i
            }
        }
        var indegree = [Int](repeating: 0, count: decoded.count)
        var consumers = [[Int]](repeating: [], count: decoded.count)
        var uses = [String: Int]()
        for (i, n) in decoded.enumerated() {
            for x in n.inputs where !x.isEmpty {
                uses[x, default: 0] += 1
                if let p = producer[x] {
                    indegree[i] += 1
                    consumers[p].append(i)
                } else if constants[x] == nil && x != inputName {
                    throw ImportError.node(
                        n,
                        "input '\(x)' is not produced by any node, an initializer or the graph input (missing initializer?)"
                    )
                }
            }
        }
        uses[outputName, default: 0] += 1
        guard producer[outputName] != nil else {
            throw ImportError("\(source): graph output '\(outputName)' is not produced by any node")
        }
        var ready = (0..<decoded.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order = [Int]()
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c) }
            }
        }
        guard order.count == decoded.count else {
            let stuck = (0..<decoded.count).first { indegree[$0] > 0 }!
            throw ImportError.node(decoded[stuck], "the graph has a cycle through this node")
        }
        nodes = order.map { decoded[$0] }
        self.constants = constants
        useCounts = uses
    }

    /// Converts a TensorProto to float32 or int64 values, checking sizes; external data and
    /// other element types are refused.
    static func constant(_ t: Onnx_TensorProto, what: String) throws(ImportError) -> ONNXConstant {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw ImportError(
                "\(what): stored as external data; only self-contained .onnx files are supported (save with onnx.save(model, path, save_as_external_data=False))"
            )
        }
        var dims = [Int]()
        var count = 1
        for d in t.dims {
            guard d >= 0, d <= 1 << 30 else { throw ImportError("\(what): dimension \(d) out of range") }
            let (p, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, p <= maxElements else { throw ImportError("\(what): \(t.dims) has too many elements") }
            count = p
            dims.append(Int(d))
        }
        let raw = t.rawData
        switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
        case .float?:
            if !raw.isEmpty {
                guard raw.count == count * 4 else {
                    throw ImportError("\(what): raw_data has \(raw.count) bytes, \(t.dims) needs \(count * 4)")
                }
                var v = [Float](repeating: 0, count: count)
                v.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { src in dst.copyMemory(from: src) } }
                return ONNXConstant(
                    dims: dims, floats: v.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
            }
            guard t.floatData.count == count else {
                throw ImportError("\(what): \(t.floatData.count) float values, \(t.dims) needs \(count)")
            }
            return ONNXConstant(dims: dims, floats: t.floatData)
        case .int64?:
            if !raw.isEmpty {
                guard raw.count == count * 8 else {
                    throw ImportError("\(what): raw_data has \(raw.count) bytes, \(t.dims) needs \(count * 8)")
                }
                var v = [Int64](repeating: 0, count: count)
                v.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { src in dst.copyMemory(from: src) } }
                return ONNXConstant(dims: dims, ints: v.map { Int64(littleEndian: $0) })
            }
            guard t.int64Data.count == count else {
                throw ImportError("\(what): \(t.int64Data.count) int64 values, \(t.dims) needs \(count)")
            }
            return ONNXConstant(dims: dims, ints: t.int64Data)
        case .int32?:
            if !raw.isEmpty {
                guard raw.count == count * 4 else {
                    throw ImportError("\(what): raw_data has \(raw.count) bytes, \(t.dims) needs \(count * 4)")
                }
                var v = [Int32](repeating: 0, count: count)
                v.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { src in dst.copyMemory(from: src) } }
                return ONNXConstant(dims: dims, ints: v.map { Int64(Int32(littleEndian: $0)) })
            }
            guard t.int32Data.count == count else {
                throw ImportError("\(what): \(t.int32Data.count) int32 values, \(t.dims) needs \(count)")
            }
            return ONNXConstant(dims: dims, ints: t.int32Data.map(Int64.init))
        default:
            throw ImportError("\(what): element type \(t.dataType) is not supported (float32, int64 or int32)")
        }
    }
}
