// The types the runtime's kernels take as arguments, shared by the runtime and by every
// ISA-specific copy of the kernels (ACKernelsAVX512, ACKernelsAVX2, ACKernelsBaseline).
//
// Everything here is plain data with `@inlinable` accessors, so no generic or out-of-line code
// is emitted once per ISA module (see Sources/ACKernels/README.md on duplicate specialisations).

/// A fused activation function applied by an op's epilogue.
public enum Activation: Int32, Sendable {
    case none = 0
    case relu = 1
    /// min(max(x, 0), 6)
    case relu6 = 2

    public var name: String {
        switch self {
        case .none: "none"
        case .relu: "relu"
        case .relu6: "relu6"
        }
    }

    /// The function applied to one value (the scalar reference; the kernels inline their own).
    public func apply(_ v: Float) -> Float {
        switch self {
        case .none: v
        case .relu: v < 0 ? 0 : v
        case .relu6: v < 0 ? 0 : (v > 6 ? 6 : v)
        }
    }
}

/// ⌈x / y⌉ for x ≥ 0, y > 0.
@inlinable @inline(__always) public func ceilDiv(_ x: Int, _ y: Int) -> Int {
    (x + y - 1) / y
}

/// The share of one op that one thread of a multi-threaded session computes: part `index` of
/// `count` (0 ≤ index < count). The parts of an op write disjoint output elements and together
/// cover all of them, and every element is computed by the same instructions in the same order
/// whatever the split, so the result is bit-identical for every `count`.
///
/// Kernels that take a part lay their output out as work units — for a blocked output, one
/// unit per (image, 16-channel block, output row), images outermost then blocks then rows —
/// and a part owns one contiguous range of them (`units(_:)`), so two threads split a layer
/// with many blocks by blocks (each reads half of the weights) and one with a single block
/// group by rows.
public struct WorkPart: Sendable, Equatable {
    public var index: Int
    public var count: Int

    @inlinable public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// The whole op on one thread.
    public static let whole = WorkPart(index: 0, count: 1)

    /// This part's units [lo, hi) of `total` (balanced to within one unit).
    @inlinable @inline(__always) public func units(_ total: Int) -> (lo: Int, hi: Int) {
        (total * index / count, total * (index + 1) / count)
    }

    /// The rows [begin, end) this part owns of a job of `rows` rows that starts at unit `base`
    /// and takes `rowUnits` units per row (e.g. a group of 4 output blocks: 4), given this
    /// part's units [lo, hi): a row belongs to the part holding its first unit.
    @inlinable @inline(__always)
    public static func rows(_ rows: Int, base: Int, rowUnits: Int, lo: Int, hi: Int) -> (begin: Int, end: Int) {
        @inline(__always) func firstRow(atOrAfter u: Int) -> Int {
            if u <= base { return 0 }
            let r = (u - base + rowUnits - 1) / rowUnits
            return r < rows ? r : rows
        }
        return (firstRow(atOrAfter: lo), firstRow(atOrAfter: hi))
    }

    /// For a blocked output of `batch` images × `blocks` blocks × `rows` rows, one unit per
    /// (image, block, row): calls `body(n, b, rowBegin, rowEnd)` for every (image, block) of
    /// which this part owns rows.
    @inlinable @inline(__always)
    public func forEachBlock(batch: Int, blocks: Int, rows: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let (lo, hi) = units(batch * blocks * rows)
        var job = lo / rows  // n · blocks + b
        while job * rows < hi {
            let (r0, r1) = WorkPart.rows(rows, base: job * rows, rowUnits: 1, lo: lo, hi: hi)
            if r0 < r1 { body(job / blocks, job % blocks, r0, r1) }
            job += 1
        }
    }
}

