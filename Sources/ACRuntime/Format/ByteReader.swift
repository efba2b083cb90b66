/// Bounds-checked little-endian reads from an immutable byte region.
///
/// Every read checks `offset + width <= count` first (with overflow-checked arithmetic) and
/// throws `ACNET_ERROR_BAD_FORMAT` instead of reading outside the region, so a hostile file
/// can never make the loader over-read.
struct ByteReader {
    let base: UnsafeRawPointer
    let count: Int

    func range(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws(ACNetError) {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw .badFormat("\(what()) (offset \(offset), \(length) bytes) lies outside the \(count)-byte file")
        }
    }

    func u32(_ offset: Int) throws(ACNetError) -> UInt32 {
        try range(offset, 4, "a 32-bit field")
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func i32(_ offset: Int) throws(ACNetError) -> Int32 {
        Int32(bitPattern: try u32(offset))
    }

    func u64(_ offset: Int) throws(ACNetError) -> UInt64 {
        try range(offset, 8, "a 64-bit field")
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    func f32(_ offset: Int) throws(ACNetError) -> Float {
        Float(bitPattern: try u32(offset))
    }

    /// Reads a u64 that must fit an `Int` offset or size.
    func offset(_ offset: Int, _ what: @autoclosure () -> String) throws(ACNetError) -> Int {
        let v = try u64(offset)
        guard v <= UInt64(Int.max) else { throw .badFormat("\(what()) \(v) is out of range") }
        return Int(v)
    }
}

/// Overflow-checked arithmetic for sizes computed from file fields.
enum Checked {
    static func mul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(ACNetError) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        guard !o else { throw .badFormat("\(what()) overflows") }
        return r
    }

    static func add(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(ACNetError) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        guard !o else { throw .badFormat("\(what()) overflows") }
        return r
    }
}

@inline(__always) func roundUp(_ x: Int, _ multiple: Int) -> Int {
    (x + multiple - 1) / multiple * multiple
}
