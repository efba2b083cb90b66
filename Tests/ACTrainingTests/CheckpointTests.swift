import Foundation
import Testing

@testable import ACTraining

@Suite("Safetensors")
struct SafeTensorsTests {
    @Test func roundTrip() throws {
        var f = SafeTensors()
        f.setFloats("conv.weight", shape: [2, 1, 3, 3], (0..<18).map { Float($0) * 0.5 - 3 })
        f.setFloats("scalar", shape: [], [Float.pi])
        f.setInt64s("counts", [1, -2, 1 << 40])
        f.metadata = ["epoch": "3", "note": "α β"]
        let bytes = f.serialized()
        let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(n % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let w = header["conv.weight"] as! [String: Any]
        #expect(w["dtype"] as? String == "F32" && w["shape"] as? [Int] == [2, 1, 3, 3])
        let g = try SafeTensors(bytes: bytes)
        #expect(g.tensors == f.tensors && g.metadata == f.metadata)
        #expect(try g.floats("conv.weight").values == (0..<18).map { Float($0) * 0.5 - 3 })
        #expect(try g.int64s("counts") == [1, -2, 1 << 40])
        #expect(throws: CheckpointError.missingKey("nope")) { try g.floats("nope") }
    }

    @Test func atomicWriteReplacesFile() throws {
        let dir = temporaryDirectory("st")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var f = SafeTensors()
        f.setFloats("a", shape: [1], [1])
        try f.write(toFile: dir + "/x.safetensors")
        f.setFloats("a", shape: [1], [2])
        try f.write(toFile: dir + "/x.safetensors")
        #expect(try SafeTensors(contentsOfFile: dir + "/x.safetensors").floats("a").values == [2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.safetensors"])
    }

    @Test func rejectsCorruptFiles() throws {
        var f = SafeTensors()
        f.setFloats("a", shape: [4], [1, 2, 3, 4])
        let good = f.serialized()
        let cases: [[UInt8]] = [
            [1, 2, 3],
            Array(good.prefix(good.count - 1)),  // data truncated
            [255, 255, 255, 255, 0, 0, 0, 0] + good.dropFirst(8),  // header length too large
            Array(good.prefix(8)) + [UInt8](repeating: 0x7b, count: good.count - 8),  // bad JSON
        ]
        for bytes in cases {
            #expect(throws: CheckpointError.self) { try SafeTensors(bytes: bytes) }
        }
        func withHeader(_ json: String, data: Int) -> [UInt8] {
            var h = [UInt8](json.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            return withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h
                + [UInt8](repeating: 0, count: data)
        }
        let bad = [
            #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"Q9","shape":[4],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            #"{"__metadata__":{"x":1}}"#,
        ]
        for json in bad {
            #expect(throws: CheckpointError.self, "\(json)") { try SafeTensors(bytes: withHeader(json, data: 16)) }
        }
    }
}
