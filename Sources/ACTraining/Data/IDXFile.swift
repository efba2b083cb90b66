/// A parsed IDX file (the MNIST / Fashion-MNIST container, LeCun et al.).
///
/// Layout: two zero bytes, a type byte, a dimension count `n`, then `n` big-endian `UInt32`
/// dimensions, then the values in row-major order. Only unsigned bytes (type `0x08`) are
/// used by the datasets in scope; the other IDX types are recognised and refused clearly.
public struct IDXFile: Sendable {
    /// The dimensions, outermost first: `[N, H, W]` for images, `[N]` for labels.
    public let dimensions: [Int]
    /// The values, row-major, one byte each. `values.count == dimensions.reduce(1, *)`.
    public let values: [UInt8]

    /// The largest payload accepted, in bytes (1 GiB; Fashion-MNIST's training images are
    /// 47 MB). A header declaring more is refused before anything is inflated or copied.
    public static let maxPayloadBytes = 1 << 30

    /// Parses IDX bytes (already inflated).
    ///
    /// - Parameters:
    ///   - name: used in error messages (usually the file path).
    ///   - expectedRank: when given, a file with another number of dimensions is refused
    ///     naming both ranks, before its dimensions are read.
    /// - Throws: ``DataError/corrupt(_:)`` for a bad magic, an unsupported element type,
    ///   zero dimensions, another rank than `expectedRank`, a size overflow or a payload over
    ///   ``maxPayloadBytes``, or a payload shorter or longer than the dimensions say.
    public init(bytes: [UInt8], name: String = "<memory>", expectedRank: Int? = nil) throws {
        let header = try IDXFile.header(bytes, name: name, expectedRank: expectedRank)
        let payload = bytes.count - header.size
        guard payload == header.count else {
            let what = payload < header.count ? "truncated" : "has trailing bytes"
            throw DataError.corrupt(
                "\(name): IDX payload \(what): dimensions \(header.dimensions) need \(header.count) bytes, found \(payload)"
            )
        }
        dimensions = header.dimensions
        values = Array(bytes[header.size...])
    }

    /// The dimensions, header size and payload size a (possibly partial) IDX file declares.
    static func header(
        _ bytes: [UInt8], name: String, expectedRank: Int?
    ) throws
        -> (dimensions: [Int], size: Int, count: Int)
    {
        guard bytes.count >= 4 else {
            throw DataError.corrupt("\(name): \(bytes.count) bytes is too short for an IDX header")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError.corrupt(
                "\(name): bad IDX magic \(hex(bytes[0])) \(hex(bytes[1])) (expected 00 00)")
        }
        let type = bytes[2]
        let typeNames: [UInt8: String] = [
            0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
        ]
        guard type == 0x08 else {
            if let known = typeNames[type] {
                throw DataError.corrupt("\(name): IDX element type \(known) is not supported (only uint8)")
            }
            throw DataError.corrupt("\(name): unknown IDX element type \(hex(type))")
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw DataError.corrupt("\(name): IDX file has no dimensions") }
        if let expectedRank, rank != expectedRank {
            throw DataError.corrupt("\(name): IDX file has \(rank) dimensions, expected \(expectedRank)")
        }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError.corrupt(
                "\(name): truncated IDX header (\(rank) dimensions need \(headerSize) bytes, file has \(bytes.count))")
        }
        var dims = [Int]()
        var count = 1
        for i in 0..<rank {
            let o = 4 + 4 * i
            let d = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxPayloadBytes else {
                throw DataError.corrupt(
                    "\(name): IDX dimensions \(dims + [d]) overflow the limit of \(maxPayloadBytes) bytes")
            }
            dims.append(d)
            count = product
        }
        return (dims, headerSize, count)
    }

    /// Reads and parses an IDX file, gzipped (`.gz`, detected by magic) or plain.
    ///
    /// A gzipped file is inflated only as far as its header declares (plus one byte to detect
    /// trailing data), so a small file that would inflate to gigabytes costs at most
    /// ``maxPayloadBytes`` of memory and is refused as soon as its header is read when it
    /// declares more.
    ///
    /// - Throws: ``DataError`` (I/O, gzip or IDX problems), naming `path`.
    public init(contentsOfFile path: String, expectedRank: Int? = nil) throws {
        try self.init(fileBytes: try FileBytes.read(path, inflate: false), name: path, expectedRank: expectedRank)
    }

    /// Parses the bytes of an IDX file as stored, gzipped or plain, with the bounded inflation
    /// of ``init(contentsOfFile:expectedRank:)``; `name` is used in error messages.
    public init(fileBytes raw: [UInt8], name path: String = "<memory>", expectedRank: Int? = nil) throws {
        guard FileBytes.isGzip(raw) else {
            try self.init(bytes: raw, name: path, expectedRank: expectedRank)
            return
        }
        // The largest header: 4 + 4 · 255 bytes.
        let prefix = try FileBytes.gunzip(raw, path: path, maxOutput: 4 + 4 * 255)
        let header = try IDXFile.header(prefix, name: path, expectedRank: expectedRank)
        // Deflate cannot compress better than about 1032:1: a longer declared payload is truncated.
        guard header.count <= raw.count * 1032 + 1024 else {
            throw DataError.corrupt(
                "\(path): IDX payload truncated: dimensions \(header.dimensions) need \(header.count) bytes, more than \(raw.count) gzip bytes can hold"
            )
        }
        let bytes = try FileBytes.gunzip(raw, path: path, maxOutput: header.size + header.count + 1)
        try self.init(bytes: bytes, name: path, expectedRank: expectedRank)
    }
}

private func hex(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
}
