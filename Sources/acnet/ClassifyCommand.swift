import ACRuntime
import ArgumentParser
import CJPEG
import Foundation

/// `acnet classify MODEL.acnb IMAGE...` (docs/DESIGN.md §8): top-K labels with softmax
/// probabilities per JPEG, using the project's one preprocessing definition (`acj_preprocess`).
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify JPEG images with a model: top-K labels and softmax probabilities.",
        discussion: """
            Each image is decoded with libjpeg (baseline or progressive; grayscale, RGB, CMYK or \
            YCCK), converted to the model's channel order, stretched to the model's input size \
            (area averaging when shrinking, bilinear when enlarging) and normalised with the \
            model's mean/std. Output per image: --top lines LABEL<TAB>PROBABILITY, best first; \
            with several images a line '# PATH' precedes each block. Unusable images are \
            reported on stderr and skipped; the exit status is 0 only if every image was \
            classified. Images over --max-pixels pixels are refused before decoding.
            """)

    @Argument(help: "The .acnb model file.")
    var model: String

    @Argument(help: "JPEG files.")
    var images: [String]

    @Option(help: "Labels to print per image, 1...1000000.")
    var top: Int = 5

    @Option(help: "Largest accepted image, in pixels (width × height), 1...4294967296.")
    var maxPixels: UInt64 = UInt64(ACJ_DEFAULT_MAX_PIXELS)

    @Flag(help: "Print a JSON array of {path, predictions: [{label, index, probability}]} or {path, error}.")
    var json = false

    func validate() throws {
        try OptionCheck.range("--top", top, 1...1_000_000)
        try OptionCheck.range("--max-pixels", maxPixels, 1...(1 << 32))
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        try OptionCheck.inputFile("model", model)
    }

    func run() throws {
        let m: Model
        do { m = try Model(contentsOfFile: model) } catch { throw CLIError("\(model): \(error)") }
        guard m.inputShape[0] == 1 || m.inputShape[0] == 3, m.inputSpec.channelOrder != .none else {
            throw CLIError("\(model): the model's input is not an image (channel order \(m.inputSpec.channelOrder))")
        }
        let session = try Session(model: m)
        var failures = 0
        var jsonItems = [String]()
        var input = [Float](repeating: 0, count: m.inputElementCount)
        for path in images {
            do {
                try Preprocessing.load(path, into: &input, spec: m.inputSpec, shape: m.inputShape, maxPixels: maxPixels)
                let logits = try session.run(input)
                guard logits.allSatisfy(\.isFinite) else {
                    throw CLIError(
                        "the model's output is not finite (\(logits.first { !$0.isFinite }!)): "
                            + "the model's weights or input spec are broken")
                }
                let probs = softmax(logits)
                let order = probs.indices.sorted { probs[$0] != probs[$1] ? probs[$0] > probs[$1] : $0 < $1 }.prefix(
                    top)
                func label(_ i: Int) -> String { i < m.labels.count ? m.labels[i] : "class \(i)" }
                if json {
                    let preds = order.map {
                        "{\"label\":\(jsonString(label($0))),\"index\":\($0),\"probability\":\(String(format: "%.6f", probs[$0]))}"
                    }
                    jsonItems.append("{\"path\":\(jsonString(path)),\"predictions\":[\(preds.joined(separator: ","))]}")
                } else {
                    if images.count > 1 { print("# \(path)") }
                    for i in order { print("\(label(i))\t\(String(format: "%.4f", probs[i]))") }
                }
            } catch {
                failures += 1
                FileHandle.standardError.write("acnet classify: \(path): \(error)\n".data(using: .utf8)!)
                if json { jsonItems.append("{\"path\":\(jsonString(path)),\"error\":\(jsonString("\(error)"))}") }
            }
        }
        if json { print("[\(jsonItems.joined(separator: ","))]") }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Decoding and preprocessing of one JPEG for a model (the CLI side of docs/DESIGN.md §4).
enum Preprocessing {
    /// Decodes `path` and writes the model input (C × H × W floats) into `input`.
    static func load(_ path: String, into input: inout [Float], spec: InputSpec, shape: [Int], maxPixels: UInt64) throws
    {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        guard let st = OptionCheck.status(path) else { throw CLIError("cannot read \(path): no such file") }
        guard OptionCheck.isRegularFile(st) else { throw CLIError("cannot read \(path): not a regular file") }
        var image = acj_image()
        var err = [CChar](repeating: 0, count: 256)
        let rc = acj_decode_file(path, Int32(c), maxPixels, &image, &err, err.count)
        guard rc == ACJ_OK else { throw CLIError(String(cString: err)) }
        defer { acj_image_free(&image) }
        if spec.channelOrder == .bgr {
            // libjpeg gives RGB; swap to BGR in place.
            for p in 0..<Int(image.width * image.height) { swap(&image.pixels[3 * p], &image.pixels[3 * p + 2]) }
        }
        let rc2 = acj_preprocess(
            image.pixels, image.width, image.height, UInt32(c), UInt32(w), UInt32(h),
            spec.mean, spec.std, &input)
        guard rc2 == ACJ_OK else { throw CLIError("preprocessing failed (status \(rc2))") }
    }
}

func softmax(_ v: [Float]) -> [Float] {
    let m = v.max() ?? 0
    let e = v.map { Foundation.exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
