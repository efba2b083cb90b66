import ACNetWriter
import ACRuntime
import Foundation
import Testing

/// Multi-threaded sessions (issue 7, part 2): every thread count gives bit-identical outputs to
/// one thread (each output element is computed by one thread, in the same order), sessions with
/// worker threads are created and freed cleanly, and out-of-range thread counts are refused.
@Suite("Multi-threaded sessions")
struct ThreadTests {
    /// Runs `model` on `x` with `threads` threads.
    static func run(_ model: Model, _ x: [Float], batch: Int = 1, threads: Int, isa: KernelISA) throws -> [Float] {
        let s = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: batch, isa: isa))
        #expect(s.isa == isa)
        return try s.run(x, batch: batch)
    }

    /// The small benchmark architectures run here with every ISA; the large ones (conv64,
    /// conv256, ResNet-56: ~0.12 G multiply-accumulates, seconds per run in a debug build) with
    /// the fastest. ResNet-18 (1.8 G, ~40 s per run in a debug build) and all six with every ISA
    /// are checked against the release library by Tests/CABI/threads_test.c
    /// (scripts/test_c_abi.sh).
    static let small: Set = ["fmnist", "cifar_quick", "resnet20"]

    @Test(
        "threads 2, 3, 4 give the same output as 1 thread, bit for bit, on the benchmark models",
        arguments: BenchmarkModels.names.filter { $0 != "resnet18" })
    func benchmarkModels(_ name: String) throws {
        let small = Self.small.contains(name)
        // Direct convolution everywhere, and (small models) Winograd on every 3x3/5x5 layer.
        for policy in small ? [WinogradPolicy.off, .all] : [.off] {
            let model = try Model(bytes: try BenchmarkModels.build(name, seed: 11, winograd: policy))
            var rng = SeededRNG(seed: 3)
            let x = randomArray(model.inputElementCount, &rng)
            for isa in (small ? supportedISAs : [KernelISA.best]) {
                let want = try Self.run(model, x, threads: 1, isa: isa)
                for threads in (small ? 2...4 : 2...3) {
                    let got = try Self.run(model, x, threads: threads, isa: isa)
                    #expect(
                        got == want,
                        "\(name) winograd \(policy) \(isa.name) threads \(threads): max |Δ| \(maxAbsDiff(got, want))")
                }
            }
        }
    }

    @Test("the shipped models: threads 2, 3, 4 bit-identical to 1 thread on every ISA, batch 1 and 3")
    func shippedModels() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".acnb") }
        #expect(!files.isEmpty)
        for file in files {
            let model = try Model(contentsOfFile: dir.appendingPathComponent(file).path)
            var rng = SeededRNG(seed: 8)
            for batch in [1, 3] {
                let x = randomArray(batch * model.inputElementCount, &rng)
                for isa in supportedISAs {
                    let want = try Self.run(model, x, batch: batch, threads: 1, isa: isa)
                    for threads in 2...4 {
                        let got = try Self.run(model, x, batch: batch, threads: threads, isa: isa)
                        #expect(got == want, "\(file) batch \(batch) \(isa.name) threads \(threads)")
                    }
                }
            }
        }
    }

    @Test(
        "a batch split over threads (Cifar-quick with Winograd, batch 5, threads 2 and 3) and repeated runs stay identical"
    )
    func batchAndRepeats() throws {
        let model = try Model(bytes: try BenchmarkModels.build("cifar_quick", seed: 2, winograd: .all))
        var rng = SeededRNG(seed: 4)
        let x = randomArray(5 * model.inputElementCount, &rng)
        let want = try Self.run(model, x, batch: 5, threads: 1, isa: .best)
        for threads in [2, 3] {
            let s = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: 5))
            for _ in 0..<5 { #expect(try s.run(x, batch: 5) == want) }
            // A smaller batch on the same session.
            let one = Array(x[0..<model.inputElementCount])
            #expect(try s.run(one, batch: 1) == Array(want[0..<model.outputElementCount]))
        }
    }

    @Test("threads outside 1...maxThreads are refused with .invalidArgument")
    func limits() throws {
        let model = try Model(bytes: try BenchmarkModels.build("fmnist", seed: 1))
        #expect(SessionOptions.maxThreads == 64)
        for threads in [0, -1, SessionOptions.maxThreads + 1, 1 << 20] {
            let options = SessionOptions(threads: threads)
            #expect(throws: ACNetError.self) { try Session(model: model, options: options) }
            do {
                _ = try Session.workspaceSize(for: model, options: options)
                Issue.record("threads \(threads) accepted")
            } catch { #expect(error.status == .invalidArgument) }
        }
        _ = try Session(model: model, options: SessionOptions(threads: SessionOptions.maxThreads))
    }

    /// Threads of this process (Linux: /proc/self/task).
    static func threadCount() -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))?.count
    }

    @Test("many threaded sessions alive at once, run and freed: no hang, no thread left behind")
    func manySessions() throws {
        let model = try Model(bytes: try BenchmarkModels.build("cifar_quick", seed: 6))
        var rng = SeededRNG(seed: 9)
        let x = randomArray(model.inputElementCount, &rng)
        let want = try Self.run(model, x, threads: 1, isa: .best)
        let before = Self.threadCount()
        for round in 0..<5 {
            var sessions: [Session] = []
            for k in 0..<12 { sessions.append(try Session(model: model, options: SessionOptions(threads: 2 + k % 4))) }
            for s in sessions { #expect(try s.run(x) == want, "round \(round)") }
            sessions.removeAll()
            // Created and freed without a run.
            _ = try Session(model: model, options: SessionOptions(threads: 8))
        }
        // Other tests run concurrently in this process and may own threads of their own, so
        // this only checks that our 5 × 13 sessions' ~150 workers are gone.
        if let before, let after = Self.threadCount() { #expect(after < before + 20, "\(before) → \(after) threads") }
    }
}
