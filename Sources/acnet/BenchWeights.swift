import ACNetWriter
import Foundation

/// Reads the layer parameters that bench/onnx_weights.py extracts from a gen_models.py ONNX
/// model: a safetensors file (8-byte little-endian header length, JSON header, raw data) whose
/// tensors are named "NNN.weight" / "NNN.bias" for layer NNN in graph order, F32 only, and whose
/// metadata holds "format": "acnet-bench-weights-1", "model" and "layers" (a JSON list of the
/// ONNX node names, for messages). Anything else is an error.
enum BenchWeights {
    static func load(_ path: String) throws -> (model: String, layers: [BenchmarkModels.LayerParameters]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
        let bytes = [UInt8](data)
        func fail(_ m: String) -> CLIError { CLIError("\(path): \(m)") }
        guard bytes.count >= 8 else { throw fail("too short for a safetensors file") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(bytes.count - 8) else { throw fail("header length \(n) exceeds the file") }
        let base = 8 + Int(n)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<base])) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let meta = header["__metadata__"] as? [String: String] ?? [:]
        guard meta["format"] == "acnet-bench-weights-1" else {
            throw fail("not written by bench/onnx_weights.py (metadata format \(meta["format"] ?? "missing"))")
        }
        let names =
            (meta["layers"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String]) ?? []
        func tensor(_ key: String) throws -> (shape: [Int], values: [Float]) {
            guard let e = header[key] as? [String: Any] else { throw fail("missing tensor '\(key)'") }
            guard e["dtype"] as? String == "F32" else {
                throw fail("'\(key)': dtype \(e["dtype"] ?? "?"), expected F32")
            }
            guard let shape = e["shape"] as? [Int], let off = e["data_offsets"] as? [Int], off.count == 2,
                shape.allSatisfy({ $0 >= 1 }), off[0] >= 0, off[0] <= off[1], base + off[1] <= bytes.count
            else { throw fail("'\(key)': bad shape or data_offsets") }
            let count = shape.reduce(1, *)
            guard off[1] - off[0] == 4 * count else {
                throw fail("'\(key)': \(off[1] - off[0]) bytes for shape \(shape)")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(base + off[0])..<(base + off[1])]))
                }
            }
            return (shape, values)  // little-endian hosts only (x86_64, aarch64)
        }
        let keys = header.keys.filter { $0 != "__metadata__" }
        let count = keys.count / 2
        guard keys.count % 2 == 0,
            Set(keys)
                == Set(
                    (0..<count).flatMap { i in
                        [String(format: "%03d.weight", i), String(format: "%03d.bias", i)]
                    })
        else { throw fail("tensors must be named 000.weight, 000.bias, 001.weight, ... without gaps") }
        var layers = [BenchmarkModels.LayerParameters]()
        for i in 0..<count {
            let w = try tensor(String(format: "%03d.weight", i))
            let b = try tensor(String(format: "%03d.bias", i))
            guard b.shape.count == 1 else { throw fail(String(format: "%03d.bias is not a vector", i)) }
            layers.append(
                .init(
                    name: i < names.count ? names[i] : "layer \(i)", weightShape: w.shape,
                    weight: w.values, bias: b.values))
        }
        return (meta["model"] ?? "?", layers)
    }
}
