import ACTraining
import ArgumentParser
import Foundation

/// Checks of option values and paths shared by every command's `validate()`, so each command
/// refuses bad input before any work (exit status 64, one `Error:` line naming the option).
/// The ranges are stated in each option's help text and in docs/TRAINING.md ("Limits").
enum OptionCheck {
    /// `value` must lie in `range`.
    static func range<T: Comparable>(_ option: String, _ value: T, _ range: ClosedRange<T>) throws {
        guard range.contains(value) else {
            throw ValidationError(
                "\(option) \(value) is out of range; it must be in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// `value` must be finite and in `range`; `openLower`/`openUpper` exclude a bound.
    static func finite(
        _ option: String, _ value: Double, _ range: ClosedRange<Double>, openLower: Bool = false,
        openUpper: Bool = false
    ) throws {
        guard value.isFinite, range.contains(value), !(openLower && value == range.lowerBound),
            !(openUpper && value == range.upperBound)
        else {
            let lower = openLower ? "(\(range.lowerBound)" : "[\(range.lowerBound)"
            let upper = openUpper ? "\(range.upperBound))" : "\(range.upperBound)]"
            throw ValidationError(
                "\(option) \(value) is out of range; it must be a finite number in \(lower), \(upper)")
        }
    }

    /// The file status of `path`, or nil when it does not exist (or cannot be examined).
    static func status(_ path: String) -> stat? {
        var s = stat()
        return stat(path, &s) == 0 ? s : nil
    }

    static func isRegularFile(_ s: stat) -> Bool { (s.st_mode & S_IFMT) == S_IFREG }
    static func isDirectory(_ s: stat) -> Bool { (s.st_mode & S_IFMT) == S_IFDIR }

    /// An input file: it must exist and be a regular file (not a directory, FIFO or device).
    static func inputFile(_ what: String, _ path: String) throws {
        guard let s = status(path) else {
            throw ValidationError("\(what) \(path) does not exist or cannot be accessed")
        }
        guard isRegularFile(s) else { throw ValidationError("\(what) \(path) is not a regular file") }
        guard access(path, R_OK) == 0 else { throw ValidationError("\(what) \(path) is not readable") }
    }

    /// An input directory: it must exist and be a directory.
    static func inputDirectory(_ what: String, _ path: String) throws {
        guard let s = status(path) else {
            throw ValidationError("\(what) \(path) does not exist or cannot be accessed")
        }
        guard isDirectory(s) else { throw ValidationError("\(what) \(path) is not a directory") }
    }

    /// An output file replaced atomically: its directory must exist and be writable, the path
    /// must not be a directory or anything but a regular file, and it must not be the same
    /// file (same device and inode, so links and `..` detours are caught) as any of `inputs`.
    static func outputFile(_ what: String, _ path: String, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw ValidationError("\(what) is empty") }
        if let s = status(path) {
            guard isRegularFile(s) else { throw ValidationError("\(what) \(path) exists and is not a regular file") }
            for input in inputs {
                if let t = status(input), t.st_dev == s.st_dev, t.st_ino == s.st_ino {
                    throw ValidationError("\(what) \(path) is the input \(input); refusing to overwrite it")
                }
            }
        }
        let parent = AtomicFile.parentDirectory(of: path)
        guard let d = status(parent), isDirectory(d) else {
            throw ValidationError("\(what) \(path): \(parent) is not an existing directory")
        }
        try probeWritable(parent, what: "\(what) \(path)")
    }

    /// Creates and removes a probe file in `directory`: `access(2)` says yes to root even on
    /// read-only file systems such as /proc.
    static func probeWritable(_ directory: String, what: String) throws {
        let probe = (directory as NSString).appendingPathComponent(".acnet-write-probe-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ValidationError("\(what): cannot write in \(directory) (\(String(cString: strerror(errno))))")
        }
        close(fd)
        unlink(probe)
    }

    /// An output directory (created when missing): an existing path must be a writable
    /// directory; a missing one needs a writable existing ancestor.
    static func outputDirectory(_ what: String, _ path: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(what) is empty") }
        if let s = status(path) {
            guard isDirectory(s) else { throw ValidationError("\(what) \(path) exists and is not a directory") }
            try probeWritable(path, what: "\(what) \(path)")
            return
        }
        var existing = AtomicFile.parentDirectory(of: path)
        while status(existing) == nil, existing != ".", existing != "/" {
            existing = AtomicFile.parentDirectory(of: existing)
        }
        guard let a = status(existing), isDirectory(a) else {
            throw ValidationError("\(what) \(path) cannot be created: \(existing) is not a directory")
        }
        try probeWritable(existing, what: "\(what) \(path) cannot be created")
    }

    /// The largest `--limit` (images) any command accepts.
    static let maxImages = 100_000_000
    /// The largest runtime batch (`--batch`, `--batch-size` of runtime commands).
    static let maxRuntimeBatch = 4096
}
