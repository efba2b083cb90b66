// The C ABI of include/acnet.h. Every function is declared in the header and implemented
// here with `@c @implementation`, so the compiler checks names, types and nullability against
// the header. Swift errors never cross the boundary: each is turned into an acnet_status and
// a message in the calling thread's error buffer.
import ACRuntime
import CACNet

// MARK: Handles

/// What an `acnet_model *` points to: a retained box around the Swift model plus the count of
/// live sessions, so acnet_model_free can refuse while sessions exist.
final class ModelHandle {
    let model: Model
    var liveSessions: Int64 = 0
    init(_ model: Model) { self.model = model }
}

/// What an `acnet_session *` points to.
final class SessionHandle {
    let session: Session
    let owner: ModelHandle
    init(_ session: Session, _ owner: ModelHandle) {
        self.session = session
        self.owner = owner
    }
}

@inline(__always) private func modelHandle(_ p: OpaquePointer) -> ModelHandle {
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@inline(__always) private func sessionHandle(_ p: OpaquePointer) -> SessionHandle {
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

// MARK: Errors

private func fail(_ status: ACNetStatus, _ message: String) -> acnet_status {
    var m = message
    m.withUTF8 {
        acnet_support_set_error(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count)
    }
    return status.rawValue
}

private func fail(_ error: ACNetError) -> acnet_status { fail(error.status, error.message) }

// MARK: Version and status

@c @implementation
public func acnet_version() -> UInt32 {
    UInt32(ACNET_VERSION_MAJOR * 10000 + ACNET_VERSION_MINOR * 100 + ACNET_VERSION_PATCH)
}

@c @implementation
public func acnet_status_string(_ status: acnet_status) -> UnsafePointer<CChar> {
    let name: StaticString = ACNetStatus(rawValue: status)?.name ?? "ACNET_UNKNOWN_STATUS"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func acnet_last_error_message() -> UnsafePointer<CChar> {
    UnsafePointer(acnet_support_error_buffer())
}

// MARK: Models

private func publish(_ model: Model, _ out: UnsafeMutablePointer<OpaquePointer?>) -> acnet_status {
    out.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(model)).toOpaque())
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_model_load_file(
    _ path: UnsafePointer<CChar>?, _ model: UnsafeMutablePointer<OpaquePointer?>?
)
    -> acnet_status
{
    guard let path, let model else {
        return fail(.invalidArgument, "acnet_model_load_file: path and model must not be NULL")
    }
    do {
        return publish(try Model(contentsOfFile: String(cString: path)), model)
    } catch {
        return fail(error)
    }
}

@c @implementation
public func acnet_model_load_memory(
    _ data: UnsafeRawPointer?, _ size: Int,
    _ model: UnsafeMutablePointer<OpaquePointer?>?
) -> acnet_status {
    guard let data, let model else {
        return fail(.invalidArgument, "acnet_model_load_memory: data and model must not be NULL")
    }
    guard size != 0 else { return fail(.invalidArgument, "acnet_model_load_memory: size is 0") }
    // size_t arrives as Int: a size above Int.max (e.g. SIZE_MAX) shows up negative.
    guard size > 0 else {
        return fail(
            .invalidArgument, "acnet_model_load_memory: size \(UInt(bitPattern: size)) is larger than any buffer can be"
        )
    }
    do {
        return publish(try Model(borrowing: UnsafeRawBufferPointer(start: data, count: size)), model)
    } catch {
        return fail(error)
    }
}

@c @implementation
public func acnet_model_free(_ model: OpaquePointer?) -> acnet_status {
    guard let model else { return ACNetStatus.ok.rawValue }
    let h = modelHandle(model)
    let live = acnet_support_atomic_load(&h.liveSessions)
    guard live == 0 else {
        return fail(.invalidArgument, "acnet_model_free: \(live) session(s) still use this model; free them first")
    }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
    return ACNetStatus.ok.rawValue
}

private func writeShape(_ dims: [Int], _ shape: UnsafeMutablePointer<Int64>, _ rank: UnsafeMutablePointer<Int>) {
    for (i, d) in dims.enumerated() { shape[i] = Int64(d) }
    rank.pointee = dims.count
}

@c @implementation
public func acnet_model_input_shape(
    _ model: OpaquePointer?, _ shape: UnsafeMutablePointer<Int64>?,
    _ rank: UnsafeMutablePointer<Int>?
) -> acnet_status {
    guard let model, let shape, let rank else {
        return fail(.invalidArgument, "acnet_model_input_shape: NULL argument")
    }
    writeShape([1] + modelHandle(model).model.inputShape, shape, rank)
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_model_output_shape(
    _ model: OpaquePointer?, _ shape: UnsafeMutablePointer<Int64>?,
    _ rank: UnsafeMutablePointer<Int>?
) -> acnet_status {
    guard let model, let shape, let rank else {
        return fail(.invalidArgument, "acnet_model_output_shape: NULL argument")
    }
    writeShape([1] + modelHandle(model).model.outputShape, shape, rank)
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_model_input_spec(
    _ model: OpaquePointer?, _ spec: UnsafeMutablePointer<acnet_input_spec>?
)
    -> acnet_status
{
    guard let model, let spec else { return fail(.invalidArgument, "acnet_model_input_spec: NULL argument") }
    let m = modelHandle(model).model
    var s = acnet_input_spec()
    let shape = m.inputShape
    s.channels = UInt32(shape[0])
    s.height = UInt32(shape[1])
    s.width = UInt32(shape[2])
    s.channel_order = m.inputSpec.channelOrder.rawValue
    withUnsafeMutableBytes(of: &s.mean) { raw in
        let p = raw.bindMemory(to: Float.self)
        for i in 0..<4 { p[i] = i < m.inputSpec.mean.count ? m.inputSpec.mean[i] : 0 }
    }
    withUnsafeMutableBytes(of: &s.std) { raw in
        let p = raw.bindMemory(to: Float.self)
        for i in 0..<4 { p[i] = i < m.inputSpec.std.count ? m.inputSpec.std[i] : 1 }
    }
    spec.pointee = s
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_model_label_count(_ model: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> acnet_status {
    guard let model, let count else { return fail(.invalidArgument, "acnet_model_label_count: NULL argument") }
    count.pointee = modelHandle(model).model.labels.count
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_model_label(
    _ model: OpaquePointer?, _ index: Int,
    _ label: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> acnet_status {
    guard let model, let label else { return fail(.invalidArgument, "acnet_model_label: NULL argument") }
    let m = modelHandle(model).model
    guard let p = m.labelCString(index) else {
        return fail(.outOfRange, "acnet_model_label: index \(index) ≥ label count \(m.labels.count)")
    }
    label.pointee = p
    return ACNetStatus.ok.rawValue
}

// MARK: Sessions

private func sessionOptions(
    _ options: UnsafePointer<acnet_session_options>?, _ fn: String
)
    -> Result<SessionOptions, ACNetError>
{
    guard let options else { return .success(SessionOptions()) }
    let size = Int(options.pointee.struct_size)
    // 16 bytes: the first layout (struct_size … isa); later fields are read only when present.
    let firstLayoutSize = MemoryLayout<acnet_session_options>.offset(of: \acnet_session_options.convolution)!
    guard size >= firstLayoutSize else {
        return .failure(
            ACNetError(
                .invalidArgument,
                "\(fn): options.struct_size is \(size), expected \(MemoryLayout<acnet_session_options>.size); call acnet_session_options_init"
            ))
    }
    var useWinograd = true
    if size >= MemoryLayout<acnet_session_options>.size {
        switch options.pointee.convolution {
        case ACNET_CONVOLUTION_AUTO.rawValue: useWinograd = true
        case ACNET_CONVOLUTION_DIRECT.rawValue: useWinograd = false
        default:
            return .failure(
                ACNetError(
                    .invalidArgument,
                    "\(fn): options.convolution \(options.pointee.convolution) is not an acnet_convolution"))
        }
    }
    var isa: KernelISA?
    if options.pointee.isa != ACNET_ISA_AUTO.rawValue {
        guard let requested = KernelISA(rawValue: Int32(bitPattern: options.pointee.isa)) else {
            return .failure(
                ACNetError(.invalidArgument, "\(fn): options.isa \(options.pointee.isa) is not an acnet_isa"))
        }
        isa = requested
    }
    return .success(
        SessionOptions(
            threads: Int(options.pointee.threads), maxBatch: Int(options.pointee.max_batch),
            isa: isa, useWinograd: useWinograd))
}

@c @implementation
public func acnet_session_options_init(_ options: UnsafeMutablePointer<acnet_session_options>?) -> acnet_status {
    guard let options else { return fail(.invalidArgument, "acnet_session_options_init: options is NULL") }
    options.pointee = acnet_session_options(
        struct_size: UInt32(MemoryLayout<acnet_session_options>.size), threads: 1, max_batch: 1,
        isa: ACNET_ISA_AUTO.rawValue,
        convolution: ACNET_CONVOLUTION_AUTO.rawValue)
    return ACNetStatus.ok.rawValue
}

@c @implementation
public func acnet_session_workspace_size(
    _ model: OpaquePointer?, _ options: UnsafePointer<acnet_session_options>?,
    _ size: UnsafeMutablePointer<Int>?
) -> acnet_status {
    guard let model, let size else { return fail(.invalidArgument, "acnet_session_workspace_size: NULL argument") }
    switch sessionOptions(options, "acnet_session_workspace_size") {
    case .failure(let e): return fail(e)
    case .success(let o):
        do {
            size.pointee = try Session.workspaceSize(for: modelHandle(model).model, options: o)
            return ACNetStatus.ok.rawValue
        } catch {
            return fail(error)
        }
    }
}

@c @implementation
public func acnet_session_create(
    _ model: OpaquePointer?, _ options: UnsafePointer<acnet_session_options>?,
    _ workspace: UnsafeMutableRawPointer?, _ workspace_size: Int,
    _ session: UnsafeMutablePointer<OpaquePointer?>?
) -> acnet_status {
    guard let model, let session else {
        return fail(.invalidArgument, "acnet_session_create: model and session must not be NULL")
    }
    let h = modelHandle(model)
    switch sessionOptions(options, "acnet_session_create") {
    case .failure(let e): return fail(e)
    case .success(let o):
        do {
            let s: Session
            if let workspace {
                s = try Session(
                    model: h.model, options: o,
                    workspace: UnsafeMutableRawBufferPointer(start: workspace, count: workspace_size))
            } else {
                s = try Session(model: h.model, options: o)
            }
            _ = acnet_support_atomic_add(&h.liveSessions, 1)
            session.pointee = OpaquePointer(Unmanaged.passRetained(SessionHandle(s, h)).toOpaque())
            return ACNetStatus.ok.rawValue
        } catch {
            return fail(error)
        }
    }
}

@c @implementation
public func acnet_session_run(
    _ session: OpaquePointer?, _ batch: Int, _ input: UnsafePointer<Float>?,
    _ input_count: Int, _ output: UnsafeMutablePointer<Float>?, _ output_count: Int
)
    -> acnet_status
{
    guard let session, let input, let output else {
        return fail(.invalidArgument, "acnet_session_run: session, input and output must not be NULL")
    }
    do {
        try sessionHandle(session).session.run(
            input: input, inputCount: input_count, output: output,
            outputCount: output_count, batch: batch)
        return ACNetStatus.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func acnet_session_free(_ session: OpaquePointer?) {
    guard let session else { return }
    let h = sessionHandle(session)
    _ = acnet_support_atomic_add(&h.owner.liveSessions, -1)
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
}
