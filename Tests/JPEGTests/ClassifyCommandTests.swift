import ACNetWriter
import ACRuntime
import CJPEG
import Foundation
import Testing

/// `acnet classify` (docs/DESIGN.md §8) run as a process: output format, exit status, --json, hostile
/// files, and agreement with the preprocessing definition computed here in-process.
///
/// The model is a template matcher written with ACNetWriter: one linear layer whose logits are
/// −s·‖x − μ_k‖² (up to a per-image constant), μ_k the normalised `<slug>-1.jpg`, so every
/// `<slug>-1.jpg` is classified as its own class.
@Suite("acnet classify")
struct ClassifyCommandTests {
    static let labels = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    static let spec = InputSpec(channelOrder: .gray, mean: [0.2860], std: [0.3530])

    /// The `acnet` executable next to the test bundle (or $ACNET_BIN).
    static var acnet: String {
        if let path = ProcessInfo.processInfo.environment["ACNET_BIN"] { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("acnet").path
    }

    /// The sample image normalised exactly as the CLI does (acj_decode_file + acj_preprocess).
    static func input(_ path: String) throws -> [Float] {
        var image = acj_image()
        var err = [CChar](repeating: 0, count: 256)
        try #require(acj_decode_file(path, 1, 0, &image, &err, err.count) == ACJ_OK)
        defer { acj_image_free(&image) }
        var out = [Float](repeating: 0, count: 784)
        try #require(
            acj_preprocess(image.pixels, image.width, image.height, 1, 28, 28, spec.mean, spec.std, &out) == ACJ_OK)
        return out
    }

    static let modelPath: String = {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("acnet-classify-\(ProcessInfo.processInfo.processIdentifier).acnb").path
        var builder = ModelBuilder(inputChannels: 1, height: 28, width: 28, inputSpec: spec, labels: labels)
        let s: Float = 0.02
        var weight = [Float]()
        var bias = [Float]()
        for slug in JPEGFixtures.slugs {
            let mu = try! input(JPEGFixtures.samplePath("\(slug)-1.jpg"))
            weight += mu.map { 2 * s * $0 }
            bias.append(-s * mu.reduce(0) { $0 + $1 * $1 })
        }
        let x = try! builder.flatten(builder.input)
        let y = try! builder.linear(x, weight: weight, bias: bias, outputFeatures: 10, activation: .none)
        try! builder.write(toFile: path, output: y)
        return path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: acnet)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "acnet was killed by a signal")
        return Result(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }

    /// Parses `LABEL<TAB>0.dddd` lines; nil if any line is malformed.
    static func block(_ lines: [Substring]) -> [(label: String, p: Double)]? {
        var result = [(label: String, p: Double)]()
        for line in lines {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 6, parts[1].hasPrefix("0.") || parts[1].hasPrefix("1."),
                let p = Double(parts[1])
            else { return nil }
            result.append((String(parts[0]), p))
        }
        return result
    }

    @Test(
        "one image: --top lines LABEL<TAB>PROBABILITY, best first, no '# PATH'; the template wins",
        arguments: JPEGFixtures.slugs)
    func oneImage(slug: String) throws {
        let r = try Self.run(["classify", Self.modelPath, JPEGFixtures.samplePath("\(slug)-1.jpg"), "--top", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(Self.block(r.stdout.split(separator: "\n")))
        #expect(rows.count == 3)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.p >= $1.p })
        let slugged = rows[0].label.lowercased().replacingOccurrences(of: "/", with: "-").replacingOccurrences(
            of: " ", with: "-")
        #expect(slugged == slug)
    }

    @Test("the CLI's numbers are the preprocessing definition's: softmax of the runtime's logits")
    func agreesWithDefinition() throws {
        let session = try Session(model: try Model(contentsOfFile: Self.modelPath))
        for name in JPEGFixtures.sampleNames {
            let path = JPEGFixtures.samplePath(name)
            let logits = try session.run(try Self.input(path))
            let m = Double(logits.max()!)
            let e = logits.map { Foundation.exp(Double($0) - m) }
            let probs = e.map { $0 / e.reduce(0, +) }
            let r = try Self.run(["classify", Self.modelPath, path, "--top", "10"])
            let rows = try #require(Self.block(r.stdout.split(separator: "\n")), "\(name): \(r.stdout)")
            #expect(rows.count == 10)
            for row in rows {
                let k = try #require(Self.labels.firstIndex(of: row.label))
                #expect(abs(row.p - probs[k]) <= 0.00005 + 1e-9, "\(name) \(row.label): \(row.p) vs \(probs[k])")
            }
        }
    }

    @Test("several images: '# PATH' blocks; an unusable one → stderr, the rest classified, exit 1")
    func severalImages() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).jpg").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let a = JPEGFixtures.samplePath("bag-1.jpg")
        let b = JPEGFixtures.samplePath("trouser-2.jpg")
        let r = try Self.run(["classify", Self.modelPath, a, empty, b, "--top", "2"])
        #expect(r.status == 1)
        #expect(r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("# ") } == ["# \(a)", "# \(b)"])
        #expect(r.stdout.split(separator: "\n").count == 6)
        #expect(r.stderr.contains(empty))
    }

    @Test("--json: one entry per image, predictions or an error")
    func json() throws {
        let a = JPEGFixtures.samplePath("sneaker-1.jpg")
        let r = try Self.run(["classify", Self.modelPath, a, "/no/such.jpg", "--top", "2", "--json"])
        #expect(r.status == 1)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(items.count == 2)
        #expect(items[0]["path"] as? String == a)
        let predictions = try #require(items[0]["predictions"] as? [[String: Any]])
        #expect(predictions.count == 2 && predictions[0]["label"] as? String == "Sneaker")
        #expect(items[1]["error"] is String)
    }

    @Test("hostile files get a message and exit 1, never a crash")
    func hostile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpeg = try JPEGFixtures.bytes(JPEGFixtures.samplePath("coat-1.jpg"))
        var huge = jpeg
        let sof = try #require((0..<huge.count - 1).first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 })
        huge.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFF, 0xDC, 0xFF, 0xDC])
        var files: [(String, [UInt8])] = [
            ("empty.jpg", []), ("png.jpg", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
            ("random.jpg", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }),
            ("huge.jpg", huge),
        ]
        for cut in [2, 100, jpeg.count / 2, jpeg.count - 2] { files.append(("cut-\(cut).jpg", Array(jpeg[..<cut]))) }
        for (name, bytes) in files {
            let path = dir.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let r = try Self.run(["classify", Self.modelPath, path])
            #expect(r.status == 1 && r.stdout.isEmpty && r.stderr.contains(path), "\(name): \(r.status) \(r.stderr)")
        }
    }
}
