import ACNetWriter
import ACRuntime
import Foundation
import Testing

/// The ACB reference vectors of an independent implementation (in Fixtures/acb): the fused
/// convolution, written to an .acnb and loaded back, reproduces the three-branch block's
/// `output` within 1e-4·(1+max|y|) (docs/DESIGN.md §3).
@Suite("ACB reference vectors through the runtime")
struct ACBVectorTests {
    static let cases = [
        "acb_k3p0_crop", "acb_k3p1", "acb_k3p1_c64", "acb_k3p1_noaffine", "acb_k3p1dw_s2",
        "acb_k3p1g4", "acb_k3p1s2_odd", "acb_k5p2", "acb_k5p6",
    ]

    @Test("fused conv reproduces the block output", arguments: cases)
    func fusedConv(_ name: String) throws {
        let st = try SafeTensors(contentsOf: fixturesURL("acb/\(name).safetensors"))
        let input = st.tensors["input"]!
        let output = st.tensors["output"]!
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let k = st.int("kernel_size")
        let s = st.int("stride")
        let p = st.int("padding")
        let d = st.int("dilation")
        let groups = st.int("groups")
        let o = st.int("out_channels")
        var b = ModelBuilder(inputChannels: c, height: h, width: w, inputSpec: rawSpec(c))
        let y = try b.conv2d(
            b.input, weight: st.tensors["fused.weight"]!.data, bias: st.tensors["fused.bias"]!.data,
            outputChannels: o, kernelSize: (k, k), stride: (s, s), padding: .symmetric(p),
            dilation: (d, d), groups: groups)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).acnb")
        try b.write(toFile: url.path, output: y)
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try Model(contentsOfFile: url.path)
        #expect(model.outputShape == Array(output.shape.dropFirst()))
        let session = try Session(model: model, options: SessionOptions(maxBatch: n))
        let got = try session.run(input.data, batch: n)
        let tol = 1e-4 * (1 + maxAbs(output.data))
        #expect(maxAbsDiff(got, output.data) <= tol)
    }
}
