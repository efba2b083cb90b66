import ACNetWriter
import ACRuntime
import Foundation
import Testing

/// Small valid models that together use every op, packing and parameter kind of the format.
/// They seed the fuzzer (Tests/Fuzz/seeds, written by `ACNET_WRITE_FUZZ_SEEDS=DIR swift test
/// --filter FuzzSeeds`) and are the bases the corruption matrix mutates.
enum HostileModels {
    static func spec(_ order: ChannelOrder, _ c: Int) -> InputSpec {
        InputSpec(channelOrder: order, mean: [Float](repeating: 0.25, count: c), std: [Float](repeating: 0.5, count: c))
    }

    /// Gray 6×6: conv 3×3 + ReLU, 2×2 max pool, flatten, linear, three labels.
    static func classifier() throws -> [UInt8] {
        var rng = SeededRNG(seed: 5)
        var b = ModelBuilder(inputChannels: 1, height: 6, width: 6, inputSpec: spec(.gray, 1), labels: ["a", "b", "c"])
        let x = try b.conv2d(
            b.input, weight: randomArray(4 * 9, &rng), bias: randomArray(4, &rng), outputChannels: 4,
            kernelSize: (3, 3), padding: .symmetric(1), activation: .relu)
        let p = try b.maxPool(x, kernelSize: (2, 2), stride: (2, 2))
        let y = try b.linear(try b.flatten(p), weight: randomArray(3 * 36, &rng), bias: nil, outputFeatures: 3)
        return try b.serialize(output: y)
    }

    /// RGB 9×7: grouped conv, depthwise conv with residual, avg pool (padding, ceil mode,
    /// count_include_pad off), concat, add, scale_shift, ReLU6, global average pool, linear,
    /// softmax.
    static func branches() throws -> [UInt8] {
        var rng = SeededRNG(seed: 6)
        var b = ModelBuilder(inputChannels: 3, height: 9, width: 7, inputSpec: spec(.rgb, 3), labels: ["x", "y"])
        let a = try b.conv2d(
            b.input, weight: randomArray(6 * 1 * 9, &rng), bias: randomArray(6, &rng), outputChannels: 6,
            kernelSize: (3, 3), padding: .symmetric(1), groups: 3, activation: .relu)
        let d = try b.conv2d(
            a, weight: randomArray(6 * 9, &rng), bias: nil, outputChannels: 6, kernelSize: (3, 3),
            padding: .symmetric(1), groups: 6, activation: .relu6, residual: a)
        let c = try b.concat([a, d, b.input])
        let s = try b.scaleShift(c, scale: randomArray(15, &rng), shift: randomArray(15, &rng), activation: .relu)
        let p = try b.avgPool(
            s, kernelSize: (3, 3), stride: (2, 2), padding: .symmetric(1), ceilMode: true,
            countIncludePad: false)
        let q = try b.add(p, try b.activation(p, .relu6), activation: .none)
        let g = try b.globalAvgPool(q)
        let l = try b.linear(
            g, weight: randomArray(2 * 15, &rng), bias: randomArray(2, &rng), outputFeatures: 2,
            activation: .relu)
        let y = try b.softmax(l)
        return try b.serialize(output: y)
    }

    /// BGR 10×10: strided, dilated, asymmetrically padded conv, 3×3 max pool with ceil mode,
    /// a 1×1 conv with 20 output channels (two weight blocks) and a rank-4 output.
    static func featureMap() throws -> [UInt8] {
        var rng = SeededRNG(seed: 7)
        var b = ModelBuilder(inputChannels: 3, height: 10, width: 10, inputSpec: spec(.bgr, 3))
        let x = try b.conv2d(
            b.input, weight: randomArray(17 * 3 * 9, &rng), bias: randomArray(17, &rng),
            outputChannels: 17, kernelSize: (3, 3), stride: (2, 1),
            padding: Padding(top: 2, left: 1, bottom: 0, right: 2), dilation: (2, 1))
        let p = try b.maxPool(x, kernelSize: (3, 3), stride: (2, 2), padding: .symmetric(1), ceilMode: true)
        let y = try b.conv2d(p, weight: randomArray(20 * 17, &rng), bias: nil, outputChannels: 20, kernelSize: (1, 1))
        return try b.serialize(output: y)
    }

