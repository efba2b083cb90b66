internal import CACNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of a `Session` (`acnet_session_options`).
public struct SessionOptions: Sendable, Equatable {
    /// Threads that compute each run, 1...`maxThreads`: the thread calling `run` plus
    /// `threads − 1` workers the session starts at creation and joins when it is freed (see
    /// `Session`). In Embedded Swift builds only 1 is supported.
    public var threads: Int
    /// The largest batch `run` accepts; the workspace scales linearly with it.
    public var maxBatch: Int
    /// The kernel ISA to run, or nil for the model's (`Model.isa`, the fastest supported).
    /// Asking for one the CPU or build lacks is an `.invalidArgument` error at session creation.
    public var isa: KernelISA?
    /// Run Winograd F(4×4, 3×3) on the convolutions whose Winograd weights the model stores
    /// (the default); false runs direct convolution everywhere (exact reference order, and the
    /// same results as a model exported without Winograd weights).
    public var useWinograd: Bool

    public init(threads: Int = 1, maxBatch: Int = 1, isa: KernelISA? = nil, useWinograd: Bool = true) {
        self.threads = threads
        self.maxBatch = maxBatch
        self.isa = isa
        self.useWinograd = useWinograd
    }

    /// Upper bound on `maxBatch`.
    public static let maxBatchLimit = 1 << 16

    /// Upper bound on `threads` (1 in Embedded Swift builds without the worker team: bare metal;
    /// builds for a POSIX OS define ACNET_POSIX and link Sources/CACNet/team.c).
    #if hasFeature(Embedded) && !ACNET_POSIX
    public static let maxThreads = 1
    #else
    public static let maxThreads = Int(ACNET_SUPPORT_TEAM_MAX_THREADS)
    #endif

    func validate() throws(ACNetError) {
        guard threads >= 1, threads <= Self.maxThreads else {
            throw ACNetError(.invalidArgument, "threads = \(threads) must be in 1...\(Self.maxThreads)")
        }
        guard maxBatch >= 1, maxBatch <= Self.maxBatchLimit else {
            throw ACNetError(.invalidArgument, "max_batch = \(maxBatch) must be in 1...\(Self.maxBatchLimit)")
        }
        if let isa, !isa.isSupported {
            throw ACNetError(.invalidArgument, "kernel ISA \(isa.name) is not supported by this CPU or build")
        }
    }
}