/// Scalar math shared by the kernels and the reference implementation.
public enum KernelMath {
    /// e^x without libm (the runtime also builds for bare-metal Embedded targets): range
    /// reduction x = k·ln2 + r, |r| ≤ ln2/2, then a degree-7 Taylor polynomial for e^r
    /// (relative error < 2e-7 on the reduced range) and scaling by 2^k through the exponent bits.
    ///
    /// NaN gives NaN (a NaN or an infinite logit must not reach the Float → Int conversion, which
    /// traps in checked builds and is undefined in -Ounchecked ones).
    ///
    /// Deliberately not inlinable: one compiled copy, in this baseline module, serves every ISA
    /// (it is only used on a few values per image, by softmax).
    public static func exp(_ x: Float) -> Float {
        guard x >= -87.3 else { return x.isNaN ? x : 0 }
        if x > 88.7 { return .infinity }
        let k = (x * 1.442_695_04).rounded()
        let r = x - k * 0.693_147_18
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * Float(sign: .plus, exponent: Int(k), significand: 1)
    }
}

/// A view of one activation: base pointer of image 0 and its layout (plain NCHW, or blocked
/// [ceil(C/16)][H][W][16]). Not owning; valid while the session's arena or the caller's
/// buffer is.
public struct TensorView {
    public var base: UnsafeMutablePointer<Float>
    public var c: Int
    public var h: Int
    public var w: Int
    public var blocked: Bool
    /// Elements between consecutive images.
    public var imageStride: Int

    @inlinable
    public init(base: UnsafeMutablePointer<Float>, c: Int, h: Int, w: Int, blocked: Bool, imageStride: Int) {
        self.base = base
        self.c = c
        self.h = h
        self.w = w
        self.blocked = blocked
        self.imageStride = imageStride
    }
}

/// Parameters of a convolution (shared by the optimised and reference kernels).
public struct ConvGeometry {
    public var inC: Int, inH: Int, inW: Int
    public var outC: Int, outH: Int, outW: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int
    public var activation: Activation

    @inlinable
    public init(
        inC: Int, inH: Int, inW: Int, outC: Int, outH: Int, outW: Int, kernelH: Int, kernelW: Int,
        strideH: Int, strideW: Int, padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int,
        groups: Int, activation: Activation
    ) {
        self.inC = inC
        self.inH = inH
        self.inW = inW
        self.outC = outC
        self.outH = outH
        self.outW = outW
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.padTop = padTop
        self.padLeft = padLeft
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.groups = groups
        self.activation = activation
    }

    @inlinable public var inPerGroup: Int { inC / groups }
    @inlinable public var outPerGroup: Int { outC / groups }
    @inlinable public var outBlocks: Int { ceilDiv(outC, 16) }

    /// Input channels [begin, begin + count) read by output block `b` (block-diagonal packing).
    @inlinable @inline(__always) public func blockInputRange(_ b: Int) -> (begin: Int, count: Int) {
        let first = b * 16
        let last = min(first + 15, outC - 1)
        let g0 = first / outPerGroup
        let g1 = last / outPerGroup
        return (g0 * inPerGroup, (g1 - g0 + 1) * inPerGroup)
    }

    /// Multiply-accumulates per image (taps on padding included, the conventional count).
    @inlinable public var macs: Int { outC * outH * outW * inPerGroup * kernelH * kernelW }
}

/// A convolution the AVX-512 direct kernel computes in row tiles: 7 or 8 adjacent output
/// pixels (a whole row 7 or 8 wide, half of 14 or 16, a quarter of 28) × 1–3 output blocks,
/// with the taps on padding left out at compile time. It needs the blocked input layout, so
/// the loader converts a plain model input with 16 or more channels for these layers.
public struct RowTileKind: Equatable, Sendable {
    /// Output width, kernel width, horizontal stride.
    public var width: Int, kernel: Int, stride: Int

    @inlinable public init(width: Int, kernel: Int, stride: Int) {
        self.width = width
        self.kernel = kernel
        self.stride = stride
    }