    /// Raw tensor input (channel order none) 2×5×5: conv 5×1 and 1×5 (an ACB's branches),
    /// add, flatten, linear with 18 outputs.
    static func raw() throws -> [UInt8] {
        var rng = SeededRNG(seed: 8)
        var b = ModelBuilder(inputChannels: 2, height: 5, width: 5, inputSpec: spec(.none, 2))
        let v = try b.conv2d(
            b.input, weight: randomArray(4 * 2 * 5, &rng), bias: nil, outputChannels: 4,
            kernelSize: (5, 1), padding: Padding(top: 2, left: 0, bottom: 2, right: 0))
        let h = try b.conv2d(
            b.input, weight: randomArray(4 * 2 * 5, &rng), bias: nil, outputChannels: 4,
            kernelSize: (1, 5), padding: Padding(top: 0, left: 2, bottom: 0, right: 2))
        let s = try b.add(v, h, activation: .relu)
        let y = try b.linear(
            try b.flatten(s), weight: randomArray(18 * 100, &rng), bias: randomArray(18, &rng),
            outputFeatures: 18)
        return try b.serialize(output: y)
    }

    static func all() throws -> [(name: String, bytes: [UInt8])] {
        [
            ("classifier", try classifier()), ("branches", try branches()), ("featuremap", try featureMap()),
            ("raw", try raw()), ("winograd", try winograd()),
        ]
    }

    /// Raw 18×5×6 (format version 2): a Winograd F(4×4, 3×3) conv with 20 output channels
    /// (two blocks), padding 1 and a residual from a 1×1 conv, global average pool, linear.
    static func winograd() throws -> [UInt8] {
        var rng = SeededRNG(seed: 9)
        var b = ModelBuilder(inputChannels: 18, height: 5, width: 6, inputSpec: spec(.none, 18))
        let r = try b.conv2d(
            b.input, weight: randomArray(20 * 18, &rng), bias: nil, outputChannels: 20, kernelSize: (1, 1))
        b.winograd = .all
        let x = try b.conv2d(
            b.input, weight: randomArray(20 * 18 * 9, &rng), bias: randomArray(20, &rng),
            outputChannels: 20, kernelSize: (3, 3), padding: .symmetric(1), activation: .relu, residual: r)
        let y = try b.linear(try b.globalAvgPool(x), weight: randomArray(4 * 20, &rng), bias: nil, outputFeatures: 4)
        return try b.serialize(output: y)
    }

    // MARK: Editing helpers

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }

    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) }
    }

    static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
    }

    static func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for k in 0..<8 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
    }

    /// Recomputes the CRC-32C so the validator, not the checksum, judges an edit.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        put32(&b, ACNBFormat.Header.checksum, ACNBFormat.checksum(of: b))
        return b
    }

    /// Loads `bytes` from 64-byte-aligned memory of exactly their size (so AddressSanitizer sees
    /// any over-read), creates a session and runs once. Returns the status of the first failure.
    static func loadAndRun(_ bytes: [UInt8]) -> ACNetStatus {
        guard !bytes.isEmpty else { return .invalidArgument }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        defer { p.deallocate() }
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        do {
            let m = try Model(borrowing: UnsafeRawBufferPointer(start: p, count: bytes.count))
            guard try Session.workspaceSize(for: m) <= 64 << 20 else { return .ok }
            let s = try Session(model: m)
            let out = try s.run([Float](repeating: 0.5, count: m.inputElementCount))
            precondition(out.count == m.outputElementCount)
            return .ok
        } catch {
            return error.status
        }
    }
}

@Suite("Fuzz seeds")
struct FuzzSeeds {
    /// `ACNET_WRITE_FUZZ_SEEDS=Tests/Fuzz/seeds swift test --filter FuzzSeeds` regenerates the
    /// fuzzer's seed models; otherwise this only checks that they load.
    @Test("the seed models are valid")
    func seeds() throws {
        var models = try HostileModels.all()
        models.append(("fmnist", try BenchmarkModels.build("fmnist")))
        for (name, bytes) in models {
            #expect(HostileModels.loadAndRun(bytes) == .ok, "\(name)")
            if let dir = ProcessInfo.processInfo.environment["ACNET_WRITE_FUZZ_SEEDS"] {
                try Data(bytes).write(to: URL(fileURLWithPath: dir).appendingPathComponent("\(name).acnb"))
            }
        }
    }
}
