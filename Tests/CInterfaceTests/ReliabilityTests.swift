import ACNetWriter
import ACRuntime
import CACNet
import CInterface
import Foundation
import Testing

/// A small model with most op kinds (conv + residual, depthwise, pooling, concat, global pool,
/// linear, softmax), cheap enough for thousands of runs in a debug or sanitizer build.
func smallModelBytes() throws -> [UInt8] {
    var seed: UInt64 = 11
    func values(_ n: Int) -> [Float] {
        (0..<n).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(seed >> 40) % 2001 - 1000) / 2000
        }
    }
    var b = ModelBuilder(
        inputChannels: 3, height: 12, width: 12,
        inputSpec: InputSpec(channelOrder: .rgb, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]),
        labels: ["zero", "one", "two", "three", "four"])
    let a = try b.conv2d(
        b.input, weight: values(8 * 3 * 9), bias: values(8), outputChannels: 8, kernelSize: (3, 3),
        padding: .symmetric(1), activation: .relu)
    let d = try b.conv2d(
        a, weight: values(8 * 9), bias: values(8), outputChannels: 8, kernelSize: (3, 3),
        padding: .symmetric(1), groups: 8, activation: .relu, residual: a)
    let p = try b.maxPool(d, kernelSize: (2, 2), stride: (2, 2))
    let q = try b.avgPool(d, kernelSize: (2, 2), stride: (2, 2))
    let c = try b.concat([p, q])
    let g = try b.globalAvgPool(c)
    let l = try b.linear(g, weight: values(5 * 16), bias: values(5), outputFeatures: 5)
    let y = try b.softmax(l)
    return try b.serialize(output: y)
}

