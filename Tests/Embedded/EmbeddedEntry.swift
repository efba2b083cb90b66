// Entry point for the Embedded Swift check (scripts/embedded_check.sh): compiled into one
// module with Sources/ACRuntime in Embedded mode, called from embedded_main.c.
// Loads an in-memory model (borrowed, 64-byte aligned), runs one image, writes the output.

/// Returns 0 on success or the ACNetStatus of the failure.
@c(acnet_embedded_run)
public func acnetEmbeddedRun(
    _ model: UnsafeRawPointer, _ size: Int, _ input: UnsafePointer<Float>,
    _ inputCount: Int, _ output: UnsafeMutablePointer<Float>, _ outputCount: Int
) -> Int32 {
    do throws(ACNetError) {
        let m = try Model(borrowing: UnsafeRawBufferPointer(start: model, count: size))
        let s = try Session(model: m)
        try s.run(input: input, inputCount: inputCount, output: output, outputCount: outputCount, batch: 1)
        return 0
    } catch {
        return error.status.rawValue
    }
}
