// libFuzzer harness for the ONNX importer (Sources/ACImport): protobuf bytes → ONNXGraph
// (decode, constants, topological order) → lowering (BatchNorm folding, ACB / RepVGG branch
// merging, shortcut lowering) → .acnb bytes. Built by scripts/fuzz.sh --import from the module
// sources with the flags the shipped `acnet` uses (-O -wmo; SwiftProtobuf, ACNetWriter and
// ACImport keep their overflow, bounds and exclusivity checks), plus -sanitize=fuzzer,address.
//
// The importer may only return a model or throw ImportError with a message. A model it returns
// must load in ACRuntime (the writer and the validator agree); when it is small (workspace
// ≤ 16 MiB, input and output ≤ 1 Mi elements) it is also run once on zeros. A trap, an ASan
// report, a timeout or the rss limit (a bounded-memory failure) is a finding.
import ACImport
import ACRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

private let maxWorkspace = 16 << 20
private let maxElements = 1 << 20

@inline(never) private func violated(_ what: String) -> Never {
    fputs("acnet-fuzz-import: invariant violated: \(what)\n", stderr)
    abort()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImport(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let onnx = Data(bytes: data, count: size)
    let bytes: [UInt8]
    let summary: ImportSummary
    do {
        let importer = try ONNXImporter(data: onnx, options: ImportOptions())
        (bytes, summary) = try importer.importModel()
    } catch {
        if error.message.isEmpty { violated("ImportError without a message") }
        return 0
    }
    let model: Model
    do { model = try Model(bytes: bytes) } catch {
        violated("the importer wrote a model the runtime refuses: \(error)")
    }
    if summary.inputShape.count != 3 { violated("summary input shape \(summary.inputShape)") }
    let inCount = model.inputElementCount
    let outCount = model.outputElementCount
    guard inCount <= maxElements, outCount <= maxElements,
        let ws = try? Session.workspaceSize(for: model), ws <= maxWorkspace
    else { return 0 }
    do {
        let session = try Session(model: model)
        let y = try session.run([Float](repeating: 0, count: inCount))
        if y.count != outCount { violated("output has \(y.count) values, the model declares \(outCount)") }
    } catch {
        violated("running an imported model failed: \(error)")
    }
    return 0
}
