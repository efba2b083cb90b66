import ACNetWriter
import ACRuntime
import Testing

/// Hostile and corrupt model files: every failure is a specific status, never a crash or an
/// out-of-bounds read (the suite also runs under AddressSanitizer: scripts/sanitize.sh).
@Suite("Malformed model files")
struct MalformedModelTests {
    /// A small valid model touching most tables: conv, pool, flatten, linear, labels.
    static let valid: [UInt8] = {
        var rng = SeededRNG(seed: 5)
        var b = ModelBuilder(
            inputChannels: 1, height: 6, width: 6,
            inputSpec: InputSpec(channelOrder: .gray, mean: [0.5], std: [0.25]), labels: ["a", "b", "c"])
        let x = try! b.conv2d(
            b.input, weight: randomArray(4 * 9, &rng), bias: randomArray(4, &rng), outputChannels: 4,
            kernelSize: (3, 3), padding: .symmetric(1), activation: .relu)
        let p = try! b.maxPool(x, kernelSize: (2, 2), stride: (2, 2))
        let y = try! b.linear(try! b.flatten(p), weight: randomArray(3 * 36, &rng), bias: nil, outputFeatures: 3)
        return try! b.serialize(output: y)
    }()

    func load(_ bytes: [UInt8]) -> ACNetStatus {
        do {
            let m = try Model(bytes: bytes)
            let s = try Session(model: m, options: SessionOptions(maxBatch: 1))
            _ = try s.run([Float](repeating: 0.5, count: m.inputElementCount))
            return .ok
        } catch {
            return error.status
        }
    }

    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        let v = ACNBFormat.checksum(of: b)
        for k in 0..<4 { b[ACNBFormat.Header.checksum + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
        return b
    }

    func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
    }

    func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for k in 0..<8 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
    }

    @Test("the valid model loads and runs")
    func validLoads() {
        #expect(load(Self.valid) == .ok)
    }

    /// A subnormal std (1e-45) made every normalised input ±∞ and every output NaN; it is
    /// refused at load like zero, negative and non-finite ones.
    @Test(
        "an input-spec std that is not a normal positive number is refused at load",
        arguments: [Float(1e-45), 0, -0.25, .nan, .infinity, .leastNormalMagnitude / 2])
    func inputSpecStd(std: Float) {
        var b = Self.valid
        put32(&b, ACNBFormat.Header.std, std.bitPattern)
        #expect(load(resealed(b)) == .badFormat)
    }

    @Test("truncation at every byte is a format error")
    func truncation() {
        for n in 1..<Self.valid.count {
            #expect(load(Array(Self.valid.prefix(n))) == .badFormat, "truncated to \(n) bytes")
        }
        #expect(load([]) == .invalidArgument)
    }

    @Test("an unresealed byte flip is a checksum mismatch (or the field's own status)")
    func unresealedFlips() {
        let v = Self.valid
        for i in 0..<v.count {
            var b = v
            b[i] ^= 0x5A
            let status = load(b)
            switch i {
            case 0..<8: #expect(status == .badFormat)
            case 8..<16: #expect(status == .unsupportedVersion)
            case 16..<24, 28..<32: #expect(status == .badFormat)
            default: #expect(status == .checksumMismatch, "byte \(i)")
            }
        }
    }

    @Test("every header and table byte flipped, checksum recomputed: never a crash")
    func resealedFlips() {
        let v = Self.valid
        let tablesEnd = Int(v[ACNBFormat.Header.stringTableOffset]) + 8
        var statuses: [ACNetStatus: Int] = [:]
        for i in 0..<min(tablesEnd, v.count) where !(24..<28).contains(i) {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var b = v
                b[i] ^= mask
                statuses[load(resealed(b)), default: 0] += 1
            }
        }
        // The validator itself judged every mutation (never the checksum); most are refused.
        #expect(statuses[.checksumMismatch] == nil)
        let refused = statuses.filter { $0.key != .ok }.values.reduce(0, +)
        let total = statuses.values.reduce(0, +)
        #expect(refused * 2 > total, "statuses: \(statuses)")
    }

    @Test("wrong version and kernel layout are unsupported versions")
    func versions() {
        var b = Self.valid
        put32(&b, ACNBFormat.Header.version, 3)
        #expect(load(resealed(b)) == .unsupportedVersion)
        b = Self.valid
        put32(&b, ACNBFormat.Header.kernelLayout, 7)
        #expect(load(resealed(b)) == .unsupportedVersion)
    }

    @Test(
        "huge and hostile counts, offsets and dimensions", arguments: [UInt64(0), UInt64(UInt32.max), 1 << 31, 1 << 63])
    func hostileFields(_ value: UInt64) {
        let H = ACNBFormat.Header.self
        let E = ACNBFormat.TensorEntry.self
        let tensorTable = Int(Self.valid[H.tensorTableOffset])
        var fields32 = [H.tensorCount, H.opCount, H.labelCount, H.inputTensor, H.outputTensor]
        for t in 0..<4 {
            for d in 0..<4 { fields32.append(tensorTable + t * ACNBFormat.tensorEntrySize + E.dims + 4 * d) }
        }
        for f in fields32 {
            var b = Self.valid
            put32(&b, f, UInt32(truncatingIfNeeded: value))
            guard b != Self.valid, !(f == H.labelCount && UInt32(truncatingIfNeeded: value) == 0) else { continue }
            let s = load(resealed(b))
            #expect(s != .ok, "field at \(f) = \(value)")
        }
        var fields64 = [
            H.tensorTableOffset, H.opTableOffset, H.stringTableOffset, H.stringTableSize, H.labelTableOffset,
        ]
        for t in 0..<6 { fields64.append(tensorTable + t * ACNBFormat.tensorEntrySize + E.dataOffset) }
        for f in fields64 {
            var b = Self.valid
            put64(&b, f, value)
            #expect(load(resealed(b)) != .checksumMismatch, "field at \(f)")
        }
    }

    @Test("misaligned memory is refused, never copied")
    func misaligned() throws {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Self.valid.count + 64, alignment: 64)
        defer { raw.deallocate() }
        Self.valid.withUnsafeBytes { (raw + 1).copyMemory(from: $0.baseAddress!, byteCount: Self.valid.count) }
        #expect(throws: ACNetError.self) {
            try Model(borrowing: UnsafeRawBufferPointer(start: raw + 1, count: Self.valid.count))
        }
        do {
            _ = try Model(borrowing: UnsafeRawBufferPointer(start: raw + 1, count: Self.valid.count))
        } catch {
            #expect(error.status == .misaligned)
        }
    }
}
