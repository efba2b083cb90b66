import ACNetWriter
import ACRuntime
import Foundation
import Testing

/// The structured corruption matrix (issue 6): for each small valid model of HostileModels,
/// every count, offset, index and dimension field of the header, the tensor table, the op
/// table and the label table is set to 0, −1, 2^31 and 2^63 (32-bit fields: 0, 0xFFFFFFFF,
/// 2^31 and 2^31 − 1) with the checksum recomputed, plus hand-made structural corruptions
/// (misaligned and overlapping constants, use before write, cycles, unknown op codes, future
/// versions). Every case must end in a specific status — never a crash, never the checksum,
/// never an out-of-bounds read (the suite runs under AddressSanitizer in scripts/sanitize.sh).
@Suite("Corruption matrix")
struct CorruptionMatrixTests {
    typealias H = ACNBFormat.Header
    typealias T = ACNBFormat.TensorEntry
    typealias O = ACNBFormat.OpEntry

    enum Width { case u32, u64 }
    struct Field {
        var name: String
        var offset: Int
        var width: Width
        /// Statuses this field may legitimately produce; `.ok` only where a value is valid.
        var allowed: Set<ACNetStatus>
    }

    static let formatErrors: Set<ACNetStatus> = [.badFormat, .unsupportedOp]

    /// Every count, offset, index and dimension field of `b`, with the statuses it may give.
    static func fields(_ b: [UInt8]) -> [Field] {
        var f: [Field] = [
            Field(name: "version", offset: H.version, width: .u32, allowed: [.unsupportedVersion]),
            Field(name: "kernel layout", offset: H.kernelLayout, width: .u32, allowed: [.unsupportedVersion]),
            Field(name: "file size", offset: H.fileSize, width: .u64, allowed: [.badFormat]),
            Field(name: "header size", offset: H.headerSize, width: .u32, allowed: [.badFormat]),
            Field(name: "tensor count", offset: H.tensorCount, width: .u32, allowed: [.badFormat]),
            Field(name: "op count", offset: H.opCount, width: .u32, allowed: [.badFormat]),
            Field(name: "tensor table offset", offset: H.tensorTableOffset, width: .u64, allowed: [.badFormat]),
            Field(name: "op table offset", offset: H.opTableOffset, width: .u64, allowed: [.badFormat]),
            // An empty string table may sit anywhere, even at 0.
            Field(
                name: "string table offset", offset: H.stringTableOffset, width: .u64,
                allowed: HostileModels.u64(b, H.stringTableSize) == 0 ? [.ok, .badFormat] : [.badFormat]),
            Field(name: "string table size", offset: H.stringTableSize, width: .u64, allowed: [.badFormat]),
            Field(name: "label count", offset: H.labelCount, width: .u32, allowed: [.badFormat]),
            Field(name: "label table offset", offset: H.labelTableOffset, width: .u64, allowed: [.badFormat]),
            Field(name: "input tensor", offset: H.inputTensor, width: .u32, allowed: formatErrors),
            Field(name: "output tensor", offset: H.outputTensor, width: .u32, allowed: [.badFormat]),
            Field(name: "channel order", offset: H.channelOrder, width: .u32, allowed: [.badFormat]),
        ]
        let tensorTable = Int(HostileModels.u64(b, H.tensorTableOffset))
        let tensorCount = Int(HostileModels.u32(b, H.tensorCount))
        for t in 0..<tensorCount {
            let e = tensorTable + t * ACNBFormat.tensorEntrySize
            f.append(Field(name: "tensor \(t) kind", offset: e + T.kind, width: .u32, allowed: [.badFormat]))
            f.append(Field(name: "tensor \(t) dtype", offset: e + T.dtype, width: .u32, allowed: [.unsupportedOp]))
            f.append(Field(name: "tensor \(t) rank", offset: e + T.rank, width: .u32, allowed: formatErrors))
            f.append(Field(name: "tensor \(t) name", offset: e + T.name, width: .u32, allowed: [.ok, .badFormat]))
            for d in 0..<4 {
                f.append(
                    Field(name: "tensor \(t) dim \(d)", offset: e + T.dims + 4 * d, width: .u32, allowed: formatErrors))
            }
            f.append(
                Field(name: "tensor \(t) data offset", offset: e + T.dataOffset, width: .u64, allowed: [.badFormat]))
            f.append(Field(name: "tensor \(t) data size", offset: e + T.dataSize, width: .u64, allowed: [.badFormat]))
            f.append(Field(name: "tensor \(t) packing", offset: e + T.packing, width: .u32, allowed: formatErrors))
        }
        let opTable = Int(HostileModels.u64(b, H.opTableOffset))
        let opCount = Int(HostileModels.u32(b, H.opCount))
        for i in 0..<opCount {
            let e = opTable + i * ACNBFormat.opEntrySize
            f.append(Field(name: "op \(i) code", offset: e + O.opcode, width: .u32, allowed: [.unsupportedOp]))
            f.append(Field(name: "op \(i) input count", offset: e + O.inputCount, width: .u32, allowed: formatErrors))
            for k in 0..<4 {
                // Tensor 0 is the model input, which may fit where another tensor was read.
                f.append(
                    Field(
                        name: "op \(i) input \(k)", offset: e + O.inputs + 4 * k, width: .u32,
                        allowed: formatErrors.union(HostileModels.u32(b, H.inputTensor) == 0 ? [.ok] : [])))
            }
            f.append(Field(name: "op \(i) output", offset: e + O.output, width: .u32, allowed: [.badFormat]))
            f.append(Field(name: "op \(i) weight", offset: e + O.weight, width: .u32, allowed: formatErrors))
            f.append(Field(name: "op \(i) bias", offset: e + O.bias, width: .u32, allowed: formatErrors))
            // Version 2: dropping an op's Winograd weights (none) leaves a valid file.
            f.append(
                Field(
                    name: "op \(i) winograd weight", offset: e + O.winogradWeight, width: .u32,
                    allowed: formatErrors.union(HostileModels.u32(b, H.version) >= 2 ? [.ok] : [])))
            for k in 0..<ACNBFormat.paramCount {
                f.append(
                    Field(name: "op \(i) param \(k)", offset: e + O.params + 4 * k, width: .u32, allowed: formatErrors))
            }
        }
        let labelTable = Int(HostileModels.u64(b, H.labelTableOffset))
        for i in 0..<Int(HostileModels.u32(b, H.labelCount)) {
            // 0 is a valid string offset (the first label), the others lie outside the table.
            f.append(Field(name: "label \(i)", offset: labelTable + 4 * i, width: .u32, allowed: [.ok, .badFormat]))
        }
        return f
    }

