import CJPEG
import Foundation
import Testing

/// The libjpeg shim (Sources/CJPEG, acj.h) from Swift: decoding of the sample images, strict
/// rejection of hostile input, and the preprocessing formulas (docs/DESIGN.md §4). The deeper C-side
/// tests (every colour space, bit flips, ASan) are Tests/JPEGHarness and scripts/test_classify.sh.
enum JPEGFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let slugs = [
        "t-shirt-top", "trouser", "pullover", "dress", "coat",
        "sandal", "shirt", "sneaker", "bag", "ankle-boot",
    ]
    static let sampleNames = slugs.flatMap { ["\($0)-1.jpg", "\($0)-2.jpg"] }
    static func samplePath(_ name: String) -> String {
        root.appendingPathComponent("examples/images/\(name)").path
    }
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A decoded image (copied out of the shim's buffer) or the shim's status and message.
struct Decoded {
    var status: Int32
    var message: String
    var width = 0, height = 0, channels = 0
    var pixels: [UInt8] = []

    init(file path: String, channels want: Int32, maxPixels: UInt64 = 0) {
        self.init { image, err in acj_decode_file(path, want, maxPixels, &image, &err, err.count) }
    }

    init(memory data: [UInt8], channels want: Int32, maxPixels: UInt64 = 0) {
        self.init { image, err in
            data.withUnsafeBufferPointer {
                acj_decode_memory($0.baseAddress, $0.count, want, maxPixels, &image, &err, err.count)
            }
        }
    }

    private init(_ decode: (inout acj_image, inout [CChar]) -> Int32) {
        var image = acj_image()
        var err = [CChar](repeating: 0, count: 256)
        status = decode(&image, &err)
        message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let p = image.pixels {
            width = Int(image.width)
            height = Int(image.height)
            channels = Int(image.channels)
            pixels = Array(UnsafeBufferPointer(start: p, count: width * height * channels))
        }
        acj_image_free(&image)
    }
}

@Suite("libjpeg shim: decoding")
struct AcjDecodeTests {
    @Test(
        "every sample image decodes as 28×28 gray, the same from a file and from memory",
        arguments: JPEGFixtures.sampleNames)
    func samples(name: String) throws {
        let path = JPEGFixtures.samplePath(name)
        let file = Decoded(file: path, channels: 1)
        try #require(file.status == ACJ_OK, "\(name): \(file.message)")
        #expect(file.width == 28 && file.height == 28 && file.channels == 1)
        let memory = Decoded(memory: try JPEGFixtures.bytes(path), channels: 1)
        #expect(memory.status == ACJ_OK && memory.pixels == file.pixels)
        // A grayscale JPEG asked for as RGB replicates Y into R = G = B.
        let rgb = Decoded(file: path, channels: 3)
        #expect(rgb.channels == 3)
        let replicated = (0..<784).allSatisfy { (i: Int) -> Bool in
            let y = file.pixels[i]
            return rgb.pixels[3 * i] == y && rgb.pixels[3 * i + 1] == y && rgb.pixels[3 * i + 2] == y
        }
        #expect(replicated)
    }

    @Test("every strict prefix of a JPEG is refused (no gray-filled images)")
    func truncation() throws {
        let data = try JPEGFixtures.bytes(JPEGFixtures.samplePath("bag-1.jpg"))
        for n in 0..<data.count {
            let d = Decoded(memory: Array(data[..<n]), channels: 1)
            #expect(d.status != ACJ_OK && d.pixels.isEmpty, "prefix of \(n) bytes accepted")
        }
        #expect(Decoded(memory: data, channels: 1).status == ACJ_OK)
    }

    @Test("hostile input: empty, a PNG, random bytes, a 65500×65500 header, a directory")
    func hostile() throws {
        #expect(Decoded(memory: [], channels: 3).status == ACJ_ERROR_FORMAT)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        let p = Decoded(memory: png, channels: 3)
        #expect(p.status == ACJ_ERROR_FORMAT && p.message.contains("PNG"))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let random = (0..<Int.random(in: 1...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Decoded(memory: random, channels: 1).status != ACJ_OK)
        }
        var data = try JPEGFixtures.bytes(JPEGFixtures.samplePath("coat-1.jpg"))
        let sof = try #require((0..<data.count - 1).first { data[$0] == 0xFF && data[$0 + 1] == 0xC0 })
        data.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFF, 0xDC, 0xFF, 0xDC])
        let huge = Decoded(memory: data, channels: 1)
        #expect(huge.status == ACJ_ERROR_TOO_LARGE && huge.message.contains("65500"))
        #expect(Decoded(file: JPEGFixtures.root.path, channels: 1).status == ACJ_ERROR_IO)
        #expect(Decoded(file: "/no/such/image.jpg", channels: 1).status == ACJ_ERROR_IO)
        #expect(Decoded(file: JPEGFixtures.samplePath("bag-1.jpg"), channels: 2).status == ACJ_ERROR_ARGUMENT)
    }

    @Test("the pixel limit is checked from the header", arguments: [UInt64(783), 784])
    func pixelLimit(limit: UInt64) {
        let d = Decoded(file: JPEGFixtures.samplePath("bag-1.jpg"), channels: 1, maxPixels: limit)
        #expect(d.status == (limit < 784 ? ACJ_ERROR_TOO_LARGE : ACJ_OK))
    }

    @Test("encode then decode: gray, RGB and Adobe CMYK", arguments: [UInt32(1), 3, 4])
    func roundTrip(channels: UInt32) throws {
        let (w, h) = (37, 23)
        let pixels = (0..<(w * h * Int(channels))).map { UInt8(($0 * 7 / Int(channels)) % 200 + 30) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("acj-\(UUID().uuidString).jpg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var err = [CChar](repeating: 0, count: 256)
        #expect(acj_encode_file(path, pixels, UInt32(w), UInt32(h), channels, 95, &err, err.count) == ACJ_OK)
        let d = Decoded(file: path, channels: channels == 1 ? 1 : 3)
        try #require(d.status == ACJ_OK, "\(d.message)")
        #expect(d.width == w && d.height == h)
        if channels == 1 {
            let mad = zip(d.pixels, pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +) / pixels.count
            #expect(mad <= 2)
        }
    }
}

@Suite("libjpeg shim: preprocessing (docs/DESIGN.md §4)")
struct AcjPreprocessTests {
    func run(
        _ p: [UInt8], _ w: Int, _ h: Int, _ c: Int, _ ow: Int, _ oh: Int,
        mean: [Float]? = nil, std: [Float]? = nil
    ) -> (Int32, [Float]) {
        var out = [Float](repeating: .nan, count: c * ow * oh)
        let m = mean ?? [Float](repeating: 0, count: c)
        let s = std ?? [Float](repeating: 1, count: c)
        let status = acj_preprocess(p, UInt32(w), UInt32(h), UInt32(c), UInt32(ow), UInt32(oh), m, s, &out)
        return (status, out.map { $0 * 255 })
    }

    @Test("area averaging when shrinking: 3 → 2 weighs (1, ½) and (½, 1)")
    func area() {
        let (s, v) = run([0, 90, 180], 3, 1, 1, 2, 1)
        #expect(s == ACJ_OK && abs(v[0] - 30) < 1e-3 && abs(v[1] - 150) < 1e-3)
        let (_, y) = run([0, 100, 200, 255], 1, 4, 1, 1, 2)
        #expect(abs(y[0] - 50) < 1e-3 && abs(y[1] - 227.5) < 1e-3)
    }

    @Test("bilinear with half-pixel centres when enlarging: 2 → 4")
    func bilinear() {
        let (_, v) = run([0, 100], 2, 1, 1, 4, 1)
        #expect(zip(v, [0, 25, 75, 100] as [Float]).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    @Test("a flat image stays flat at any size", arguments: [(28, 28), (13, 57), (1, 1), (300, 2)])
    func flat(size: (Int, Int)) {
        let (s, v) = run([UInt8](repeating: 201, count: 97 * 31 * 3), 97, 31, 3, size.0, size.1)
        #expect(s == ACJ_OK && v.allSatisfy { abs($0 - 201) < 1e-3 })
    }

    @Test("normalisation x = (p/255 − mean)/std, written planar (NCHW)")
    func normalisation() {
        var out = [Float](repeating: 0, count: 6)
        let status = acj_preprocess([255, 0, 51, 0, 255, 102], 2, 1, 3, 2, 1, [0.5, 0.25, 0], [0.5, 0.25, 2], &out)
        #expect(status == ACJ_OK)
        #expect(zip(out, [1, -1, -1, 3, 0.1, 0.2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test("invalid arguments are refused and nothing is written")
    func invalid() {
        #expect(run([1, 2], 2, 1, 1, 2, 1, std: [0]).0 == ACJ_ERROR_ARGUMENT)
        #expect(run([1, 2], 2, 1, 1, 2, 1, std: [.nan]).0 == ACJ_ERROR_ARGUMENT)
        #expect(run([1, 2], 2, 1, 1, 0, 1).0 == ACJ_ERROR_ARGUMENT)
    }
}
