import ACRuntime
import ACTraining
import ArgumentParser
import Foundation

/// `acnet eval MODEL.acnb --data DIR [--json]`: test-set accuracy through ACRuntime.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's accuracy on a dataset's test split with the runtime.",
        discussion: """
            DIR holds IDX files (the t10k-* test split is used) or an image folder <class>/*.jpg \
            (its test/ sub-folder when present). Images are preprocessed by the model's input spec. \
            Class folders must be named as the model's labels, a '/' in a label written as '_' \
            (Fashion-MNIST's "T-shirt/top" is the folder T-shirt_top); other folders are an error. \
            A non-finite model output is an error. \
            The last line is `accuracy: 0.XXXX (correct/total)`.
            """)

    @Argument(help: "The .acnb model file.")
    var model: String

    @Option(name: .long, help: "Dataset directory: IDX files or an image folder.")
    var data: String

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    @Option(name: .long, help: "Images per runtime call, 1...4096.")
    var batchSize = 256

    @Option(name: .long, help: "Runtime threads per session, 1...64.")
    var threads = 1

    @Option(
        name: .long,
        help:
            "Evaluate only N test images (a seeded subset covering every class; the same as `acnet export --limit`), 1...100000000."
    )
    var limit: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Transform every test image before preprocessing: rot90, rot180, rot270 (counter-clockwise), flipud (up-down), fliplr (left-right).",
            valueName: "rot90|rot180|rot270|flipud|fliplr"))
    var transform: String?

    func validate() throws {
        try OptionCheck.range("--batch-size", batchSize, 1...OptionCheck.maxRuntimeBatch)
        try OptionCheck.range("--threads", threads, 1...64)
        if let limit { try OptionCheck.range("--limit", limit, 1...OptionCheck.maxImages) }
        try OptionCheck.inputFile("model", model)
        try OptionCheck.inputDirectory("--data", data)
        if let transform, ImageTransform(rawValue: transform) == nil {
            throw ValidationError(
                "--transform must be one of \(ImageTransform.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let loaded: Model
        do { loaded = try Model(contentsOfFile: model) } catch {
            throw ValidationError("cannot load \(model): \(error)")
        }
        let data = try EvaluationData(
            directory: self.data, model: loaded, limit: limit,
            transform: transform.flatMap(ImageTransform.init(rawValue:)))
        let started = Date()
        let predictions = try runtimePredictions(
            model: loaded, inputs: data.inputs, count: data.count,
            batch: batchSize, threads: threads)
        let seconds = Date().timeIntervalSince(started)
        let correct = zip(predictions, data.labels).filter { $0 == $1 }.count
        let accuracy = Double(correct) / Double(max(data.count, 1))
        if json {
            var object: [String: Any] = [
                "model": model, "data": data.source, "correct": correct, "total": data.count,
                "accuracy": accuracy, "seconds": seconds,
            ]
            if let transform { object["transform"] = transform }
            let bytes = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: bytes, as: UTF8.self))
        } else {
            print("model: \(model)")
            print("data: \(data.source)\(transform.map { ", transform \($0)" } ?? "")")
            print(String(format: "time: %.2f s (%.0f images/s)", seconds, Double(data.count) / max(seconds, 1e-9)))
            print(String(format: "accuracy: %.4f (%d/%d)", accuracy, correct, data.count))
        }
    }
}
