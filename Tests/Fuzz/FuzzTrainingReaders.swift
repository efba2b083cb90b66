// libFuzzer harness for the training side's file readers: the safetensors parser
// (SafeTensors(bytes:), typed tensor access, re-serialisation), the IDX reader with its
// bounded gzip inflation (IDXFile(fileBytes:)), and the image-folder loader
// (ImageFolderDataset.load: the input cut into up to three JPEG files in two class folders,
// decoded by libjpeg through the CJPEG shim and stretched to 8×8). The first input byte picks
// the reader; the rest is the file. Built by scripts/fuzz.sh --training from the reader sources themselves
// (swiftc -sanitize=fuzzer,address), so it needs neither BLAS nor the rest of ACTraining.
// A reader may only return or throw its typed error; a trap or an ASan report is a finding.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrainingReaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 4 {
    case 0:
        if let file = try? SafeTensors(bytes: bytes) {
            for name in file.tensors.keys where file.tensors[name]?.dtype == "F32" { _ = try? file.floats(name) }
            for name in file.tensors.keys where file.tensors[name]?.dtype == "I64" { _ = try? file.int64s(name) }
            _ = file.serialized()
        }
    case 1:
        _ = try? IDXFile(fileBytes: bytes, name: "fuzz", expectedRank: nil)
    case 2:
        // Raw gzip bodies: the bounded inflater alone.
        _ = try? FileBytes.gunzip(bytes, maxOutput: 1 << 16)
    default:
        fuzzImageFolder(bytes, channels: data[0] & 4 == 0 ? 1 : 3)
    }
    return 0
}

/// One scratch dataset root per process, rewritten for every input: `a/0.jpg`, `a/1.jpg` and
/// `b/2.jpg` hold consecutive pieces of the input (cut at the bytes "\xFF\xD9", the JPEG end
/// marker, when present; otherwise at thirds).
private let imageFolderRoot: String = {
    let root = NSTemporaryDirectory() + "acnet-fuzz-images-\(getpid())"
    for c in ["a", "b"] {
        try? FileManager.default.createDirectory(atPath: root + "/" + c, withIntermediateDirectories: true)
    }
    return root
}()

private func fuzzImageFolder(_ bytes: [UInt8], channels: Int) {
    var cuts = [Int]()
    var i = 0
    while i + 1 < bytes.count && cuts.count < 2 {
        if bytes[i] == 0xFF && bytes[i + 1] == 0xD9 { cuts.append(i + 2) }
        i += 1
    }
    while cuts.count < 2 { cuts.append(bytes.count * (cuts.count + 1) / 3) }
    let pieces = [bytes[..<cuts[0]], bytes[cuts[0]..<max(cuts[0], cuts[1])], bytes[max(cuts[0], cuts[1])...]]
    for (k, path) in ["a/0.jpg", "a/1.jpg", "b/2.jpg"].enumerated() {
        FileManager.default.createFile(atPath: imageFolderRoot + "/" + path, contents: Data(pieces[k]))
    }
    _ = try? ImageFolderDataset.load(root: imageFolderRoot, split: .train, channels: channels, size: (8, 8))
}