    /// Pixels per tile: 7 for rows 7, 14 or 28 wide, 8 for 8 or 16.
    @inlinable public var tile: Int { width % 7 == 0 ? 7 : 8 }
    /// Most output blocks per tile (accumulators: blocks × tile ≤ 21).
    @inlinable public var blocks: Int { tile == 7 ? 3 : 2 }
}

extension ConvGeometry {
    /// The row-tile kind of this convolution, if it has one: dilation 1 horizontally, left
    /// padding kernel/2, input width = output width · stride, and (output width, kernel width,
    /// stride) one of (7, 3, 1|2), (8, 3, 1), (8, 5, 1), (14, 3, 1|2), (16, 3, 1|2), (16, 5, 1),
    /// (28, 3, 1|2): ResNet-18's stages after the first, ResNet-56's 16×16 and 8×8 layers, the
    /// Fashion-MNIST net, Cifar-quick's second and third layers. Any kernel height, vertical
    /// stride, dilation and padding.
    @inlinable public var rowTileKind: RowTileKind? {
        guard dilationW == 1, padLeft == kernelW / 2, inW == outW * strideW else { return nil }
        switch (outW, kernelW, strideW) {
        case (7, 3, 1), (7, 3, 2), (8, 3, 1), (8, 5, 1), (14, 3, 1), (14, 3, 2), (16, 3, 1), (16, 3, 2), (16, 5, 1),
            (28, 3, 1), (28, 3, 2):
            return RowTileKind(width: outW, kernel: kernelW, stride: strideW)
        default:
            return nil
        }
    }
}

/// Parameters of max/avg pooling (PyTorch semantics, including ceil mode).
public struct PoolGeometry {
    public var c: Int, inH: Int, inW: Int, outH: Int, outW: Int
    public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var countIncludePad: Bool

    @inlinable
    public init(
        c: Int, inH: Int, inW: Int, outH: Int, outW: Int, kernelH: Int, kernelW: Int,
        strideH: Int, strideW: Int, padTop: Int, padLeft: Int, padBottom: Int, padRight: Int,
        countIncludePad: Bool
    ) {
        self.c = c
        self.inH = inH
        self.inW = inW
        self.outH = outH
        self.outW = outW
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.countIncludePad = countIncludePad
    }
}

/// The instruction sets the runtime has kernels for. Every kernel exists once per ISA, compiled
/// from the same sources (Sources/ACKernels) with different code-generation flags; the runtime
/// picks one set when a model is loaded (`KernelISA.best`) and a session may ask for a lower one.
public enum KernelISA: Int32, Sendable, CaseIterable {
    /// Portable code: SSE2 on x86_64 with separate multiply and add (no FMA), NEON on aarch64.
    case baseline = 1
    /// x86_64 with AVX2 and FMA3 (Haswell and later; 256-bit registers).
    case avx2 = 2
    /// x86_64 with AVX-512 F/CD/BW/DQ/VL (Skylake-SP and later; 512-bit registers).
    case avx512 = 3

