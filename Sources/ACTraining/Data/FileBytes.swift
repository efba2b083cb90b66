import CZlib
import Foundation

/// Reads whole files, transparently inflating gzip (RFC 1952) through zlib.
///
/// The seam between the data loaders and zlib: every `inflate*` call of the training side
/// goes through ``FileBytes/gunzip(_:path:)``.
public enum FileBytes {
    /// Returns the bytes of `path`; if they start with the gzip magic `1f 8b`, the inflated bytes.
    ///
    /// - Throws: ``DataError/io(_:)`` when the file cannot be read, ``DataError/corrupt(_:)``
    ///   when the gzip stream is damaged or truncated.
    ///   With `inflate: false` the raw bytes are returned as stored.
    public static func read(_ path: String, inflate: Bool = true) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataError.io("cannot read \(path): not a regular file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io("cannot read \(path)")
        }
        let bytes = [UInt8](data)
        if inflate && isGzip(bytes) {
            return try gunzip(bytes, path: path)
        }
        return bytes
    }

    /// Whether `bytes` start with the gzip magic `1f 8b`.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Inflates a complete gzip stream (concatenated members included) with zlib.
    ///
    /// - Parameter maxOutput: stop after this many output bytes (the result is then the
    ///   stream's first `maxOutput` bytes, without an error); nil inflates everything.
    /// - Throws: ``DataError/corrupt(_:)`` naming `path` when zlib reports an error or the
    ///   stream ends early.
    public static func gunzip(_ input: [UInt8], path: String = "<memory>", maxOutput: Int? = nil) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        var status = inflateInit2_(
            &stream, 16 + MAX_WBITS, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw DataError.corrupt("\(path): zlib init failed (\(status))") }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        output.reserveCapacity(min(input.count * 4, maxOutput ?? Int.max))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var inputOffset = 0
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                output.append(contentsOf: buffer[0..<produced])
                if let maxOutput, output.count >= maxOutput {
                    output.removeLast(output.count - maxOutput)
                    return
                }
                if status == Z_STREAM_END {
                    // Another gzip member may follow (gzip allows concatenation).
                    inputOffset = inBuf.count - Int(stream.avail_in)
                    if stream.avail_in > 0 && inBuf[inputOffset] == 0x1f {
                        inflateReset(&stream)
                        continue
                    }
                    return
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw DataError.corrupt("\(path): gzip stream is truncated")
                }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                    throw DataError.corrupt("\(path): gzip data is corrupt (\(message))")
                }
            }
        }
        return output
    }
}

/// Errors of the data loaders. Each message names the file and the problem.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// The file or directory could not be read.
    case io(String)
    /// The content is malformed (bad magic, inconsistent sizes, damaged compression).
    case corrupt(String)
    /// The request does not fit the data (missing split, empty folder, mismatched counts).
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let m): return "I/O error: \(m)"
        case .corrupt(let m): return "corrupt data: \(m)"
        case .invalid(let m): return "invalid data: \(m)"
        }
    }
}
