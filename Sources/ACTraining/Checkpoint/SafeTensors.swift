import Foundation

/// A safetensors file (Hugging Face's format), read and written without dependencies.
///
/// Layout: an 8-byte little-endian `UInt64` header length `n`, then `n` bytes of UTF-8 JSON,
/// then the raw little-endian tensor data. The JSON maps each tensor name to
/// `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` (offsets relative to the
/// data section) and may hold `"__metadata__": {String: String}`. The writer sorts names,
/// packs tensors contiguously in that order and pads the header with spaces to a multiple of 8
/// so the data section is 8-byte aligned.
public struct SafeTensors: Sendable {
    /// One stored tensor.
    public struct Entry: Sendable, Equatable {
        /// The element type name ("F32", "F64", "I64", "I32", "U8", …).
        public var dtype: String
        /// Dimensions, outermost first (row-major).
        public var shape: [Int]
        /// Raw little-endian bytes, `shape.reduce(1,*) · elementSize(dtype)` of them.
        public var bytes: [UInt8]
    }

    /// The tensors by name.
    public var tensors: [String: Entry] = [:]
    /// The `__metadata__` string map.
    public var metadata: [String: String] = [:]

    public init() {}

    /// Bytes per element of a dtype, or nil when unknown.
    public static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    // MARK: typed access

    /// Stores float32 values under `name` (row-major, `shape` must match the count).
    public mutating func setFloats(_ name: String, shape: [Int], _ values: [Float]) {
        precondition(
            shape.reduce(1, *) == values.count, "safetensors \(name): shape \(shape) vs \(values.count) values")
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        tensors[name] = Entry(dtype: "F32", shape: shape, bytes: bytes)
    }

    /// Stores int64 values under `name` (shape `[values.count]`).
    public mutating func setInt64s(_ name: String, _ values: [Int64]) {
        var bytes = [UInt8](repeating: 0, count: values.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: Int64.self)
            }
        }
        tensors[name] = Entry(dtype: "I64", shape: [values.count], bytes: bytes)
    }

    /// The float32 values and shape of `name`.
    ///
    /// - Throws: ``CheckpointError/missingKey(_:)`` if absent, ``CheckpointError/corrupt(_:)``
    ///   if it is not F32.
    public func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let e = tensors[name] else { throw CheckpointError.missingKey(name) }
        guard e.dtype == "F32" else { throw CheckpointError.corrupt("tensor \(name) is \(e.dtype), expected F32") }
        let n = e.bytes.count / 4
        let values = e.bytes.withUnsafeBytes { raw in
            (0..<n).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        return (e.shape, values)
    }

    /// The int64 values of `name`.
    public func int64s(_ name: String) throws -> [Int64] {
        guard let e = tensors[name] else { throw CheckpointError.missingKey(name) }
        guard e.dtype == "I64" else { throw CheckpointError.corrupt("tensor \(name) is \(e.dtype), expected I64") }
        return e.bytes.withUnsafeBytes { raw in
            (0..<(e.bytes.count / 8)).map {
                Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
            }
        }
    }

    // MARK: serialisation

    /// The file bytes (see the type's documentation for the layout).
    public func serialized() -> [UInt8] {
        var header = [String: Any]()
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let e = tensors[name]!
            header[name] =
                ["dtype": e.dtype, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]] as [String: Any]
            offset += e.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = [UInt8](
            (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8))
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for name in names { out.append(contentsOf: tensors[name]!.bytes) }
        return out
    }

    /// Parses safetensors bytes.
    ///
    /// - Throws: ``CheckpointError/corrupt(_:)`` when the header length exceeds the file, the
    ///   JSON is malformed, a dtype is unknown, a shape and its byte range disagree, ranges
    ///   fall outside the data section or overlap.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw CheckpointError.corrupt("\(bytes.count) bytes is too short for a safetensors header")
        }
        let n = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(bytes.count - 8), n <= 100_000_000 else {
            throw CheckpointError.corrupt("header length \(n) exceeds the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw CheckpointError.corrupt("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw CheckpointError.corrupt("header is not a JSON object") }
        let dataSize = bytes.count - headerEnd
        var ranges = [(Int, Int, String)]()
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw CheckpointError.corrupt("__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw CheckpointError.corrupt("__metadata__[\(k)] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shapeValues = info["shape"] as? [Any], let offsetValues = info["data_offsets"] as? [Any],
                offsetValues.count == 2
            else { throw CheckpointError.corrupt("tensor \(name): malformed header entry") }
            guard let size = SafeTensors.elementSize(dtype) else {
                throw CheckpointError.corrupt("tensor \(name): unknown dtype \(dtype)")
            }
            var shape = [Int]()
            var count = 1
            for v in shapeValues {
                guard let d = SafeTensors.exactInt(v), d >= 0 else {
                    throw CheckpointError.corrupt("tensor \(name): bad shape")
                }
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o, p <= dataSize else {
                    throw CheckpointError.corrupt("tensor \(name): shape \(shapeValues) is too large")
                }
                shape.append(d)
                count = p
            }
            guard let begin = SafeTensors.exactInt(offsetValues[0]), let end = SafeTensors.exactInt(offsetValues[1]),
                begin >= 0, begin <= end, end <= dataSize
            else {
                throw CheckpointError.corrupt(
                    "tensor \(name): data_offsets \(offsetValues) outside the \(dataSize)-byte data section")
            }
            guard end - begin == count * size else {
                throw CheckpointError.corrupt("tensor \(name): \(end - begin) bytes for shape \(shape) of \(dtype)")
            }
            ranges.append((begin, end, name))
            tensors[name] = Entry(
                dtype: dtype, shape: shape, bytes: Array(bytes[(headerEnd + begin)..<(headerEnd + end)]))
        }
        ranges.sort { $0.0 < $1.0 }
        for i in ranges.indices.dropFirst() where ranges[i].0 < ranges[i - 1].1 {
            throw CheckpointError.corrupt("tensors \(ranges[i - 1].2) and \(ranges[i].2) overlap")
        }
    }

    /// A JSON number that is exactly an integer (not 2.5, not 1e300).
    static func exactInt(_ value: Any) -> Int? {
        guard !(value is String), let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 0x1p62 else { return nil }
        return Int(d)
    }

    /// Reads and parses a file.
    ///
    /// - Throws: ``CheckpointError/io(_:)`` when `path` is missing, unreadable or not a regular
    ///   file (a FIFO or device is refused rather than read), ``CheckpointError/corrupt(_:)``.
    public init(contentsOfFile path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CheckpointError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.io("cannot read \(path): not a regular file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.io("cannot read \(path)")
        }
        do { try self.init(bytes: [UInt8](data)) } catch CheckpointError.corrupt(let m) {
            throw CheckpointError.corrupt("\(path): \(m)")
        }
    }

    /// Writes the file atomically: a temporary file in the same directory is written,
    /// `fsync`ed, then renamed over `path` (and the directory synced), so a crash leaves either
    /// the old or the new file, never a torn one.
    public func write(toFile path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }
}

