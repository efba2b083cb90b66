import ACNetWriter
import ACRuntime
import Foundation
import Testing

/// SplitMix64: a small seeded generator so every sweep is reproducible.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomArray(_ n: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] {
    (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) }
}

func rawSpec(_ c: Int) -> InputSpec {
    InputSpec(channelOrder: .none, mean: [Float](repeating: 0, count: c), std: [Float](repeating: 1, count: c))
}

/// Builds a model with `body`, loads it through the runtime, runs `input` (batch n) and returns
/// the output together with the model.
/// `isa` forces a kernel set (nil: the model's default, the fastest supported).
func runModel(
    c: Int, h: Int, w: Int, n: Int = 1, input: [Float], isa: KernelISA? = nil,
    _ body: (inout ModelBuilder, TensorRef) throws -> TensorRef
) throws -> (out: [Float], model: Model) {
    var b = ModelBuilder(inputChannels: c, height: h, width: w, inputSpec: rawSpec(c))
    let y = try body(&b, b.input)
    let model = try Model(bytes: try b.serialize(output: y))
    let session = try Session(model: model, options: SessionOptions(maxBatch: n, isa: isa))
    precondition(session.isa == isa ?? model.isa, "the session runs \(session.isa.name)")
    return (try session.run(input, batch: n), model)
}

/// Runs `model` again with `threads` threads and expects the 1-thread output `want`, bit for
/// bit (the split never changes how an output element is computed).
func expectSameWithThreads(
    _ model: Model, _ x: [Float], batch: Int, isa: KernelISA, _ want: [Float], threads: Int
) throws {
    let s = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: batch, isa: isa))
    let got = try s.run(x, batch: batch)
    #expect(got == want, "threads \(threads): max |Δ| \(maxAbsDiff(got, want))")
}

/// Every kernel ISA this machine can run (the dispatch tests run each against the reference).
let supportedISAs = KernelISA.allCases.filter(\.isSupported)

func maxAbs(_ v: [Float]) -> Float { v.reduce(0) { max($0, abs($1)) } }

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// Rounding bound for a float32 sum of `terms` products of magnitude ≤ `magnitude`: the
/// reference and the kernel each accumulate with error ≤ terms·ε·Σ|x·w|; we allow 2× that.
func accumulationTolerance(terms: Int, magnitude: Float) -> Float {
    2 * Float(terms) * Float.ulpOfOne * magnitude + 1e-6
}

/// The minimal safetensors reader the tests need (the fixtures of independent reference vectors).
struct SafeTensors {
    var tensors: [String: (shape: [Int], data: [Float])] = [:]
    var metadata: [String: String] = [:]

    init(contentsOf url: URL) throws {
        let bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        for (k, v) in header {
            if k == "__metadata__" {
                metadata = v as! [String: String]
                continue
            }
            let d = v as! [String: Any]
            precondition(d["dtype"] as! String == "F32")
            let offs = d["data_offsets"] as! [Int]
            let raw = bytes.subdata(in: (8 + n + offs[0])..<(8 + n + offs[1]))
            let data = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            tensors[k] = (d["shape"] as! [Int], data)
        }
    }

    func int(_ key: String) -> Int { Int(metadata[key]!)! }
}

func fixturesURL(_ sub: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(sub)
}
