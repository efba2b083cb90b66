#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of a `Session` (`acnet_session_options`).
public struct SessionOptions: Sendable, Equatable {
    /// Worker threads. Only 1 is supported in this version.
    public var threads: Int
    /// The largest batch `run` accepts; the workspace scales linearly with it.
    public var maxBatch: Int

    public init(threads: Int = 1, maxBatch: Int = 1) {
        self.threads = threads
        self.maxBatch = maxBatch
    }

    /// Upper bound on `maxBatch`.
    public static let maxBatchLimit = 1 << 16

    func validate() throws(ACNetError) {
        guard threads == 1 else { throw ACNetError(.invalidArgument, "threads = \(threads): only 1 is supported in this version") }
        guard maxBatch >= 1, maxBatch <= Self.maxBatchLimit else {
            throw ACNetError(.invalidArgument, "max_batch = \(maxBatch) must be in 1...\(Self.maxBatchLimit)")
        }
    }
}

/// Runs a `Model`. Owns or borrows one workspace (arena) sized at creation; `run` performs no
/// heap allocation and takes no lock.
///
/// Thread safety: one thread at a time per session; create one session per thread. The
/// session keeps its model alive.
public final class Session {
    /// The model this session runs.
    public let model: Model
    /// The options it was created with.
    public let options: SessionOptions
    /// Size of the workspace in bytes.
    public let workspaceSize: Int

    private let arena: UnsafeMutableRawPointer?
    private let ownsArena: Bool
    /// One view per activation slot; the input slot's base is set per run.
    private let views: UnsafeMutablePointer<TensorView>
    /// Scratch list of views for concat, sized for the largest concat.
    private let concatViews: UnsafeMutablePointer<TensorView>
    private let concatCapacity: Int

    /// Exact workspace bytes a session of `model` with `options` needs.
    /// - Throws: `.invalidArgument` for bad options.
    public static func workspaceSize(for model: Model, options: SessionOptions = SessionOptions()) throws(ACNetError) -> Int {
        try options.validate()
        let (r, o) = model.plan.bytesPerImage.multipliedReportingOverflow(by: options.maxBatch)
        guard !o else { throw ACNetError(.outOfMemory, "workspace size overflows") }
        return r
    }

    /// Creates a session that allocates its workspace once, now.
    /// - Throws: `.invalidArgument` (options), `.outOfMemory`.
    public convenience init(model: Model, options: SessionOptions = SessionOptions()) throws(ACNetError) {
        try self.init(model: model, options: options, workspace: nil)
    }

    /// Creates a session in caller memory.
    /// - Parameter workspace: 64-byte aligned, at least `workspaceSize(for:options:)` bytes; it
    ///   must outlive the session and not be used by anyone else meanwhile.
    /// - Throws: `.invalidArgument`, `.misaligned`, `.bufferTooSmall`.
    public convenience init(model: Model, options: SessionOptions, workspace: UnsafeMutableRawBufferPointer)
        throws(ACNetError)
    {
        try self.init(model: model, options: options, workspace: Optional(workspace))
    }

    private init(model: Model, options: SessionOptions, workspace: UnsafeMutableRawBufferPointer?) throws(ACNetError) {
        let size = try Session.workspaceSize(for: model, options: options)
        var base: UnsafeMutableRawPointer?
        if let workspace {
            guard let b = workspace.baseAddress else { throw ACNetError(.invalidArgument, "workspace is NULL") }
            guard Int(bitPattern: b) % ACNBFormat.alignment == 0 else {
                throw ACNetError(.misaligned, "workspace is not \(ACNBFormat.alignment)-byte aligned")
            }
            guard workspace.count >= size else {
                throw ACNetError(.bufferTooSmall, "workspace has \(workspace.count) bytes, \(size) needed")
            }
            base = b
            ownsArena = false
        } else {
            base = size > 0 ? try Session.allocateArena(size) : nil
            ownsArena = true
        }
        self.model = model
        self.options = options
        self.workspaceSize = size
        self.arena = base
        let acts = model.activations
        views = .allocate(capacity: acts.count)
        for (s, d) in acts.enumerated() {
            let offset = model.plan.offsets[s]
            let p: UnsafeMutablePointer<Float>
            if offset >= 0, let base {
                p = (base + offset * options.maxBatch).assumingMemoryBound(to: Float.self)
            } else {
                p = UnsafeMutablePointer(bitPattern: 64)!  // the input slot: set by run
            }
            (views + s).initialize(to: TensorView(base: p, c: d.c, h: d.h, w: d.w, blocked: d.blocked,
                                                  imageStride: d.storageElements))
        }
        var cap = 1
        for step in model.steps { if case let .concat(inputs, _) = step { cap = max(cap, inputs.count) } }
        concatCapacity = cap
        concatViews = .allocate(capacity: cap)
        concatViews.initialize(repeating: views[0], count: cap)
    }

    deinit {
        views.deallocate()
        concatViews.deallocate()
        if ownsArena, let arena { Session.freeArena(arena) }
    }