/// Checkpoint errors, each with a readable message.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case io(String)
    case corrupt(String)
    /// The model expects a tensor the file does not have.
    case missingKey(String)
    /// The file has a tensor the model does not expect.
    case unexpectedKey(String)
    /// A tensor's shape differs from the model's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .io(let m): return "checkpoint I/O error: \(m)"
        case .corrupt(let m): return "corrupt checkpoint: \(m)"
        case .missingKey(let k): return "checkpoint is missing tensor '\(k)'"
        case .unexpectedKey(let k): return "checkpoint has unexpected tensor '\(k)'"
        case .shapeMismatch(let n, let e, let f): return "checkpoint tensor '\(n)' has shape \(f), model expects \(e)"
        }
    }
}

/// Crash-safe whole-file writes (temp + fsync + rename + directory fsync).
///
/// The temporary file is `.NAME.tmp-PID` beside `path`. A writer killed before its rename
/// leaves that file behind; the next write to the same `path` removes every `.NAME.tmp-PID`
/// whose process is no longer alive (a live writer's file is left alone).
public enum AtomicFile {
    /// Replaces `path` with `bytes` atomically.
    /// - Throws: ``CheckpointError/io(_:)`` naming `path`, the failing step and `errno`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let dirPath = parentDirectory(of: path)
        let name = lastComponent(of: path)
        removeStaleTemporaries(of: name, in: dirPath)
        let tmp = (dirPath as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
        var ok = true
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                done += w
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        let err = errno
        close(fd)
        guard ok else {
            unlink(tmp)
            throw CheckpointError.io("cannot write \(path): \(String(cString: strerror(err)))")
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw CheckpointError.io("cannot replace \(path): \(String(cString: strerror(e)))")
        }
        let dfd = open(dirPath, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// The directory part of `path` ("." for a bare name, "/" for a top-level entry). Plain
    /// string work: `NSString.deletingLastPathComponent` traps on one-character paths in
    /// swift-corelibs-foundation (e.g. `--out=0`).
    public static func parentDirectory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        let parent = p[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    /// The last component of `path` (trailing slashes ignored).
    public static func lastComponent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return String(p) }
        return String(p[p.index(after: slash)...])
    }

    /// Removes `.NAME.tmp-PID` files in `directory` left by writers that no longer run
    /// (`kill(PID, 0)` fails with `ESRCH`). Errors are ignored: this is housekeeping.
    static func removeStaleTemporaries(of name: String, in directory: String) {
        let prefix = ".\(name).tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink((directory as NSString).appendingPathComponent(entry))
            }
        }
    }
}
