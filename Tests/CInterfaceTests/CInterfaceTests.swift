import ACNetWriter
import ACRuntime
import CACNet
import CInterface
import Testing

/// The C ABI called from Swift: statuses, the thread-local error message, and a run through
/// C handles matching the Swift API bit for bit. (Header/export diff, allocation counting and
/// misuse from C: scripts/test_c_abi.sh.)
@Suite("C ABI")
struct CInterfaceTests {
    static func modelBytes() throws -> [UInt8] { try BenchmarkModels.build("fmnist") }

    @Test("status names and the version")
    func statusNames() {
        #expect(String(cString: acnet_status_string(ACNET_ERROR_CHECKSUM_MISMATCH)) == "ACNET_ERROR_CHECKSUM_MISMATCH")
        #expect(String(cString: acnet_status_string(-1)) == "ACNET_UNKNOWN_STATUS")
        #expect(
            acnet_version() == UInt32(ACNET_VERSION_MAJOR * 10000 + ACNET_VERSION_MINOR * 100 + ACNET_VERSION_PATCH))
    }

    @Test("errors leave a message in the calling thread's buffer, and outputs untouched")
    func errorMessage() {
        var model: OpaquePointer? = nil
        #expect(acnet_model_load_file("/no/such/file.acnb", &model) == ACNET_ERROR_IO)
        #expect(model == nil)
        #expect(String(cString: acnet_last_error_message()).contains("/no/such/file.acnb"))
    }

    @Test("a run through the C handles equals the Swift API's")
    func runMatchesSwift() throws {
        let bytes = try Self.modelBytes()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        var model: OpaquePointer? = nil
        #expect(acnet_model_load_memory(buffer, bytes.count, &model) == ACNET_OK)
        var session: OpaquePointer? = nil
        #expect(acnet_session_create(model, nil, nil, 0, &session) == ACNET_OK)
        let input = (0..<784).map { Float($0 % 29) / 29 }
        var output = [Float](repeating: 0, count: 10)
        #expect(acnet_session_run(session, 1, input, input.count, &output, output.count) == ACNET_OK)
        let swiftOut = try Session(model: try Model(bytes: bytes)).run(input)
        #expect(output == swiftOut)
        #expect(acnet_model_free(model) == ACNET_ERROR_INVALID_ARGUMENT)
        acnet_session_free(session)
        #expect(acnet_model_free(model) == ACNET_OK)
    }
}
