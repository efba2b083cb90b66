import ACNetWriter
import ACRuntime
import ACTraining
import ArgumentParser
import Foundation

/// `acnet export CHECKPOINT --out MODEL.acnb`: fuse, write and verify through ACRuntime.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Fuse a trained checkpoint (every ACB and BatchNorm) into an .acnb and verify it.",
        discussion: """
            The checkpoint's model is rebuilt from its recipe and loaded (missing or unexpected \
            tensors are an error). After fusion the .acnb is loaded by ACRuntime and checked against \
            the unfused network in eval mode: max|Δ| of the logits on a batch of real test images \
            must be ≤ 1e-4·(1+max|y|), and the argmax must agree on the whole test split. The file is \
            written (atomically) only if both checks pass.
            """)

    @Argument(help: "A checkpoint written by `acnet train` (e.g. runs/NAME/best.safetensors).")
    var checkpoint: String

    @Option(
        name: .long, help: "The .acnb file to write (replaced atomically; must not be the checkpoint or another input)."
    )
    var out: String

    @Option(name: .long, help: "Dataset directory for verification (default: the one the checkpoint was trained on).")
    var data: String?

    @Option(name: .long, help: "Images in the logits comparison, 1...100000000 (verification cannot be switched off).")
    var verifyBatch = 256

    @Option(
        name: .long,
        help: "Verify argmax agreement on only N test images, 1...100000000 (a seeded subset; default: all).")
    var limit: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Which 3x3 stride-1 convolutions also get Winograd F(4x4,3x3) weights: auto, all or off.",
            discussion: """
                auto: where Winograd.isProfitable predicts a speed-up, and only if the Winograd logits stay \
                within 1e-3 relative of direct convolution with every argmax equal on the test split (else the \
                file is written without them). all: every eligible layer, and the check must pass. \
                Files with Winograd weights are format version 2.
                """))
    var winograd: String = "auto"

    var winogradPolicy: WinogradPolicy { WinogradPolicy(rawValue: winograd) ?? .auto }

    func validate() throws {
        guard WinogradPolicy(rawValue: winograd) != nil else {
            throw ValidationError("--winograd must be auto, all or off")
        }
        try OptionCheck.range("--verify-batch", verifyBatch, 1...OptionCheck.maxImages)
        if let limit { try OptionCheck.range("--limit", limit, 1...OptionCheck.maxImages) }
        try OptionCheck.inputFile("checkpoint", checkpoint)
        if let data { try OptionCheck.inputDirectory("--data", data) }
        try OptionCheck.outputFile("--out", out, inputs: [checkpoint])
    }

    func run() throws {
        let file = try SafeTensors(contentsOfFile: checkpoint)
        let info = try TrainerCheckpointInfo(file, path: checkpoint)
        try ModelState.checkFinite(file, path: checkpoint)
        let model = try info.recipe.makeModel()
        try ModelState.load(model, from: file)
        guard let dataDir = data ?? info.metadata["data"] else {
            throw ValidationError("the checkpoint does not name its dataset; pass --data DIR")
        }
        if data == nil {
            try OptionCheck.inputDirectory("the checkpoint's dataset (metadata 'data'; pass --data DIR)", dataDir)
        }
        var bytes = try ModelExport.fusedModelBytes(model: model, info: info, winograd: winogradPolicy)
        var report = try ModelExport.verify(
            bytes: bytes, model: model, info: info, dataDirectory: dataDir,
            verifyBatch: verifyBatch, limit: limit)
        print(report.summary)
        if let w = report.winograd, !w.passed, winogradPolicy == .auto {
            // The Winograd rounding is too large for this model: ship direct convolution only.
            print("winograd: outside the bound; exporting without Winograd weights")
            bytes = try ModelExport.fusedModelBytes(model: model, info: info, winograd: .off)
            report = try ModelExport.verify(
                bytes: bytes, model: model, info: info, dataDirectory: dataDir,
                verifyBatch: verifyBatch, limit: limit)
            print(report.summary)
        }
        guard report.passed else {
            throw ExitError("verification failed; \(out) was not written")
        }
        try AtomicFile.write(bytes, to: out)
        print("wrote \(out) (\(bytes.count) bytes)")
    }
}

/// An error that prints its message and exits with status 1.
struct ExitError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
