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

    /// Parses IDX bytes (already inflated).
    ///
    /// - Parameter name: used in error messages (usually the file path).
    /// - Throws: ``DataError/corrupt(_:)`` for a bad magic, an unsupported element type,
    ///   zero dimensions, a size overflow, or a payload shorter or longer than the dimensions
    ///   say.
    public init(bytes: [UInt8], name: String = "<memory>") throws {
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
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError.corrupt("\(name): truncated IDX header (\(rank) dimensions need \(headerSize) bytes, file has \(bytes.count))")
        }
        var dims = [Int]()
        var count = 1
        for i in 0..<rank {
            let o = 4 + 4 * i
            let d = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 40 else {
                throw DataError.corrupt("\(name): IDX dimensions \(dims + [d]) overflow")
            }
            dims.append(d)
            count = product
        }
        let payload = bytes.count - headerSize
        guard payload == count else {
            let what = payload < count ? "truncated" : "has trailing bytes"
            throw DataError.corrupt(
                "\(name): IDX payload \(what): dimensions \(dims) need \(count) bytes, found \(payload)")
        }
        dimensions = dims
        values = Array(bytes[headerSize...])
    }

    /// Reads and parses an IDX file, gzipped (`.gz`, detected by magic) or plain.
    ///
    /// - Throws: ``DataError`` (I/O, gzip or IDX problems), naming `path`.
    public init(contentsOfFile path: String) throws {
        try self.init(bytes: try FileBytes.read(path), name: path)
    }
}

private func hex(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
}