    static let values32: [UInt32] = [0, 0xFFFF_FFFF, 1 << 31, (1 << 31) - 1]
    static let values64: [UInt64] = [0, UInt64.max, 1 << 31, 1 << 63]

    struct Outcome {
        var cases = 0
        var statuses: [ACNetStatus: Int] = [:]
        var failures: [String] = []
    }

    static func runMatrix(_ base: [UInt8]) -> Outcome {
        var outcome = Outcome()
        for field in fields(base) {
            let values: [UInt64] = field.width == .u32 ? values32.map(UInt64.init) : values64
            for v in values {
                var b = base
                if field.width == .u32 {
                    HostileModels.put32(&b, field.offset, UInt32(v))
                } else {
                    HostileModels.put64(&b, field.offset, v)
                }
                guard b != base else { continue }  // the field already held this value
                let status = HostileModels.loadAndRun(HostileModels.resealed(b))
                outcome.cases += 1
                outcome.statuses[status, default: 0] += 1
                // A parameter set to 0 can describe another valid op (no activation, no ceil mode).
                let zeroParam = v == 0 && field.name.contains("param") && status == .ok
                if !field.allowed.contains(status) && !zeroParam {
                    outcome.failures.append("\(field.name) = \(v): \(status.name)")
                }
            }
        }
        return outcome
    }