/// Copies `bytes` into 64-byte-aligned memory the caller frees with `deallocate()`.
func alignedCopy(_ bytes: [UInt8], offset: Int = 0) -> UnsafeMutableRawPointer {
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + offset, alignment: 64)
    bytes.withUnsafeBytes { (p + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    return p
}

/// C API misuse (issue 6): every pointer argument NULL, zero and wrong counts, workspaces too
/// small or misaligned, a model buffer at an odd address, options with a wrong struct size or
/// out-of-range values → the status the header documents, out-parameters untouched. (The same
/// checks from C against the installed library: Tests/CABI/abi_test.c.)
@Suite("C API misuse")
struct CAPIMisuseTests {
    let bytes: [UInt8]
    init() throws { bytes = try smallModelBytes() }

    let sentinel = OpaquePointer(bitPattern: 0xDEAD_BEE0)!

    @Test("loading: NULL arguments, size 0, odd address, truncation; out-parameter untouched")
    func loading() throws {
        let p = alignedCopy(bytes, offset: 64)
        defer { p.deallocate() }
        let data = p + 64
        var model: OpaquePointer? = sentinel
        #expect(acnet_model_load_memory(nil, bytes.count, &model) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_load_memory(data, bytes.count, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_load_memory(data, 0, &model) == ACNET_ERROR_INVALID_ARGUMENT)
        // SIZE_MAX arrives as Int -1: refused as too large (it used to say "size is 0").
        #expect(acnet_model_load_memory(data, Int(bitPattern: UInt.max), &model) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(String(cString: acnet_last_error_message()).contains("18446744073709551615"))
        #expect(acnet_model_load_file(nil, &model) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_load_file("/dev/null", nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_load_file("/dev/null", &model) == ACNET_ERROR_IO)  // not a regular file
        #expect(acnet_model_load_file("/", &model) == ACNET_ERROR_IO)
        for odd in [1, 2, 4, 8, 16, 32, 63] {
            let q = alignedCopy(bytes, offset: odd)
            #expect(acnet_model_load_memory(q + odd, bytes.count, &model) == ACNET_ERROR_MISALIGNED, "offset \(odd)")
            q.deallocate()
        }
        #expect(acnet_model_load_memory(data, 100, &model) == ACNET_ERROR_BAD_FORMAT)
        #expect(acnet_model_load_memory(data, bytes.count - 1, &model) == ACNET_ERROR_BAD_FORMAT)
        #expect(model == sentinel, "the out-parameter is untouched on failure")
        #expect(!String(cString: acnet_last_error_message()).isEmpty)
        #expect(acnet_model_free(nil) == ACNET_OK)
        acnet_session_free(nil)
    }

    @Test("queries: NULL model and NULL outputs; label index out of range")
    func queries() throws {
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        defer { #expect(acnet_model_free(model) == ACNET_OK) }
        var shape = [Int64](repeating: 7, count: 4)
        var rank = 9
        #expect(acnet_model_input_shape(nil, &shape, &rank) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_input_shape(model, nil, &rank) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_input_shape(model, &shape, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_output_shape(nil, &shape, &rank) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_output_shape(model, nil, &rank) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_output_shape(model, &shape, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(shape == [7, 7, 7, 7] && rank == 9, "untouched")
        #expect(acnet_model_input_shape(model, &shape, &rank) == ACNET_OK && shape == [1, 3, 12, 12] && rank == 4)
        #expect(
            acnet_model_output_shape(model, &shape, &rank) == ACNET_OK && Array(shape.prefix(2)) == [1, 5] && rank == 2)
        var spec = acnet_input_spec()
        #expect(acnet_model_input_spec(nil, &spec) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_input_spec(model, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_input_spec(model, &spec) == ACNET_OK && spec.channels == 3 && spec.channel_order == 1)
        var count = 99
        #expect(acnet_model_label_count(nil, &count) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_label_count(model, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_label_count(model, &count) == ACNET_OK && count == 5)
        var label: UnsafePointer<CChar>? = nil
        #expect(acnet_model_label(nil, 0, &label) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_label(model, 0, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_model_label(model, 5, &label) == ACNET_ERROR_OUT_OF_RANGE)
        #expect(acnet_model_label(model, Int(bitPattern: UInt(UInt64.max)), &label) == ACNET_ERROR_OUT_OF_RANGE)
        #expect(label == nil)
        #expect(acnet_model_label(model, 4, &label) == ACNET_OK && String(cString: label!) == "four")
    }

    @Test("options and workspaces: wrong struct size, bad values, too small, misaligned")
    func sessions() throws {
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        defer { #expect(acnet_model_free(model) == ACNET_OK) }
        var opts = acnet_session_options()
        #expect(acnet_session_options_init(nil) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_session_options_init(&opts) == ACNET_OK)
        var ws = 0
        #expect(acnet_session_workspace_size(nil, &opts, &ws) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_session_workspace_size(model, &opts, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        var bad: [acnet_session_options] = []
        for (field, value) in [
            ("struct_size", 0), ("struct_size", 4), ("struct_size", 15), ("threads", 0), ("threads", 65),
            ("threads", Int(UInt32.max)),
            ("max_batch", 0), ("max_batch", 65537), ("max_batch", Int(UInt32.max)), ("isa", 99),
        ] {
            var o = opts
            switch field {
            case "struct_size": o.struct_size = UInt32(value)
            case "threads": o.threads = UInt32(value)
            case "max_batch": o.max_batch = UInt32(value)
            default: o.isa = UInt32(value)
            }
            bad.append(o)
        }
        var session: OpaquePointer? = sentinel
        for var o in bad {
            #expect(acnet_session_workspace_size(model, &o, &ws) == ACNET_ERROR_INVALID_ARGUMENT, "\(o)")
            #expect(acnet_session_create(model, &o, nil, 0, &session) == ACNET_ERROR_INVALID_ARGUMENT, "\(o)")
        }
        #expect(ws == 0 && session == sentinel, "untouched")
        #expect(acnet_session_workspace_size(model, nil, &ws) == ACNET_OK && ws > 0)
        #expect(acnet_session_create(nil, &opts, nil, 0, &session) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_session_create(model, &opts, nil, 0, nil) == ACNET_ERROR_INVALID_ARGUMENT)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: ws + 64, alignment: 64)
        defer { arena.deallocate() }
        #expect(acnet_session_create(model, &opts, arena, 0, &session) == ACNET_ERROR_BUFFER_TOO_SMALL)
        #expect(acnet_session_create(model, &opts, arena, ws - 1, &session) == ACNET_ERROR_BUFFER_TOO_SMALL)
        for odd in [1, 4, 8, 32] {
            #expect(acnet_session_create(model, &opts, arena + odd, ws, &session) == ACNET_ERROR_MISALIGNED)
        }
        #expect(session == sentinel)
        // A larger struct from a future header (fields appended) is accepted.
        var larger = opts
        larger.struct_size += 16
        var big = 0
        #expect(acnet_session_workspace_size(model, &larger, &big) == ACNET_OK && big == ws)
        // max_batch scales the workspace exactly.
        var eight = opts
        eight.max_batch = 8
        #expect(acnet_session_workspace_size(model, &eight, &big) == ACNET_OK && big == 8 * ws)
    }

    @Test("runs: NULL pointers, zero and wrong counts, batch out of range; output untouched")
    func runs() throws {
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        var opts = acnet_session_options()
        _ = acnet_session_options_init(&opts)
        opts.max_batch = 2
        var session: OpaquePointer? = nil
        try #require(acnet_session_create(model, &opts, nil, 0, &session) == ACNET_OK)
        let n = 3 * 12 * 12
        let x = (0..<(2 * n)).map { Float($0 % 23) / 23 }
        var y = [Float](repeating: -7, count: 10)
        #expect(acnet_session_run(nil, 1, x, n, &y, 5) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_session_run(session, 1, nil, n, &y, 5) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(acnet_session_run(session, 1, x, n, nil, 5) == ACNET_ERROR_INVALID_ARGUMENT)
        for (batch, inCount, outCount) in [
            (0, 0, 0), (0, n, 5), (3, 3 * n, 15), (Int(bitPattern: UInt(UInt64.max)), n, 5),
            (1, 0, 5), (1, n, 0), (1, n - 1, 5), (1, n + 1, 5), (1, n, 4), (1, n, 6),
            (2, n, 5), (2, 2 * n, 5), (1, 2 * n, 10),
        ] {
            #expect(
                acnet_session_run(session, batch, x, inCount, &y, outCount) == ACNET_ERROR_INVALID_ARGUMENT,
                "batch \(batch), \(inCount) in, \(outCount) out")
        }
        #expect(y.allSatisfy { $0 == -7 }, "output untouched on error")
        #expect(acnet_session_run(session, 2, x, 2 * n, &y, 10) == ACNET_OK)
        #expect(abs(y[0..<5].reduce(0, +) - 1) < 1e-5 && abs(y[5..<10].reduce(0, +) - 1) < 1e-5)
        // Freeing the model while the session lives is refused, and the session keeps working.
        #expect(acnet_model_free(model) == ACNET_ERROR_INVALID_ARGUMENT)
        #expect(String(cString: acnet_last_error_message()).contains("session"))
        #expect(acnet_session_run(session, 1, x, n, &y, 5) == ACNET_OK)
        acnet_session_free(session)
        #expect(acnet_model_free(model) == ACNET_OK)
    }

    @Test("a valid model whose workspace cannot be allocated: OUT_OF_MEMORY from session create")
    func outOfMemory() throws {
        // 1×16384×16384 input, 1×1 conv to 7 channels: 16 GiB per image, 2^50 bytes for 65536.
        var b = ModelBuilder(
            inputChannels: 1, height: 16384, width: 16384,
            inputSpec: InputSpec(channelOrder: .gray, mean: [0], std: [1]))
        let y = try b.conv2d(
            b.input, weight: [Float](repeating: 0.5, count: 7), bias: nil, outputChannels: 7,
            kernelSize: (1, 1))
        let huge = try b.serialize(output: y)
        let p = alignedCopy(huge)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, huge.count, &model) == ACNET_OK)
        var opts = acnet_session_options()
        _ = acnet_session_options_init(&opts)
        opts.max_batch = 65536
        var ws = 0
        #expect(acnet_session_workspace_size(model, &opts, &ws) == ACNET_OK && ws >= 1 << 50)
        var session: OpaquePointer? = nil
        #expect(acnet_session_create(model, &opts, nil, 0, &session) == ACNET_ERROR_OUT_OF_MEMORY)
        #expect(session == nil)
        #expect(acnet_model_free(model) == ACNET_OK, "the failed create left no session behind")
    }

    @Test("status strings for every status and unknown values")
    func statusStrings() {
        for s in ACNET_OK...ACNET_ERROR_OUT_OF_RANGE {
            #expect(String(cString: acnet_status_string(s)).hasPrefix("ACNET_"))
        }
        for s: acnet_status in [-1, 11, Int32.max, Int32.min] {
            #expect(String(cString: acnet_status_string(s)) == "ACNET_UNKNOWN_STATUS")
        }
    }
}

