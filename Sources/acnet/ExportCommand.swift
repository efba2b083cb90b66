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

    @Option(name: .long, help: "The .acnb file to write.")
    var out: String

    @Option(name: .long, help: "Dataset directory for verification (default: the one the checkpoint was trained on).")
    var data: String?

    @Option(name: .long, help: "Images in the logits comparison batch.")
    var verifyBatch = 256

    @Option(name: .long, help: "Verify argmax agreement on only N test images (a seeded subset; default: all).")
    var limit: Int?

    func run() throws {
        let file = try SafeTensors(contentsOfFile: checkpoint)
        let info = try TrainerCheckpointInfo(file, path: checkpoint)
        let model = try info.recipe.makeModel()
        try ModelState.load(model, from: file)
        guard let dataDir = data ?? info.metadata["data"] else {
            throw ValidationError("the checkpoint does not name its dataset; pass --data DIR")
        }
        let bytes = try ModelExport.fusedModelBytes(model: model, info: info)
        let report = try ModelExport.verify(bytes: bytes, model: model, info: info, dataDirectory: dataDir,
                                            verifyBatch: verifyBatch, limit: limit)
        print(report.summary)
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
