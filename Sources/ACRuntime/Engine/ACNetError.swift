/// The status codes of the C ABI (`acnet_status` in include/acnet.h), shared by the Swift API.
public enum ACNetStatus: Int32, Sendable {
    case ok = 0
    case invalidArgument = 1
    case misaligned = 2
    case io = 3
    case badFormat = 4
    case checksumMismatch = 5
    case unsupportedVersion = 6
    case unsupportedOp = 7
    case outOfMemory = 8
    case bufferTooSmall = 9
    case outOfRange = 10

    /// The C name of the status, e.g. `"ACNET_ERROR_BAD_FORMAT"`.
    public var name: StaticString {
        switch self {
        case .ok: "ACNET_OK"
        case .invalidArgument: "ACNET_ERROR_INVALID_ARGUMENT"
        case .misaligned: "ACNET_ERROR_MISALIGNED"
        case .io: "ACNET_ERROR_IO"
        case .badFormat: "ACNET_ERROR_BAD_FORMAT"
        case .checksumMismatch: "ACNET_ERROR_CHECKSUM_MISMATCH"
        case .unsupportedVersion: "ACNET_ERROR_UNSUPPORTED_VERSION"
        case .unsupportedOp: "ACNET_ERROR_UNSUPPORTED_OP"
        case .outOfMemory: "ACNET_ERROR_OUT_OF_MEMORY"
        case .bufferTooSmall: "ACNET_ERROR_BUFFER_TOO_SMALL"
        case .outOfRange: "ACNET_ERROR_OUT_OF_RANGE"
        }
    }
}

/// An error from the runtime: a status (the C ABI's code) and a human-readable message.
///
/// Thrown for malformed model files, bad arguments and failed allocations; never for a
/// programmer error inside the runtime (those are `precondition`s).
public struct ACNetError: Error, Sendable, CustomStringConvertible {
    /// The category, identical to the C ABI's `acnet_status`.
    public let status: ACNetStatus
    /// What went wrong, naming the offending field, index or value.
    public let message: String

    public init(_ status: ACNetStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.name): \(message)" }

    static func badFormat(_ message: String) -> ACNetError { ACNetError(.badFormat, message) }
    static func unsupported(_ message: String) -> ACNetError { ACNetError(.unsupportedOp, message) }
    static func invalid(_ message: String) -> ACNetError { ACNetError(.invalidArgument, message) }
}
