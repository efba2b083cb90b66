import CACNet
import CInterface
import Testing

@testable import ACRuntime

/// include/acnet.h is the contract: every constant it defines must be the value the runtime
/// uses. (The compiler checks the function declarations through `@c @implementation`; the
/// symbol diff in scripts/test_c_abi.sh checks the exports. Macros and enum values are checked
/// here, so a header that drifts from the code fails CI.)
@Suite("acnet.h constants agree with the runtime")
struct HeaderContractTests {
    @Test("ACNET_FORMAT_VERSION is the newest .acnb version the runtime reads")
    func formatVersion() {
        #expect(UInt32(ACNET_FORMAT_VERSION) == ACNBFormat.version)
        #expect(ACNBFormat.minimumVersion == 1)
    }

    @Test(
        "every acnet_status macro has the runtime's value and name",
        arguments: [
            (ACNET_OK, ACNetStatus.ok), (ACNET_ERROR_INVALID_ARGUMENT, .invalidArgument),
            (ACNET_ERROR_MISALIGNED, .misaligned), (ACNET_ERROR_IO, .io), (ACNET_ERROR_BAD_FORMAT, .badFormat),
            (ACNET_ERROR_CHECKSUM_MISMATCH, .checksumMismatch), (ACNET_ERROR_UNSUPPORTED_VERSION, .unsupportedVersion),
            (ACNET_ERROR_UNSUPPORTED_OP, .unsupportedOp), (ACNET_ERROR_OUT_OF_MEMORY, .outOfMemory),
            (ACNET_ERROR_BUFFER_TOO_SMALL, .bufferTooSmall), (ACNET_ERROR_OUT_OF_RANGE, .outOfRange),
        ] as [(Int32, ACNetStatus)])
    func status(_ macro: Int32, _ status: ACNetStatus) {
        #expect(macro == status.rawValue)
        #expect(String(cString: acnet_status_string(macro)) == "\(status.name)")
    }

    @Test("the header lists every status the runtime can return")
    func statusCount() {
        // One past the last macro must be unknown to both sides.
        #expect(ACNetStatus(rawValue: ACNET_ERROR_OUT_OF_RANGE + 1) == nil)
        #expect(String(cString: acnet_status_string(ACNET_ERROR_OUT_OF_RANGE + 1)) == "ACNET_UNKNOWN_STATUS")
    }

    @Test("acnet_isa values are KernelISA's raw values")
    func isa() {
        #expect(Int32(ACNET_ISA_BASELINE.rawValue) == KernelISA.baseline.rawValue)
        #expect(Int32(ACNET_ISA_AVX2.rawValue) == KernelISA.avx2.rawValue)
        #expect(Int32(ACNET_ISA_AVX512.rawValue) == KernelISA.avx512.rawValue)
        #expect(KernelISA(rawValue: Int32(ACNET_ISA_AUTO.rawValue)) == nil)
        #expect(KernelISA.allCases.count == 3)
    }

    @Test("acnet_version() is ACNET_VERSION_NUMBER (MAJOR·10000 + MINOR·100 + PATCH)")
    func version() {
        // ACNET_VERSION_NUMBER is an expression macro, which Swift does not import: its
        // definition is spelled out here and in the header's comment.
        #expect(
            acnet_version() == UInt32(ACNET_VERSION_MAJOR * 10000 + ACNET_VERSION_MINOR * 100 + ACNET_VERSION_PATCH))
        #expect(ACNET_VERSION_MINOR < 100 && ACNET_VERSION_PATCH < 100)
    }
}