/// Runs a `Model`. Owns or borrows one workspace (arena) sized at creation; `run` performs no
/// heap allocation and takes no lock.
///
/// With `options.threads` = T > 1 the session starts T − 1 worker threads at creation (its
/// only thread creation) and joins them in `deinit`. Each run is a fixed list of tasks that the
/// workers and the calling thread take in order from a shared counter: convolutions are split
/// into T…4T parts and pooling and elementwise steps into T parts of disjoint outputs (by
/// image, output-channel block group and output row, see `WorkPart`); the small steps are one
/// task each; a task starts when the earlier steps are done. No thread owns a fixed share, so
/// a worker the OS deschedules delays a run by at most the task it holds. Hand-offs are
/// atomics on their own cache lines: a waiting thread spins for up to 50 µs, then blocks in a
/// futex, so an idle session uses no CPU. Results are bit-identical for every thread count:
/// each output element is computed by one thread, with the same instructions in the same order
/// as with one thread.
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
    /// The kernels this session runs (`options.isa ?? model.isa`).
    public var isa: KernelISA { kernels.isa }
    private let kernels: KernelTable

    private let arena: UnsafeMutableRawPointer?
    private let ownsArena: Bool
    /// One view per activation slot; the input slot's base is set per run.
    private let views: UnsafeMutablePointer<TensorView>
    /// Scratch list of views for concat, sized for the largest concat.
    private let concatViews: UnsafeMutablePointer<TensorView>
    private let concatCapacity: Int
    /// The steps this session runs: the model's, with Winograd convolutions substituted unless
    /// `options.useWinograd` is false, then `Step.output`.
    let steps: [Step]
    /// Kernel scratch (Winograd tiles), after the activations in the arena: one region of
    /// `scratchStride` floats per thread (worker w uses scratch + w · scratchStride).
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchStride: Int
    /// The worker team (nil with one thread) and the tasks of one run (Session+Threads.swift).
    var team: OpaquePointer?
    var tasks: [SessionTask] = []
    /// The batch of the run in progress, for the workers (written before the team starts).
    var runBatch = 0
    /// The caller's output buffer of the run in progress (`Step.output`).
    private var outputBase = UnsafeMutablePointer<Float>(bitPattern: 64)!

    /// Exact workspace bytes a session of `model` with `options` needs: the activations of
    /// `maxBatch` images, then (Winograd layers) one scratch region per thread.
    /// - Throws: `.invalidArgument` for bad options.
    public static func workspaceSize(
        for model: Model, options: SessionOptions = SessionOptions()
    ) throws(ACNetError) -> Int {
        try options.validate()
        let (r, o) = model.plan.bytesPerImage.multipliedReportingOverflow(by: options.maxBatch)
        let (t, o2) = scratchBytes(for: model, options: options).multipliedReportingOverflow(by: options.threads)
        let (s, o3) = r.addingReportingOverflow(t)
        guard !o, !o2, !o3 else { throw ACNetError(.outOfMemory, "workspace size overflows") }
        return s
    }

    /// Bytes of kernel scratch per thread after the activations (the largest Winograd layer's;
    /// a multiple of 64, ≤ 2³¹ · 4 per layer by the loader's limits).
    private static func scratchBytes(for model: Model, options: SessionOptions) -> Int {
        guard options.useWinograd else { return 0 }
        var elements = 0
        for w in model.winograd { elements = max(elements, w.scratchElements) }
        return (elements * 4 + ACNBFormat.alignment - 1) / ACNBFormat.alignment * ACNBFormat.alignment
    }

    /// Creates a session that allocates its workspace once, now.
    /// - Throws: `.invalidArgument` (options), `.outOfMemory`.
    public convenience init(model: Model, options: SessionOptions = SessionOptions()) throws(ACNetError) {
        let prepared = try Session.prepare(model: model, options: options, workspace: nil)
        try self.init(model: model, options: options, prepared: prepared)
    }

    /// Creates a session in caller memory.
    /// - Parameters:
    ///   - model: the model to run; the session keeps a strong reference to it.
    ///   - options: threads, maximum batch, ISA and convolution choice.
    ///   - workspace: 64-byte aligned, at least `workspaceSize(for:options:)` bytes; it must
    ///     outlive the session and not be used by anyone else meanwhile.
    /// - Throws: `.invalidArgument`, `.misaligned`, `.bufferTooSmall`.
    public convenience init(
        model: Model, options: SessionOptions, workspace: UnsafeMutableRawBufferPointer
    )
        throws(ACNetError)
    {
        let prepared = try Session.prepare(model: model, options: options, workspace: workspace)
        try self.init(model: model, options: options, prepared: prepared)
    }

    /// What creating a session needs that can fail (options, kernels, workspace checks, the
    /// arena allocation), found before the object exists: Embedded Swift (the shipped C library)
    /// does not free a class instance whose designated `init` throws before its stored
    /// properties are set, so every refused session leaked its object (368 B, found by
    /// `scripts/fuzz.sh --shipped`). The only later failure, starting threads, comes after a
    /// full initialisation, where `deinit` runs and frees the arena.
    private struct Prepared {
        let size: Int
        let kernels: KernelTable
        let base: UnsafeMutableRawPointer?
        let ownsArena: Bool
    }

    private static func prepare(
        model: Model, options: SessionOptions, workspace: UnsafeMutableRawBufferPointer?
    )
        throws(ACNetError) -> Prepared
    {
        let size = try Session.workspaceSize(for: model, options: options)
        guard let kernels = KernelSelection.table(options.isa ?? model.isa) else {
            throw ACNetError(.invalidArgument, "no kernels for ISA \((options.isa ?? model.isa).name) in this build")
        }
        if let workspace {
            guard let b = workspace.baseAddress else { throw ACNetError(.invalidArgument, "workspace is NULL") }
            guard Int(bitPattern: b) % ACNBFormat.alignment == 0 else {
                throw ACNetError(.misaligned, "workspace is not \(ACNBFormat.alignment)-byte aligned")
            }
            guard workspace.count >= size else {
                throw ACNetError(.bufferTooSmall, "workspace has \(workspace.count) bytes, \(size) needed")
            }
            return Prepared(size: size, kernels: kernels, base: b, ownsArena: false)
        }
        // Last: nothing after it can fail, so the arena cannot leak.
        return Prepared(
            size: size, kernels: kernels, base: size > 0 ? try Session.allocateArena(size) : nil,
            ownsArena: true)
    }

    private init(model: Model, options: SessionOptions, prepared: Prepared) throws(ACNetError) {
        let size = prepared.size
        let kernels = prepared.kernels
        let base = prepared.base
        ownsArena = prepared.ownsArena
        self.kernels = kernels
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
            (views + s).initialize(
                to: TensorView(
                    base: p, c: d.c, h: d.h, w: d.w, blocked: d.blocked,
                    imageStride: d.storageElements))
        }
        var steps = model.steps
        if options.useWinograd {
            for w in model.winograd {
                if case .conv(let g, let input, let output, let residual, _, let bias, _) = steps[w.step] {
                    steps[w.step] = .winograd(
                        g, input: input, output: output, residual: residual, weights: w.weights,
                        bias: bias, chunkTiles: w.chunkTiles)
                }
            }
        }
        let out = model.activations[model.outputSlot]
        steps.append(.output(input: model.outputSlot, blocked: out.blocked))
        self.steps = steps
        let activationBytes = model.plan.bytesPerImage * options.maxBatch
        scratchStride = Session.scratchBytes(for: model, options: options) / 4
        scratch =
            base.map { ($0 + activationBytes).assumingMemoryBound(to: Float.self) }
            ?? UnsafeMutablePointer(bitPattern: 64)!
        var cap = 1
        for step in model.steps { if case .concat(let inputs, _) = step { cap = max(cap, inputs.count) } }
        concatCapacity = cap
        concatViews = .allocate(capacity: cap)
        concatViews.initialize(repeating: views[0], count: cap)
        if options.threads > 1 { try startTeam() }
    }

    deinit {
        stopTeam()
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
        #elseif ACNET_POSIX
        guard let p = acnet_support_aligned_alloc(ACNBFormat.alignment, size) else {
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
        #elseif ACNET_POSIX
        acnet_support_aligned_free(p)
        #else
        p.deallocate()
        #endif
    }

    /// Runs the model on `batch` images. Performs no heap allocation; not thread-safe (one
    /// session per thread; a session with `threads > 1` uses its own workers).
    /// - Parameters:
    ///   - input: NCHW float32 images, normalised per `Model.inputSpec`.
    ///   - inputCount: elements at `input`: batch · C · H · W.
    ///   - output: receives the logits, NCHW (or [N, F]).
    ///   - outputCount: elements at `output`: batch · (output elements per image).
    ///   - batch: images in this run, 1...`SessionOptions.maxBatch`.
    /// - Throws: `.invalidArgument` if batch is outside 1...maxBatch or a count is wrong.
    ///   Nothing is written to `output` on error.
    public func run(
        input: UnsafePointer<Float>, inputCount: Int, output: UnsafeMutablePointer<Float>,
        outputCount: Int, batch: Int
    ) throws(ACNetError) {
        try validateRun(inputCount: inputCount, outputCount: outputCount, batch: batch)
        bind(input: input, output: output)
        if team != nil {
            runOnTeam(batch: batch)
        } else {
            for step in steps { execute(step, batch: batch, part: .whole, worker: 0) }
        }
    }

    /// The argument checks of `run`.
    func validateRun(inputCount: Int, outputCount: Int, batch: Int) throws(ACNetError) {
        guard batch >= 1, batch <= options.maxBatch else {
            throw ACNetError(.invalidArgument, "batch \(batch) is outside 1...\(options.maxBatch)")
        }
        guard inputCount == batch * model.inputElementCount else {
            throw ACNetError(
                .invalidArgument, "input has \(inputCount) elements, expected \(batch * model.inputElementCount)")
        }
        guard outputCount == batch * model.outputElementCount else {
            throw ACNetError(
                .invalidArgument, "output has \(outputCount) elements, expected \(batch * model.outputElementCount)")
        }
    }

    /// Points the input slot and `Step.output` at the caller's buffers for one run.
    @inline(__always)
    func bind(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        views[model.inputSlot].base = UnsafeMutablePointer(mutating: input)
        outputBase = output
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

    /// Runs `part` of `step` on the thread `worker` (0: the caller), which owns scratch region
    /// `worker` while it runs.
    @inline(__always)
    func execute(_ step: Step, batch: Int, part: WorkPart, worker: Int) {
        switch step {
        case .conv(let g, let input, let output, let residual, let weights, let bias, let offsets):
            kernels.conv(
                g, batch, views[input], views[output], residual >= 0 ? views[residual] : nil,
                weights, bias, offsets, part)
        case .winograd(let g, let input, let output, let residual, let weights, let bias, let chunkTiles):
            kernels.winograd(
                g, batch, views[input], views[output], residual >= 0 ? views[residual] : nil,
                weights, bias, scratch + worker * scratchStride, chunkTiles, part)
        case .depthwise(let g, let input, let output, let residual, let weights, let bias):
            kernels.depthwise(
                g, batch, views[input], views[output], residual >= 0 ? views[residual] : nil,
                weights, bias, part)
        case .maxPool(let g, let input, let output):
            kernels.pool(g, true, batch, views[input], views[output], part)
        case .avgPool(let g, let input, let output):
            kernels.pool(g, false, batch, views[input], views[output], part)
        case .globalAvgPool(let input, let output):
            kernels.globalAvgPool(batch, views[input], views[output])
        case .linear(let f, let o, let act, let input, let output, let weights, let bias):
            kernels.linear(f, o, act, batch, views[input], views[output], weights, bias)
        case .add(let act, let a, let b, let output):
            let (lo, hi) = Self.vectorRange(batch * views[output].imageStride, part)
            kernels.add(views[a].base + lo, views[b].base + lo, views[output].base + lo, hi - lo, act)
        case .concat(let inputs, let output):
            for (k, s) in inputs.enumerated() { concatViews[k] = views[s] }
            kernels.concat(batch, UnsafeBufferPointer(start: concatViews, count: inputs.count), views[output])
        case .scaleShift(let act, let input, let output, let scale, let shift):
            kernels.scaleShift(batch, views[input], views[output], scale, shift, act)
        case .flatten(let input, let output):
            kernels.toPlain(batch, views[input], views[output].base, views[output].imageStride, part)
        case .softmax(let input, let output):
            kernels.softmax(batch, views[input], views[output])
        case .activation(let act, let input, let output):
            let (lo, hi) = Self.vectorRange(batch * views[output].imageStride, part)
            kernels.activation(views[input].base + lo, views[output].base + lo, hi - lo, act)
        case .toBlocked(let input, let output):
            kernels.toBlocked(batch, views[input], views[output], part)
        case .output(let input, _):
            kernels.toPlain(batch, views[input], outputBase, model.outputElementCount, part)
        }
    }

    /// `part`'s elements [lo, hi) of `count` contiguous floats, in whole 16-float vectors (the
    /// last part also takes the tail).
    @inline(__always)
    static func vectorRange(_ count: Int, _ part: WorkPart) -> (lo: Int, hi: Int) {
        let (v0, v1) = part.units(ceilDiv(count, 16))
        return (v0 * 16, min(v1 * 16, count))
    }
}