    /// Allocates the arena, reporting failure as `.outOfMemory` (a hostile but valid model can
    /// ask for more than the machine has; `UnsafeMutableRawPointer.allocate` would trap).
    private static func allocateArena(_ size: Int) throws(ACNetError) -> UnsafeMutableRawPointer {
        #if canImport(Glibc) || canImport(Darwin)
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, ACNBFormat.alignment, size) == 0, let p else {
            throw ACNetError(.outOfMemory, "cannot allocate a \(size)-byte workspace")
        }
        return p
        #else
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: ACNBFormat.alignment)
        #endif
    }

    private static func freeArena(_ p: UnsafeMutableRawPointer) {
        #if canImport(Glibc) || canImport(Darwin)
        free(p)
        #else
        p.deallocate()
        #endif
    }

    /// Runs the model on `batch` images.
    /// - Parameters:
    ///   - input: NCHW float32, `inputCount` = batch · C · H · W elements.
    ///   - output: `outputCount` = batch · (output elements per image) floats, written NCHW
    ///     (or [N, F]).
    /// - Throws: `.invalidArgument` if batch is outside 1...maxBatch or a count is wrong.
    ///   Nothing is written to `output` on error.
    public func run(input: UnsafePointer<Float>, inputCount: Int, output: UnsafeMutablePointer<Float>,
                    outputCount: Int, batch: Int) throws(ACNetError)
    {
        guard batch >= 1, batch <= options.maxBatch else {
            throw ACNetError(.invalidArgument, "batch \(batch) is outside 1...\(options.maxBatch)")
        }
        guard inputCount == batch * model.inputElementCount else {
            throw ACNetError(.invalidArgument, "input has \(inputCount) elements, expected \(batch * model.inputElementCount)")
        }
        guard outputCount == batch * model.outputElementCount else {
            throw ACNetError(.invalidArgument, "output has \(outputCount) elements, expected \(batch * model.outputElementCount)")
        }
        views[model.inputSlot].base = UnsafeMutablePointer(mutating: input)
        for step in model.steps { execute(step, batch: batch) }
        Elementwise.toPlain(batch: batch, x: views[model.outputSlot], y: output,
                            yImageStride: model.outputElementCount)
    }

    /// Convenience: runs on an array and returns a new array (allocates the result).
    public func run(_ input: [Float], batch: Int = 1) throws(ACNetError) -> [Float] {
        var out = [Float](repeating: 0, count: max(0, batch) * model.outputElementCount)
        let count = out.count
        var failure: ACNetError?
        input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                do throws(ACNetError) {
                    guard let ib = inp.baseAddress, let ob = o.baseAddress else {
                        throw ACNetError(.invalidArgument, "empty input or output")
                    }
                    try run(input: ib, inputCount: inp.count, output: ob, outputCount: count, batch: batch)
                } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return out
    }

    @inline(__always)
    private func execute(_ step: Step, batch: Int) {
        switch step {
        case let .conv(g, input, output, residual, weights, bias, offsets):
            ConvDirect.run(g, batch: batch, x: views[input], y: views[output],
                           residual: residual >= 0 ? views[residual] : nil,
                           weights: weights, bias: bias, blockOffsets: offsets)
        case let .depthwise(g, input, output, residual, weights, bias):
            ConvDepthwise.run(g, batch: batch, x: views[input], y: views[output],
                              residual: residual >= 0 ? views[residual] : nil, weights: weights, bias: bias)
        case let .maxPool(g, input, output):
            Pooling.run(g, max: true, batch: batch, x: views[input], y: views[output])
        case let .avgPool(g, input, output):
            Pooling.run(g, max: false, batch: batch, x: views[input], y: views[output])
        case let .globalAvgPool(input, output):
            Pooling.global(batch: batch, x: views[input], y: views[output])
        case let .linear(f, o, act, input, output, weights, bias):
            Dense.run(inFeatures: f, outFeatures: o, activation: act, batch: batch, x: views[input],
                      y: views[output], weights: weights, bias: bias)
        case let .add(act, a, b, output):
            Elementwise.add(views[a].base, views[b].base, views[output].base,
                            count: batch * views[output].imageStride, activation: act)
        case let .concat(inputs, output):
            for (k, s) in inputs.enumerated() { concatViews[k] = views[s] }
            Elementwise.concat(batch: batch, inputs: UnsafeBufferPointer(start: concatViews, count: inputs.count),
                               y: views[output])
        case let .scaleShift(act, input, output, scale, shift):
            Elementwise.scaleShift(batch: batch, x: views[input], y: views[output], scale: scale, shift: shift,
                                   activation: act)
        case let .flatten(input, output):
            Elementwise.toPlain(batch: batch, x: views[input], y: views[output].base,
                                yImageStride: views[output].imageStride)
        case let .softmax(input, output):
            Elementwise.softmax(batch: batch, x: views[input], y: views[output])
        case let .activation(act, input, output):
            Elementwise.activation(views[input].base, views[output].base, count: batch * views[output].imageStride, act)
        case let .toBlocked(input, output):
            Elementwise.toBlocked(batch: batch, x: views[input], y: views[output])
        }
    }
}
