import ACNetWriter
import Foundation
import Testing

@testable import ACRuntime

/// Inputs scripts/fuzz.sh found crashing, minimised (Fixtures/fuzz/*.acnb, as the fuzzer saw
/// them: the harness seals each input — file size and CRC-32C — before loading, and so does this
/// test). Each must now load and run or be refused with a format status.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// The harness's sealing: the input's length into the file-size field, then the CRC-32C.
    static func sealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        guard b.count >= 32 else { return b }
        HostileModels.put64(&b, ACNBFormat.Header.fileSize, UInt64(b.count))
        return HostileModels.resealed(b)
    }

    static var fixtures: [URL] {
        let dir = fixturesURL("fuzz")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test("every committed crash input now gives a status")
    func crashInputs() throws {
        let files = Self.fixtures
        #expect(!files.isEmpty)
        for url in files {
            let bytes = Self.sealed([UInt8](try Data(contentsOf: url)))
            let status = HostileModels.loadAndRun(bytes)
            #expect(
                [.ok, .badFormat, .unsupportedOp, .unsupportedVersion].contains(status),
                "\(url.lastPathComponent): \(status)")
        }
    }

    @Test("softmax of NaN and infinite logits: NaN out, no trap (fuzz: softmax-nan-logits)")
    func softmaxNaN() throws {
        #expect(KernelMath.exp(.nan).isNaN)
        #expect(KernelMath.exp(-.infinity) == 0)
        #expect(KernelMath.exp(.infinity) == .infinity)
        #expect(KernelMath.exp(0) == 1)
        var b = ModelBuilder(inputChannels: 1, height: 1, width: 3, inputSpec: HostileModels.spec(.gray, 1))
        let y = try b.softmax(try b.flatten(b.input))
        let session = try Session(model: try Model(bytes: try b.serialize(output: y)))
        let out = try session.run([0, .nan, 1])
        #expect(out.contains { $0.isNaN })
        let allNegInf = try session.run([-.infinity, -.infinity, -.infinity])
        #expect(allNegInf.count == 3)
        let withInf = try session.run([.infinity, 0, 1])
        #expect(withInf.count == 3)
    }
}
