#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if ACNET_POSIX
internal import CACNet
#endif

/// How to turn an 8-bit image into the model's input (docs/DESIGN.md §4):
/// `x[c] = (pixel[c] / 255 − mean[c]) / std[c]`, after stretching the image to H × W.
public struct InputSpec: Sendable, Equatable {
    /// Channel order of the input image.
    public var channelOrder: ChannelOrder
    /// Per-channel mean, in units of pixel/255 (C entries).
    public var mean: [Float]
    /// Per-channel standard deviation, in units of pixel/255 (C entries, all > 0).
    public var std: [Float]

    public init(channelOrder: ChannelOrder, mean: [Float], std: [Float]) {
        self.channelOrder = channelOrder
        self.mean = mean
        self.std = std
    }
}

/// A loaded, validated, immutable model.
///
/// Loading checks the whole file (docs/FORMAT.md: checksum, every offset, size, index and
/// shape) before anything is used; weights are then read in place (zero-copy) from the
/// mapped file or the caller's buffer.
///
/// Thread safety: immutable after `init`; share one `Model` between any number of threads and
/// give each thread its own `Session`.
public final class Model: @unchecked Sendable {
    private enum Storage {
        /// Mapped with mmap; unmapped in deinit.
        case mapped(UnsafeMutableRawPointer, Int)
        /// Allocated by the model (`init(bytes:)`); freed in deinit.
        case owned(UnsafeMutableRawPointer)
        /// The caller's memory; it must outlive the model.
        case borrowed

        /// Unmaps or frees the image (nothing for borrowed memory).
        func release() {
            switch self {
            case .mapped(let p, let size):
                #if canImport(Glibc) || canImport(Darwin)
                munmap(p, size)
                #elseif ACNET_POSIX
                acnet_support_unmap_file(p, size)
                #endif
            case .owned(let p): p.deallocate()
            case .borrowed: break
            }
        }
    }

    private let storage: Storage
    /// Start of the .acnb image (64-byte aligned).
    public let baseAddress: UnsafeRawPointer
    /// Size of the .acnb image in bytes.
    public let byteCount: Int

    let activations: [ActivationDesc]
    let steps: [Step]
    /// Conv steps that also have Winograd weights (format version 2).
    let winograd: [WinogradAlternative]
    let inputSlot: Int
    let outputSlot: Int
    let plan: Plan
    let labelOffsets: [Int]

    /// One entry per op of the file, in execution order.
    public let layers: [LayerInfo]
    /// Class labels (empty if the model has none).
    public let labels: [String]
    /// Input preprocessing (docs/DESIGN.md §4).
    public let inputSpec: InputSpec
    /// The kernel ISA sessions use by default: the fastest this build and CPU support,
    /// chosen once, here at load (`KernelISA.best`).
    public let isa: KernelISA