/// Concurrency (issues 6 and 7): 8 threads share one model, each with its own session (with
/// 1, 2 or 3 threads of its own), 1000 runs each; every output is bit-identical to the
/// single-threaded run of the same input. Sessions are also created and freed concurrently (the
/// model's live-session count is atomic). Run under ThreadSanitizer by scripts/sanitize.sh.
@Suite("Concurrency")
struct ConcurrencyTests {
    static let threads = 8
    static let runsPerThread = Int(ProcessInfo.processInfo.environment["ACNET_CONCURRENCY_RUNS"] ?? "") ?? 1000

    @Test("8 threads × 1000 runs on one shared model: bit-identical to one thread")
    func sharedModel() throws {
        let bytes = try smallModelBytes()
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        let n = 3 * 12 * 12
        let inputs: [[Float]] = (0..<4).map { k in (0..<n).map { Float(($0 * (k + 3)) % 31) / 31 - 0.4 } }
        // The single-threaded reference.
        var reference: [[Float]] = []
        var s0: OpaquePointer? = nil
        try #require(acnet_session_create(model, nil, nil, 0, &s0) == ACNET_OK)
        for x in inputs {
            var y = [Float](repeating: 0, count: 5)
            #expect(acnet_session_run(s0, 1, x, n, &y, 5) == ACNET_OK)
            reference.append(y)
        }
        acnet_session_free(s0)
        let expected = reference

        let shared = SharedModel(model!, bytes: UnsafeRawPointer(p), count: bytes.count)
        let mismatches = Counter()
        let failures = Counter()
        let completed = Counter()
        let group = DispatchGroup()
        for t in 0..<Self.threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let model = shared.model
                // Churn: create and free a few sessions, and load/free private models from the
                // same borrowed bytes, racing the other threads.
                var options = acnet_session_options()
                acnet_session_options_init(&options)
                options.threads = UInt32(1 + t % 3)
                for _ in 0..<5 {
                    var s: OpaquePointer? = nil
                    if acnet_session_create(model, &options, nil, 0, &s) != ACNET_OK { failures.add() }
                    acnet_session_free(s)
                    var own: OpaquePointer? = nil
                    if acnet_model_load_memory(shared.bytes, shared.count, &own) != ACNET_OK {
                        failures.add()
                        continue
                    }
                    var y = [Float](repeating: 0, count: 5)
                    if acnet_session_create(own, nil, nil, 0, &s) != ACNET_OK
                        || acnet_session_run(s, 1, inputs[t % inputs.count], n, &y, 5) != ACNET_OK
                        || y != expected[t % inputs.count]
                    {
                        failures.add()
                    }
                    acnet_session_free(s)
                    if acnet_model_free(own) != ACNET_OK { failures.add() }
                }
                var session: OpaquePointer? = nil
                guard acnet_session_create(model, &options, nil, 0, &session) == ACNET_OK else {
                    failures.add()
                    return
                }
                defer { acnet_session_free(session) }
                var y = [Float](repeating: 0, count: 5)
                var shape = [Int64](repeating: 0, count: 4)
                var rank = 0
                for r in 0..<Self.runsPerThread {
                    let k = (r + t) % inputs.count
                    if acnet_session_run(session, 1, inputs[k], n, &y, 5) != ACNET_OK { failures.add() }
                    if y != expected[k] { mismatches.add() }
                    if r % 100 == 0 && acnet_model_output_shape(model, &shape, &rank) != ACNET_OK { failures.add() }
                }
                completed.add()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        #expect(completed.value == Self.threads)
        #expect(failures.value == 0)
        #expect(mismatches.value == 0, "\(mismatches.value) outputs differ from the single-threaded run")
        #expect(acnet_model_free(model) == ACNET_OK, "every session was freed")
        print("concurrency: \(Self.threads) threads × \(Self.runsPerThread) runs, \(mismatches.value) mismatches")
    }

