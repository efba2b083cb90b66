// The C entry points of the Cortex-M firmware (main.c): compiled with ACKernelTypes, ACKernels
// and ACRuntime into one Embedded Swift module (see Makefile). One model, borrowed from flash,
// and one session in a caller-owned arena; no allocation after acnet_fw_session_create.
//
// Every function returns 0 or an ACNetStatus (acnet_status of include/acnet.h); the message of
// the last failure is kept for acnet_fw_error_message. Not thread-safe (bare metal, one thread).

nonisolated(unsafe) private var loadedModel: Model?
nonisolated(unsafe) private var session: Session?
nonisolated(unsafe) private var lastError = ""

private func fail(_ error: ACNetError) -> Int32 {
    lastError = error.message
    return error.status.rawValue
}

/// Parses the model at `data` (`size` bytes, 64-byte aligned, e.g. in flash) without copying
/// it: the weights are read in place for as long as the firmware runs.
@c(acnet_fw_model_load)
public func acnetFirmwareModelLoad(_ data: UnsafeRawPointer, _ size: Int) -> Int32 {
    do throws(ACNetError) {
        loadedModel = try Model(borrowing: UnsafeRawBufferPointer(start: data, count: size))
        return 0
    } catch {
        return fail(error)
    }
}

/// Writes the model's per-image input and output element counts and its input normalisation
/// (`x = (pixel/255 − mean[c]) / std[c]`, `channels` ≤ 4 entries each).
@c(acnet_fw_model_info)
public func acnetFirmwareModelInfo(_ inputCount: UnsafeMutablePointer<Int>, _ outputCount: UnsafeMutablePointer<Int>,
                                   _ channels: UnsafeMutablePointer<Int>, _ mean: UnsafeMutablePointer<Float>,
                                   _ std: UnsafeMutablePointer<Float>) -> Int32 {
    guard let m = loadedModel else { return fail(ACNetError(.invalidArgument, "no model loaded")) }
    inputCount.pointee = m.inputElementCount
    outputCount.pointee = m.outputElementCount
    let c = min(m.inputSpec.mean.count, 4)
    channels.pointee = c
    for i in 0..<c {
        mean[i] = m.inputSpec.mean[i]
        std[i] = m.inputSpec.std[i]
    }
    return 0
}

/// Writes the exact arena bytes a session with `threads` threads (batch 1) needs.
@c(acnet_fw_workspace_size)
public func acnetFirmwareWorkspaceSize(_ threads: Int, _ size: UnsafeMutablePointer<Int>) -> Int32 {
    guard let m = loadedModel else { return fail(ACNetError(.invalidArgument, "no model loaded")) }
    do throws(ACNetError) {
        size.pointee = try Session.workspaceSize(for: m, options: SessionOptions(threads: threads))
        return 0
    } catch {
        return fail(error)
    }
}

/// Creates the session in `workspace` (64-byte aligned, `workspaceSize` bytes, owned by the
/// caller for the firmware's lifetime). Bare-metal builds have no threads: `threads` > 1 is
/// refused with ACNET_ERROR_INVALID_ARGUMENT.
@c(acnet_fw_session_create)
public func acnetFirmwareSessionCreate(_ threads: Int, _ workspace: UnsafeMutableRawPointer, _ workspaceSize: Int) -> Int32 {
    guard let m = loadedModel else { return fail(ACNetError(.invalidArgument, "no model loaded")) }
    do throws(ACNetError) {
        session = try Session(model: m, options: SessionOptions(threads: threads),
                              workspace: UnsafeMutableRawBufferPointer(start: workspace, count: workspaceSize))
        return 0
    } catch {
        return fail(error)
    }
}

/// Runs one image: `input` NCHW float32 (`inputCount` elements), `output` the logits.
@c(acnet_fw_run)
public func acnetFirmwareRun(_ input: UnsafePointer<Float>, _ inputCount: Int, _ output: UnsafeMutablePointer<Float>,
                             _ outputCount: Int) -> Int32 {
    guard let s = session else { return fail(ACNetError(.invalidArgument, "no session")) }
    do throws(ACNetError) {
        try s.run(input: input, inputCount: inputCount, output: output, outputCount: outputCount, batch: 1)
        return 0
    } catch {
        return fail(error)
    }
}

/// Copies the last failure's message into `buffer` (NUL-terminated, at most `capacity` bytes).
@c(acnet_fw_error_message)
public func acnetFirmwareErrorMessage(_ buffer: UnsafeMutablePointer<UInt8>, _ capacity: Int) {
    guard capacity > 0 else { return }
    var n = 0
    for b in lastError.utf8 where n < capacity - 1 {
        buffer[n] = b
        n += 1
    }
    buffer[n] = 0
}