    @Test(
        "every field × {0, −1, 2^31, 2^63}: a specific status, never a crash",
        arguments: ["classifier", "branches", "featuremap", "raw"])
    func fieldMatrix(_ name: String) throws {
        let base = try #require(try HostileModels.all().first { $0.name == name }).bytes
        #expect(HostileModels.loadAndRun(base) == .ok)
        let outcome = Self.runMatrix(base)
        #expect(outcome.cases > 200)
        #expect(
            outcome.failures.isEmpty, "\(outcome.failures.count) of \(outcome.cases): \(outcome.failures.prefix(30))")
        #expect(outcome.statuses[.checksumMismatch] == nil)
        print(
            "corruption matrix \(name): \(outcome.cases) cases, statuses \(outcome.statuses.map { "\($0.key.name)=\($0.value)" }.sorted())"
        )
    }

    // MARK: Structural corruptions

    struct Layout {
        var bytes: [UInt8]
        var tensorTable: Int, opTable: Int, opCount: Int, tensorCount: Int
        init(_ b: [UInt8]) {
            bytes = b
            tensorTable = Int(HostileModels.u64(b, H.tensorTableOffset))
            opTable = Int(HostileModels.u64(b, H.opTableOffset))
            opCount = Int(HostileModels.u32(b, H.opCount))
            tensorCount = Int(HostileModels.u32(b, H.tensorCount))
        }
        func tensor(_ t: Int) -> Int { tensorTable + t * ACNBFormat.tensorEntrySize }
        func op(_ i: Int) -> Int { opTable + i * ACNBFormat.opEntrySize }
        func isConstant(_ t: Int) -> Bool {
            HostileModels.u32(bytes, tensor(t) + T.kind) == TensorKind.constant.rawValue
        }
        var constants: [Int] { (0..<tensorCount).filter(isConstant) }
        func output(of i: Int) -> UInt32 { HostileModels.u32(bytes, op(i) + O.output) }
        func input(of i: Int, _ k: Int = 0) -> UInt32 { HostileModels.u32(bytes, op(i) + O.inputs + 4 * k) }
    }

    func status(_ b: [UInt8]) -> ACNetStatus { HostileModels.loadAndRun(HostileModels.resealed(b)) }

    @Test("misaligned constant offsets are format errors", arguments: ["classifier", "branches", "featuremap", "raw"])
    func misalignedConstants(_ name: String) throws {
        let base = try #require(try HostileModels.all().first { $0.name == name }).bytes
        let l = Layout(base)
        for t in l.constants {
            for delta: UInt64 in [1, 4, 32] {
                var b = base
                let at = l.tensor(t) + T.dataOffset
                HostileModels.put64(&b, at, HostileModels.u64(b, at) + delta)
                #expect(status(b) == .badFormat, "tensor \(t) offset + \(delta)")
            }
        }
    }

    @Test("overlapping constants are format errors", arguments: ["classifier", "branches", "featuremap", "raw"])
    func overlappingConstants(_ name: String) throws {
        let base = try #require(try HostileModels.all().first { $0.name == name }).bytes
        let l = Layout(base)
        let cs = l.constants
        try #require(cs.count >= 2)
        for (a, c) in zip(cs, cs.dropFirst()) {
            // c starts where a starts (both still inside the file and aligned).
            var b = base
            HostileModels.put64(&b, l.tensor(c) + T.dataOffset, HostileModels.u64(b, l.tensor(a) + T.dataOffset))
            #expect(status(b) == .badFormat, "tensor \(c) moved onto tensor \(a)")
            // c starts inside a (64 bytes after a's start), when a is longer than that.
            let sizeA = HostileModels.u64(base, l.tensor(a) + T.dataSize)
            guard sizeA > 64 else { continue }
            b = base
            HostileModels.put64(&b, l.tensor(c) + T.dataOffset, HostileModels.u64(b, l.tensor(a) + T.dataOffset) + 64)
            #expect(status(b) == .badFormat, "tensor \(c) starts inside tensor \(a)")
        }
    }

    @Test(
        "an op reading a tensor before it is written, and cycles, are format errors",
        arguments: ["classifier", "branches", "featuremap", "raw"])
    func orderAndCycles(_ name: String) throws {
        let base = try #require(try HostileModels.all().first { $0.name == name }).bytes
        let l = Layout(base)
        var cases = 0
        for i in 0..<l.opCount {
            // Self-loop: an op reading its own output.
            var b = base
            HostileModels.put32(&b, l.op(i) + O.inputs, l.output(of: i))
            #expect(status(b) == .badFormat, "op \(i) reads its own output")
            cases += 1
            for j in (i + 1)..<l.opCount {
                // Use before write: op i reads what a later op j writes.
                b = base
                HostileModels.put32(&b, l.op(i) + O.inputs, l.output(of: j))
                #expect(status(b) == .badFormat, "op \(i) reads op \(j)'s output")
                // A cycle: the later op j writes the tensor op i reads (i's input is written twice).
                b = base
                HostileModels.put32(&b, l.op(j) + O.output, l.input(of: i))
                #expect(status(b) == .badFormat, "op \(j) writes op \(i)'s input")
                // Swapped execution order, where op j reads op i's output.
                let jInputs = (0..<Int(HostileModels.u32(base, l.op(j) + O.inputCount))).map { l.input(of: j, $0) }
                guard jInputs.contains(l.output(of: i)) else {
                    cases += 2
                    continue
                }
                b = base
                let ei = l.op(i)
                let ej = l.op(j)
                let n = ACNBFormat.opEntrySize
                let opI = Array(b[ei..<ei + n])
                let opJ = Array(b[ej..<ej + n])
                b.replaceSubrange(ei..<ei + n, with: opJ)
                b.replaceSubrange(ej..<ej + n, with: opI)
                #expect(status(b) == .badFormat, "ops \(i) and \(j) swapped")
                cases += 3
            }
        }
        #expect(cases >= 4)
    }

    @Test("unknown op codes are unsupported ops", arguments: [UInt32(0), 12, 99, 0x8000_0001, 0xFFFF_FFFF])
    func unknownOpCodes(_ code: UInt32) throws {
        for (name, base) in try HostileModels.all() {
            let l = Layout(base)
            for i in 0..<l.opCount {
                var b = base
                HostileModels.put32(&b, l.op(i) + O.opcode, code)
                #expect(status(b) == .unsupportedOp, "\(name) op \(i) code \(code)")
            }
        }
    }

    @Test("a future format version or kernel layout is UNSUPPORTED_VERSION, before the checksum")
    func futureVersions() throws {
        for (name, base) in try HostileModels.all() {
            for v: UInt32 in [0, 2, 3, 0xFFFF_FFFF] {
                var b = base
                // Version 2 is current: a version-1 file relabelled 2 reads its reserved op field
                // as a Winograd weight reference, tensor 0 (the input) — BAD_FORMAT.
                let want: ACNetStatus =
                    v == 2 ? (HostileModels.u32(base, H.version) == 2 ? .ok : .badFormat) : .unsupportedVersion
                HostileModels.put32(&b, H.version, v)
                #expect(status(b) == want, "\(name) version \(v)")
                if want == .unsupportedVersion {
                    #expect(HostileModels.loadAndRun(b) == .unsupportedVersion, "\(name) version \(v), old checksum")
                }
                b = base
                HostileModels.put32(&b, H.kernelLayout, v)
                #expect(status(b) == .unsupportedVersion, "\(name) layout \(v)")
            }
        }
    }

    @Test("strings: unterminated label, label past the table, reserved bytes")
    func stringsAndReserved() throws {
        let base = try HostileModels.classifier()
        let stringsAt = Int(HostileModels.u64(base, H.stringTableOffset))
        let stringsSize = Int(HostileModels.u64(base, H.stringTableSize))
        var b = base
        b[stringsAt + stringsSize - 1] = 0x41  // the last label loses its NUL
        #expect(status(b) == .badFormat)
        b = base
        HostileModels.put64(&b, H.stringTableSize, UInt64(stringsSize - 1))
        #expect(status(b) == .badFormat)
        // Reserved header words and tensor-entry bytes must be 0.
        for at in [100, 136, 188] {
            b = base
            b[at] = 1
            #expect(status(b) == .badFormat, "header byte \(at)")
        }
        let l = Layout(base)
        for t in 0..<l.tensorCount {
            b = base
            b[l.tensor(t) + 60] = 1
            #expect(status(b) == .badFormat, "tensor \(t) reserved byte")
        }
    }

    @Test("paths the fuzzer's coverage missed: a rank-2 model input, conv2d with 3 inputs")
    func coverageGaps() throws {
        let base = try HostileModels.classifier()
        let l = Layout(base)
        let input = Int(HostileModels.u32(base, H.inputTensor))
        var b = base
        HostileModels.put32(&b, l.tensor(input) + T.rank, 2)
        HostileModels.put32(&b, l.tensor(input) + T.dims + 8, 0)
        HostileModels.put32(&b, l.tensor(input) + T.dims + 12, 0)
        #expect(status(b) == .unsupportedOp)
        let conv = try #require(
            (0..<l.opCount).first { HostileModels.u32(base, l.op($0) + O.opcode) == OpCode.conv2d.rawValue })
        for k in 1..<4 {
            b = base
            HostileModels.put32(&b, l.op(conv) + O.inputCount, UInt32(k + 1))
            for j in 1...k { HostileModels.put32(&b, l.op(conv) + O.inputs + 4 * j, UInt32(input)) }
            #expect(status(b) == .badFormat, "conv2d with \(k + 1) inputs")
        }
    }

    @Test("a valid model whose workspace cannot be allocated is OUT_OF_MEMORY, not a trap")
    func hugeWorkspace() throws {
        // 1×16384×16384 input, 1×1 conv to 7 channels: 16 GiB of blocked activations per image.
        var b = ModelBuilder(inputChannels: 1, height: 16384, width: 16384, inputSpec: HostileModels.spec(.gray, 1))
        let y = try b.conv2d(
            b.input, weight: [Float](repeating: 0.5, count: 7), bias: nil, outputChannels: 7,
            kernelSize: (1, 1))
        let model = try Model(bytes: try b.serialize(output: y))
        let options = SessionOptions(maxBatch: SessionOptions.maxBatchLimit)
        #expect(try Session.workspaceSize(for: model, options: options) >= 1 << 50)
        do {
            _ = try Session(model: model, options: options)
            Issue.record("a 2^50-byte workspace was allocated")
        } catch {
            #expect(error.status == .outOfMemory)
        }
    }
}