    /// Loads a model from a file by mapping it read-only.
    /// - Throws: `ACNetError` with `.io` (cannot open/map), or a format status (`.badFormat`,
    ///   `.checksumMismatch`, `.unsupportedVersion`, `.unsupportedOp`).
    public convenience init(contentsOfFile path: String) throws(ACNetError) {
        #if canImport(Glibc) || canImport(Darwin)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ACNetError(.io, "cannot open '\(path)': \(Self.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ACNetError(.io, "cannot stat '\(path)': \(Self.errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ACNetError(.io, "'\(path)' is not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw ACNetError(.badFormat, "'\(path)' is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ACNetError(.io, "cannot map '\(path)': \(Self.errnoText())")
        }
        let parsed = try Model.parse(.mapped(p, size), UnsafeRawPointer(p), size)
        self.init(storage: .mapped(p, size), base: UnsafeRawPointer(p), count: size, parsed: parsed)
        #elseif ACNET_POSIX
        // Embedded Swift for a POSIX OS (the C library): the same steps through CACNet.
        var base: UnsafeMutableRawPointer? = nil
        var size = 0
        var error: Int32 = 0
        switch acnet_support_map_file(path, &base, &size, &error) {
        case ACNET_SUPPORT_MAP_OK: break
        case ACNET_SUPPORT_MAP_OPEN: throw ACNetError(.io, "cannot open '\(path)': \(Self.errorText(error))")
        case ACNET_SUPPORT_MAP_STAT: throw ACNetError(.io, "cannot stat '\(path)': \(Self.errorText(error))")
        case ACNET_SUPPORT_MAP_NOT_REGULAR: throw ACNetError(.io, "'\(path)' is not a regular file")
        case ACNET_SUPPORT_MAP_EMPTY: throw ACNetError(.badFormat, "'\(path)' is empty")
        case ACNET_SUPPORT_MAP_MMAP: throw ACNetError(.io, "cannot map '\(path)': \(Self.errorText(error))")
        default: throw ACNetError(.io, "file loading is not available on this platform; use init(borrowing:)")
        }
        guard let p = base else { throw ACNetError(.io, "cannot map '\(path)'") }
        let parsed = try Model.parse(.mapped(p, size), UnsafeRawPointer(p), size)
        self.init(storage: .mapped(p, size), base: UnsafeRawPointer(p), count: size, parsed: parsed)
        #else
        throw ACNetError(.io, "file loading is not available on this platform; use init(borrowing:)")
        #endif
    }

    /// Loads a model from the caller's memory without copying.
    /// - Parameter buffer: the .acnb bytes; the base address must be 64-byte aligned, and the
    ///   memory must stay unchanged and alive for the model's lifetime.
    /// - Throws: `.misaligned`, `.invalidArgument` (empty), or a format status.
    public convenience init(borrowing buffer: UnsafeRawBufferPointer) throws(ACNetError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw ACNetError(.invalidArgument, "empty model buffer")
        }
        guard Int(bitPattern: base) % ACNBFormat.alignment == 0 else {
            throw ACNetError(
                .misaligned, "model buffer at \(Int(bitPattern: base)) is not \(ACNBFormat.alignment)-byte aligned")
        }
        let parsed = try Model.parse(.borrowed, base, buffer.count)
        self.init(storage: .borrowed, base: base, count: buffer.count, parsed: parsed)
    }

    /// Loads a model from bytes, copying them once into 64-byte-aligned storage the model owns.
    public convenience init(bytes: [UInt8]) throws(ACNetError) {
        guard !bytes.isEmpty else { throw ACNetError(.invalidArgument, "empty model buffer") }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: ACNBFormat.alignment)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        let parsed = try Model.parse(.owned(p), UnsafeRawPointer(p), bytes.count)
        self.init(storage: .owned(p), base: UnsafeRawPointer(p), count: bytes.count, parsed: parsed)
    }

    /// Parses and validates the image; on failure releases `storage` (unmaps or frees it)
    /// before throwing.
    private static func parse(
        _ storage: Storage, _ base: UnsafeRawPointer, _ count: Int
    )
        throws(ACNetError) -> ModelParser.Result
    {
        do {
            return try ModelParser(base: base, count: count).parse()
        } catch {
            storage.release()
            throw error
        }
    }

    /// Every convenience `init` parses and validates the file before delegating here, so the
    /// object is only allocated for a valid model: Embedded Swift (the shipped C library) does
    /// not free a class instance whose designated `init` throws before its stored properties are
    /// set, so a refused file would leak it (see `Session.prepare`).
    private init(storage: Storage, base: UnsafeRawPointer, count: Int, parsed: ModelParser.Result) {
        self.storage = storage
        baseAddress = base
        byteCount = count
        activations = parsed.activations
        steps = parsed.steps
        winograd = parsed.winograd
        inputSlot = parsed.inputSlot
        outputSlot = parsed.outputSlot
        layers = parsed.layers
        labels = parsed.labels
        labelOffsets = parsed.labelOffsets
        let c = parsed.activations[parsed.inputSlot].c
        inputSpec = InputSpec(
            channelOrder: parsed.channelOrder, mean: Array(parsed.mean.prefix(c)),
            std: Array(parsed.std.prefix(c)))
        plan = Plan(
            activations: parsed.activations, steps: parsed.steps, inputSlot: parsed.inputSlot,
            outputSlot: parsed.outputSlot)
        isa = KernelISA.best
    }

    deinit { storage.release() }

    /// Input shape per image: [C, H, W].
    public var inputShape: [Int] {
        let d = activations[inputSlot]
        return [d.c, d.h, d.w]
    }

    /// Output shape per image: [F] for a rank-2 output, [C, H, W] for rank 4.
    public var outputShape: [Int] { Array(activations[outputSlot].dims.dropFirst()) }

    /// Input elements per image (C·H·W).
    public var inputElementCount: Int { activations[inputSlot].logicalElements }

    /// Output elements per image.
    public var outputElementCount: Int { activations[outputSlot].logicalElements }

    /// Multiply-accumulates per image over all ops.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }

    /// Arena bytes one image needs (the session's workspace is this × maxBatch).
    public var arenaBytesPerImage: Int { plan.bytesPerImage }

    /// Pointer to label `index`, NUL-terminated, valid for the model's lifetime (C ABI).
    public func labelCString(_ index: Int) -> UnsafePointer<CChar>? {
        guard index >= 0, index < labelOffsets.count else { return nil }
        return (baseAddress + labelOffsets[index]).assumingMemoryBound(to: CChar.self)
    }

    #if canImport(Glibc) || canImport(Darwin)
    private static func errnoText() -> String {
        guard let s = strerror(errno) else { return "errno \(errno)" }
        return String(cString: s)
    }
    #elseif ACNET_POSIX
    private static func errorText(_ error: Int32) -> String {
        guard let s = acnet_support_error_text(error) else { return "errno \(error)" }
        return String(cString: s)
    }
    #endif
}