    public var name: String {
        switch self {
        case .baseline: "baseline"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}

/// One ISA's kernels, as plain function values (no existential or generic dispatch, so the
/// table works in Embedded Swift too). Arguments follow the kernels' own documentation in
/// Sources/ACKernels; every activation is a `TensorView` of the session's arena.
///
/// Thread safety: every kernel only reads its inputs and writes its output view; the kernels
/// that take a `WorkPart` may be called concurrently for different parts of one op (they write
/// disjoint elements, whole 64-byte blocks each); the others run on one thread per op.
public struct KernelTable {
    public typealias Weights = UnsafePointer<Float>

    public var isa: KernelISA
    /// Direct convolution, oc16 packing: (geometry, batch, x, y, residual, weights, bias,
    /// per-block weight offsets, the part of the output to compute).
    public var conv: (ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights, [Int], WorkPart) -> Void
    /// Winograd F(4×4, 3×3) or F(2×2, 5×5) convolution, winograd43/25 packing: (geometry, batch,
    /// x, y, residual, weights, bias, scratch of `Winograd.scratchElements` floats (one per
    /// thread running it concurrently), chunk tiles, part).
    public var winograd:
        (
            ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights,
            UnsafeMutablePointer<Float>, Int, WorkPart
        ) -> Void
    /// Depthwise convolution: (geometry, batch, x, y, residual, weights, bias, part).
    public var depthwise: (ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights, WorkPart) -> Void
    /// Max (true) or average pooling: (geometry, isMax, batch, x, y, part).
    public var pool: (PoolGeometry, Bool, Int, TensorView, TensorView, WorkPart) -> Void
    /// Global average pooling: (batch, x, y).
    public var globalAvgPool: (Int, TensorView, TensorView) -> Void
    /// Fully connected: (in features, out features, activation, batch, x, y, weights, bias).
    public var linear: (Int, Int, Activation, Int, TensorView, TensorView, Weights, Weights) -> Void
    /// y = act(a + b) over `count` floats: (a, b, y, count, activation).
    public var add: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Activation) -> Void
    /// y = act(x) over `count` floats: (x, y, count, activation).
    public var activation: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Activation) -> Void
    /// Per-channel y = act(x·scale + shift): (batch, x, y, scale, shift, activation).
    public var scaleShift: (Int, TensorView, TensorView, Weights, Weights, Activation) -> Void
    /// Channel concatenation: (batch, inputs, y).
    public var concat: (Int, UnsafeBufferPointer<TensorView>, TensorView) -> Void
    /// Blocked or plain view → plain buffer of any float alignment: (batch, x, y, y image
    /// stride, part).
    public var toPlain: (Int, TensorView, UnsafeMutablePointer<Float>, Int, WorkPart) -> Void
    /// Plain (any float alignment) → blocked: (batch, x, y, part).
    public var toBlocked: (Int, TensorView, TensorView, WorkPart) -> Void
    /// Softmax over features: (batch, x, y).
    public var softmax: (Int, TensorView, TensorView) -> Void

    @inlinable
    public init(
        isa: KernelISA,
        conv:
            @escaping (ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights, [Int], WorkPart) ->
            Void,
        winograd:
            @escaping (
                ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights,
                UnsafeMutablePointer<Float>, Int, WorkPart
            ) -> Void,
        depthwise:
            @escaping (ConvGeometry, Int, TensorView, TensorView, TensorView?, Weights, Weights, WorkPart) -> Void,
        pool: @escaping (PoolGeometry, Bool, Int, TensorView, TensorView, WorkPart) -> Void,
        globalAvgPool: @escaping (Int, TensorView, TensorView) -> Void,
        linear: @escaping (Int, Int, Activation, Int, TensorView, TensorView, Weights, Weights) -> Void,
        add:
            @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Activation) -> Void,
        activation: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Activation) -> Void,
        scaleShift: @escaping (Int, TensorView, TensorView, Weights, Weights, Activation) -> Void,
        concat: @escaping (Int, UnsafeBufferPointer<TensorView>, TensorView) -> Void,
        toPlain: @escaping (Int, TensorView, UnsafeMutablePointer<Float>, Int, WorkPart) -> Void,
        toBlocked: @escaping (Int, TensorView, TensorView, WorkPart) -> Void,
        softmax: @escaping (Int, TensorView, TensorView) -> Void
    ) {
        self.isa = isa
        self.conv = conv
        self.winograd = winograd
        self.depthwise = depthwise
        self.pool = pool
        self.globalAvgPool = globalAvgPool
        self.linear = linear
        self.add = add
        self.activation = activation
        self.scaleShift = scaleShift
        self.concat = concat
        self.toPlain = toPlain
        self.toBlocked = toBlocked
        self.softmax = softmax
    }
}
