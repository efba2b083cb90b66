/// The validated graph of a model: activation tensors and execution steps.
///
/// Everything here is derived from the file once, at load, after every field has been checked;
/// the kernels trust it. Constant data is referenced in place (zero-copy).

/// An activation tensor, per image. Rank-4 tensors are [1, C, H, W]; rank-2 are [1, F] and
/// stored as c = F, h = w = 1.
struct ActivationDesc {
    var rank: Int
    var c: Int
    var h: Int
    var w: Int
    /// Stored in the blocked layout [ceil(C/16)][H][W][16] (every rank-4 activation except the
    /// model input, which callers supply as plain NCHW).
    var blocked: Bool
    /// Index in the file's tensor table.
    var tensorIndex: Int

    /// Elements one image occupies in its storage layout.
    var storageElements: Int {
        blocked ? ceilDiv(c, 16) * 16 * h * w : c * h * w
    }

    /// Logical elements per image (C·H·W or F).
    var logicalElements: Int { c * h * w }

    /// The shape as the file declares it, N = 1.
    var dims: [Int] { rank == 4 ? [1, c, h, w] : [1, c] }
}

/// One step of execution, in file order.
enum Step {
    /// Direct convolution, 16-output-channel blocks. `blockOffsets[b]` is the element offset
    /// of block b's weights; `residual` is an activation slot or -1.
    case conv(
        ConvGeometry, input: Int, output: Int, residual: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, blockOffsets: [Int])
    /// Winograd F(4×4, 3×3) convolution (weights packing `winograd43`), blocked input; uses
    /// the session's scratch.
    case winograd(
        ConvGeometry, input: Int, output: Int, residual: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, chunkTiles: Int)
    /// Depthwise convolution (groups == C == O), channels in lanes.
    case depthwise(
        ConvGeometry, input: Int, output: Int, residual: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>)
    case maxPool(PoolGeometry, input: Int, output: Int)
    case avgPool(PoolGeometry, input: Int, output: Int)
    case globalAvgPool(input: Int, output: Int)
    /// y = x·Wᵀ + b; weights in 16-output blocks [ceil(O/16)][F][16], bias padded to 16.
    case linear(
        inFeatures: Int, outFeatures: Int, activation: Activation, input: Int, output: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>)
    case add(activation: Activation, a: Int, b: Int, output: Int)
    case concat(inputs: [Int], output: Int)
    /// Per-channel y = x·scale + shift (scale/shift padded to 16).
    case scaleShift(
        activation: Activation, input: Int, output: Int,
        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)
    case flatten(input: Int, output: Int)
    case softmax(input: Int, output: Int)
    case activation(Activation, input: Int, output: Int)
    /// Converts the plain NCHW model input into a blocked copy (inserted by the loader when an
    /// op other than conv reads the model input).
    case toBlocked(input: Int, output: Int)
    /// Writes activation `input` (`blocked`: in blocked layout) into the caller's NCHW output
    /// buffer of the run in progress. Appended by the session as its last step, so that the
    /// threads share the conversion.
    case output(input: Int, blocked: Bool)
}

/// Winograd F(4×4, 3×3) weights stored for the conv at `steps[step]`; a session runs
/// `Step.winograd` in its place unless asked for direct convolution.
struct WinogradAlternative {
    var step: Int
    var weights: UnsafePointer<Float>
    var chunkTiles: Int
    /// Scratch floats the kernel needs (`Winograd.scratchElements`).
    var scratchElements: Int
}

/// A human-readable description of one op, for `acnet inspect` and tests.
public struct LayerInfo: Sendable {
    /// The operator.
    public let op: OpCode
    /// Shapes (N = 1) of the activation inputs, in order.
    public let inputShapes: [[Int]]
    /// Shape (N = 1) of the output.
    public let outputShape: [Int]
    /// The 16 raw parameters of the op entry (docs/FORMAT.md §Ops).
    public let params: [Int32]
    /// Multiply-accumulates per image (conv and linear; 0 for others).
    public let macs: Int
    /// Number of weight and bias elements stored for this op (packed, with padding).
    public let parameterCount: Int
    /// Name of the kernel the runtime selected (e.g. "conv.oc16.direct"); tests assert on it.
    public let kernel: String
}
