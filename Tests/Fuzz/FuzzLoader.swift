// libFuzzer harness over the C ABI: acnet_model_load_memory → every query → session create
// (kernel ISA baseline, AVX2 or AVX-512 by input length) → one run. Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address; the runtime and
// the C interface are compiled into the harness with the same instrumentation).
//
// Each input is copied into its own exactly-sized, 64-byte-aligned heap block, so
// AddressSanitizer reports any read past its end. By default the harness "seals" the input
// first: it writes the input's length into the header's file-size field and recomputes the
// CRC-32C (docs/FORMAT.md), so mutations get past the checksum and reach the validator, the
// planner and the kernels. ACNET_FUZZ_KEEP_CHECKSUM=1 turns sealing off (then almost every
// mutation stops at CHECKSUM_MISMATCH, which exercises the header checks only).
//
// Resource caps (a hostile but valid model may legitimately need gigabytes or minutes; the
// library does not limit that, the application does): no session when the workspace exceeds
// 16 MiB or the input/output exceed 4 Mi elements.
import CACNet

#if canImport(Glibc)
import Glibc
#endif

private let seal: Bool = getenv("ACNET_FUZZ_KEEP_CHECKSUM") == nil
private let maxWorkspace = 16 << 20
private let maxElements = 4 << 20

@inline(never) private func check(_ ok: Bool, _ what: StaticString) {
    if !ok {
        fputs("acnet-fuzz: invariant violated: \(what)\n", stderr)
        abort()
    }
}

private func put32(_ p: UnsafeMutableRawPointer, _ at: Int, _ v: UInt32) {
    p.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
}

/// Writes the size and CRC-32C fields the way a valid writer would.
private func sealImage(_ p: UnsafeMutableRawPointer, _ size: Int) {
    guard size >= 32 else { return }
    p.storeBytes(of: UInt64(size).littleEndian, toByteOffset: 16, as: UInt64.self)
    var crc = acnet_support_crc32c(0, p, 24)
    var zero: UInt32 = 0
    crc = acnet_support_crc32c(crc, &zero, 4)
    crc = acnet_support_crc32c(crc, p + 28, size - 28)
    put32(p, 24, crc)
}

private func exercise(_ model: OpaquePointer, isaSeed: Int) {
    var shape = [Int64](repeating: -1, count: 4)
    var rank = 0
    check(acnet_model_input_shape(model, &shape, &rank) == ACNET_OK && rank == 4 && shape[0] == 1, "input shape")
    var inCount = 1
    for i in 1..<4 {
        check(shape[i] >= 1, "input dims ≥ 1")
        inCount = inCount.multipliedReportingOverflow(by: Int(shape[i])).partialValue
    }
    check(acnet_model_output_shape(model, &shape, &rank) == ACNET_OK && (rank == 2 || rank == 4), "output shape")
    var outCount = 1
    for i in 1..<rank {
        check(shape[i] >= 1, "output dims ≥ 1")
        outCount = outCount.multipliedReportingOverflow(by: Int(shape[i])).partialValue
    }
    var spec = acnet_input_spec()
    check(acnet_model_input_spec(model, &spec) == ACNET_OK, "input spec")
    var labels = 0
    check(acnet_model_label_count(model, &labels) == ACNET_OK, "label count")
    var total = 0
    for i in 0..<labels {
        var label: UnsafePointer<CChar>? = nil
        check(acnet_model_label(model, i, &label) == ACNET_OK && label != nil, "label")
        total &+= strlen(label!)
    }
    var label: UnsafePointer<CChar>? = nil
    check(acnet_model_label(model, labels, &label) == ACNET_ERROR_OUT_OF_RANGE, "label past the end")

    var ws = 0
    check(acnet_session_workspace_size(model, nil, &ws) == ACNET_OK, "workspace size")
    guard ws <= maxWorkspace, inCount <= maxElements, outCount <= maxElements else { return }
    // Every kernel set gets fuzzed: the ISA follows the input's length (reproducible per input).
    var options = acnet_session_options()
    check(acnet_session_options_init(&options) == ACNET_OK, "options")
    options.isa = UInt32(1 + isaSeed % 3)
    var session: OpaquePointer? = nil
    var st = acnet_session_create(model, &options, nil, 0, &session)
    if st == ACNET_ERROR_INVALID_ARGUMENT {  // an ISA this CPU cannot run
        st = acnet_session_create(model, nil, nil, 0, &session)
    }
    check(st == ACNET_OK || st == ACNET_ERROR_OUT_OF_MEMORY, "session create")
    guard let session else { return }
    let input = UnsafeMutablePointer<Float>.allocate(capacity: inCount)
    for i in 0..<inCount { input[i] = Float(i % 251) / 251 - 0.5 }
    let output = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
    check(acnet_session_run(session, 1, input, inCount, output, outCount) == ACNET_OK, "run")
    check(acnet_model_free(model) == ACNET_ERROR_INVALID_ARGUMENT, "free refused while a session lives")
    input.deallocate()
    output.deallocate()
    acnet_session_free(session)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let image = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    image.copyMemory(from: data, byteCount: size)
    if seal { sealImage(image, size) }
    var model: OpaquePointer? = nil
    let status = acnet_model_load_memory(image, size, &model)
    if status == ACNET_OK, let model {
        exercise(model, isaSeed: size)
        check(acnet_model_free(model) == ACNET_OK, "model free")
    } else {
        check(model == nil, "no model on failure")
        check((ACNET_ERROR_BAD_FORMAT...ACNET_ERROR_OUT_OF_MEMORY).contains(status), "a format status")
        check(strlen(acnet_last_error_message()) > 0, "an error message")
    }
    image.deallocate()
    return 0
}
