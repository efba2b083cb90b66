// The worker threads of a multi-threaded session: a team from Sources/CACNet/team.c (created
// once, joined in deinit) and the task list each run hands it.
internal import CACNet

/// One task of a multi-threaded run: part `part` of step `step`.
struct SessionTask {
    var step: Int
    var part: WorkPart
}

extension Step {
    /// Multiply-accumulates per image (convolutions), the measure of how finely a step is split.
    var macs: Int {
        switch self {
        case .conv(let g, _, _, _, _, _, _), .winograd(let g, _, _, _, _, _, _), .depthwise(let g, _, _, _, _, _):
            g.macs
        default: 0
        }
    }

    /// Into how many tasks (`WorkPart`s) a session with `threads` threads splits the step.
    ///
    /// Convolutions: one task per ~1 M (conventional) multiply-accumulates per image,
    /// at least `threads` and at most 4 × `threads`, so that a thread the OS deschedules
    /// holds up little work while the others take the rest, and the per-task hand-off (two
    /// atomic read-modify-writes on shared cache lines, ~0.2 µs) stays a few percent. Winograd:
    /// `threads` tasks (see below). Pooling
    /// and elementwise steps and the conversion of a plain model input to blocked: `threads`
    /// tasks; the model output's conversion too when it is blocked (a feature map). Linear,
    /// global pooling, softmax, concat, scale-shift, flatten and a plain output: one task
    /// (small in the models in scope).
    func taskCount(threads: Int) -> Int {
        switch self {
        case .conv, .depthwise: max(threads, min(4 * threads, macs / 1_000_000))
        // One part per thread: a part split by tiles streams all of its blocks' transformed
        // weights (9.4 MB for 256→256) again, so extra parts cost weight traffic (conv256 at 2
        // threads with 8 tile-split parts: 1.44 ms against 0.82 ms on one thread).
        case .winograd: threads
        case .maxPool, .avgPool, .add, .activation, .toBlocked: threads
        case .output(_, let blocked): blocked ? threads : 1
        default: 1
        }
    }
}

extension Session {
    /// The tasks of one run in order, and for each the number of tasks that must be done before
    /// it starts (all tasks of the earlier steps: every step may read what any earlier one
    /// wrote, or overwrite what it read).
    static func tasks(_ steps: [Step], threads: Int) -> (tasks: [SessionTask], after: [UInt32]) {
        var tasks: [SessionTask] = []
        var after: [UInt32] = []
        for (i, step) in steps.enumerated() {
            let before = UInt32(tasks.count)
            let n = step.taskCount(threads: threads)
            for p in 0..<n {
                tasks.append(SessionTask(step: i, part: WorkPart(index: p, count: n)))
                after.append(before)
            }
        }
        return (tasks, after)
    }

    #if hasFeature(Embedded) && !ACNET_POSIX
    func startTeam() throws(ACNetError) {}
    func stopTeam() {}
    func runOnTeam(batch: Int) {}
    #else
    /// Starts the `options.threads − 1` workers. Called once, at the end of `init`.
    /// - Throws: `.outOfMemory` if the threads cannot be created (none is left running).
    func startTeam() throws(ACNetError) {
        let (list, after) = Session.tasks(steps, threads: options.threads)
        tasks = list
        let job: acnet_support_team_fn = { context, task, worker in
            Unmanaged<Session>.fromOpaque(context!).takeUnretainedValue().runTask(Int(task), worker: Int(worker))
        }
        let t = after.withUnsafeBufferPointer { a in
            acnet_support_team_create(
                Int32(options.threads), job, Unmanaged.passUnretained(self).toOpaque(),
                UInt32(a.count), a.baseAddress)
        }
        guard let t else { throw ACNetError(.outOfMemory, "cannot start \(options.threads - 1) worker threads") }
        team = t
    }

    /// Joins the workers (deinit).
    func stopTeam() {
        acnet_support_team_destroy(team)
        team = nil
    }

    /// Runs every step on the team; returns when all tasks are done.
    func runOnTeam(batch: Int) {
        runBatch = batch
        acnet_support_team_run(team)
    }

    /// One task, on whichever thread of the team took it (`worker`).
    private func runTask(_ t: Int, worker: Int) {
        let task = tasks[t]
        execute(steps[task.step], batch: runBatch, part: task.part, worker: worker)
    }
    #endif
}

#if !hasFeature(Embedded)
extension Step {
    /// A one-line description for per-step profiles (`Session.stepSummaries`).
    var summary: String {
        func conv(_ kind: String, _ g: ConvGeometry) -> String {
            "\(kind) \(g.kernelH)x\(g.kernelW) s\(g.strideH)\(g.groups > 1 ? " g\(g.groups)" : "") "
                + "\(g.inC)→\(g.outC) @\(g.outH)×\(g.outW)"
        }
        switch self {
        case .conv(let g, _, _, _, _, _, _): return conv("conv", g)
        case .winograd(let g, _, _, _, _, _, _): return conv("winograd", g)
        case .depthwise(let g, _, _, _, _, _): return conv("depthwise", g)
        case .maxPool(let g, _, _):
            return "max_pool \(g.kernelH)x\(g.kernelW) s\(g.strideH) \(g.c) @\(g.outH)×\(g.outW)"
        case .avgPool(let g, _, _):
            return "avg_pool \(g.kernelH)x\(g.kernelW) s\(g.strideH) \(g.c) @\(g.outH)×\(g.outW)"
        case .globalAvgPool: return "global_avg_pool"
        case .linear(let f, let o, _, _, _, _, _): return "linear \(f)→\(o)"
        case .add: return "add"
        case .concat: return "concat"
        case .scaleShift: return "scale_shift"
        case .flatten: return "flatten"
        case .softmax: return "softmax"
        case .activation: return "activation"
        case .toBlocked: return "to_blocked (model input)"
        case .output: return "output (to the caller's NCHW)"
        }
    }
}

extension Session {
    /// One line per step of `runProfiled`, in order: the op, kernel size, stride, channels
    /// and output size.
    public var stepSummaries: [String] { steps.map(\.summary) }

    /// Multiply-accumulates per image of each step (0 for steps other than convolutions).
    public var stepMACs: [Int] { steps.map(\.macs) }

    /// Runs like `run(input:inputCount:output:outputCount:batch:)` but step by step on the
    /// calling thread (the team, if any, is not used), adding each step's wall time in
    /// nanoseconds to `nanoseconds[i]` (`stepSummaries.count` elements, caller-owned). For
    /// profiling (`acnet bench --profile`); the clock reads add ~20 ns per step. Input and
    /// output as in `run` (NCHW float32, `batch` images). Thread safety: as `run`, one thread
    /// at a time per session.
    /// - Throws: as `run` (`.invalidArgument` for a bad batch or count); nothing is timed then.
    public func runProfiled(
        input: UnsafePointer<Float>, inputCount: Int, output: UnsafeMutablePointer<Float>,
        outputCount: Int, batch: Int, nanoseconds: UnsafeMutablePointer<UInt64>
    ) throws(ACNetError) {
        try validateRun(inputCount: inputCount, outputCount: outputCount, batch: batch)
        bind(input: input, output: output)
        for (i, step) in steps.enumerated() {
            let t0 = acnet_support_now_ns()
            execute(step, batch: batch, part: .whole, worker: 0)
            nanoseconds[i] += acnet_support_now_ns() - t0
        }
    }
}
#endif
