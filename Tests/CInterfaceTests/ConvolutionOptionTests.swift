import ACNetWriter
import ACRuntime
import CACNet
import CInterface
import Testing

/// `acnet_session_options.convolution`: AUTO runs a file's Winograd weights, DIRECT forces
/// direct convolution; the first 16-byte layout of the struct (without the field) is accepted.
@Suite("C ABI: convolution option")
struct ConvolutionOptionTests {
    @Test("AUTO and DIRECT agree on a Winograd ResNet-20; bad values and the old layout")
    func option() throws {
        let bytes = try BenchmarkModels.build("resnet20", seed: 4, winograd: .all)
        let p = alignedCopy(bytes)
        defer { p.deallocate() }
        var model: OpaquePointer?
        try #require(acnet_model_load_memory(p, bytes.count, &model) == ACNET_OK)
        defer { #expect(acnet_model_free(model) == ACNET_OK) }
        var opts = acnet_session_options()
        #expect(acnet_session_options_init(&opts) == ACNET_OK)
        #expect(opts.convolution == ACNET_CONVOLUTION_AUTO.rawValue)
        let x: [Float] = (0..<3072).map { (i: Int) -> Float in Float(i % 17) / 17 - 0.5 }
        func run(_ o: acnet_session_options) throws -> [Float] {
            var o = o
            var s: OpaquePointer?
            try #require(acnet_session_create(model, &o, nil, 0, &s) == ACNET_OK)
            defer { acnet_session_free(s) }
            var y = [Float](repeating: 0, count: 10)
            #expect(acnet_session_run(s, 1, x, x.count, &y, y.count) == ACNET_OK)
            return y
        }
        let auto = try run(opts)
        var direct = opts
        direct.convolution = ACNET_CONVOLUTION_DIRECT.rawValue
        let d = try run(direct)
        #expect(auto != d, "Winograd rounds differently from direct convolution")
        #expect(zip(auto, d).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })
        var wsAuto = 0
        var wsDirect = 0
        #expect(acnet_session_workspace_size(model, &opts, &wsAuto) == ACNET_OK)
        #expect(acnet_session_workspace_size(model, &direct, &wsDirect) == ACNET_OK)
        #expect(wsAuto > wsDirect, "the Winograd scratch is part of the workspace")
        var bad = opts
        bad.convolution = 2
        var ws = 0
        #expect(acnet_session_workspace_size(model, &bad, &ws) == ACNET_ERROR_INVALID_ARGUMENT && ws == 0)
        var old = direct
        old.struct_size = 16  // a caller compiled before the field existed: the field is not read
        #expect(acnet_session_workspace_size(model, &old, &ws) == ACNET_OK && ws == wsAuto)
    }
}