    @Test(
        "layout conversions split over threads: a feature-map model (plain input → blocked → plain output), 2 and 3 threads × 200 runs, batch 2, exact"
    )
    func splitLayoutConversions() throws {
        // ReLU reads the input through the loader's toBlocked step and leaves a blocked output
        // for the session's output step; both are split over the team (issue 7).
        let (c, h, w) = (40, 13, 21)
        var b = ModelBuilder(
            inputChannels: c, height: h, width: w,
            inputSpec: InputSpec(
                channelOrder: .none, mean: [Float](repeating: 0, count: c),
                std: [Float](repeating: 1, count: c)))
        let y = try b.activation(b.input, .relu)
        let model = try Model(bytes: try b.serialize(output: y))
        let x = (0..<(2 * c * h * w)).map { Float(($0 * 7919) % 201) / 100 - 1 }
        let want = x.map { max($0, 0) }
        for threads in [2, 3] {
            let session = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: 2))
            var mismatches = 0
            for _ in 0..<200 where try session.run(x, batch: 2) != want { mismatches += 1 }
            #expect(mismatches == 0, "threads \(threads): \(mismatches) of 200 runs differ")
        }
    }

    @Test("a session with 2 and 4 threads on a wider model (Cifar-quick: 32–64 channels, batch 1–3) matches 1 thread")
    func threadedSession() throws {
        let bytes = try BenchmarkModels.build("cifar_quick", seed: 5)
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer? = nil
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        defer { #expect(acnet_model_free(model) == ACNET_OK) }
        let n = 3 * 32 * 32
        let x = (0..<(3 * n)).map { Float(($0 * 7) % 29) / 29 - 0.5 }
        func outputs(threads: UInt32, runs: Int) -> [[Float]] {
            var o = acnet_session_options()
            acnet_session_options_init(&o)
            o.threads = threads
            o.max_batch = 3
            var s: OpaquePointer? = nil
            guard acnet_session_create(model, &o, nil, 0, &s) == ACNET_OK else { return [] }
            defer { acnet_session_free(s) }
            return (0..<runs).map { r in
                let batch = 1 + r % 3
                var y = [Float](repeating: 0, count: batch * 10)
                #expect(acnet_session_run(s, batch, x, batch * n, &y, batch * 10) == ACNET_OK)
                return y
            }
        }
        let runs = max(3, Self.runsPerThread / 50)
        let want = outputs(threads: 1, runs: 3)
        for threads: UInt32 in [2, 4] {
            let got = outputs(threads: threads, runs: runs)
            #expect(got.count == runs)
            for (r, y) in got.enumerated() { #expect(y == want[r % 3], "threads \(threads) run \(r)") }
        }
    }
}

/// An `acnet_model *` handed to other threads (the header: models are shareable).
final class SharedModel: @unchecked Sendable {
    let model: OpaquePointer
    /// The model's bytes (read-only), for threads loading their own copies.
    let bytes: UnsafeRawPointer
    let count: Int
    init(_ m: OpaquePointer, bytes: UnsafeRawPointer, count: Int) {
        model = m
        self.bytes = bytes
        self.count = count
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() {
        lock.lock()
        n += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return n
    }
}
