// libFuzzer harness for the training side's file readers: the safetensors parser
// (SafeTensors(bytes:), typed tensor access, re-serialisation), and the IDX reader with its
// bounded gzip inflation (IDXFile(fileBytes:)). The first input byte picks the reader; the rest
// is the file. Built by scripts/fuzz.sh --training from the reader sources themselves
// (swiftc -sanitize=fuzzer,address), so it needs neither BLAS nor the rest of ACTraining.
// A reader may only return or throw its typed error; a trap or an ASan report is a finding.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrainingReaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 3 {
    case 0:
        if let file = try? SafeTensors(bytes: bytes) {
            for name in file.tensors.keys where file.tensors[name]?.dtype == "F32" { _ = try? file.floats(name) }
            for name in file.tensors.keys where file.tensors[name]?.dtype == "I64" { _ = try? file.int64s(name) }
            _ = file.serialized()
        }
    case 1:
        _ = try? IDXFile(fileBytes: bytes, name: "fuzz", expectedRank: nil)
    default:
        // Raw gzip bodies: the bounded inflater alone.
        _ = try? FileBytes.gunzip(bytes, maxOutput: 1 << 16)
    }
    return 0
}
