// Convolution geometry shared by Conv2d, ACBlock and the fused-graph evaluator.

/// How a convolution reads outside its input (PyTorch's `padding_mode`).
///
/// `reflect` mirrors without repeating the edge (x[-1] = x[1]), `replicate` repeats the edge,
/// `circular` wraps around. Only `zeros` can be exported to the runtime (docs/DESIGN.md §3).
public enum PaddingMode: String, Sendable, CaseIterable {
    case zeros, reflect, replicate, circular
}

/// Padding per side, in input pixels.
public struct Padding2D: Equatable, Hashable, Sendable {
    public var top: Int
    public var left: Int
    public var bottom: Int
    public var right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        precondition(
            top >= 0 && left >= 0 && bottom >= 0 && right >= 0,
            "Padding2D: negative padding (\(top), \(left), \(bottom), \(right))")
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// `height` rows above and below, `width` columns left and right (PyTorch's `(ph, pw)`).
    public init(height: Int, width: Int) {
        self.init(top: height, left: width, bottom: height, right: width)
    }

    /// The same padding on all four sides.
    public static func symmetric(_ p: Int) -> Padding2D { Padding2D(height: p, width: p) }

    /// No padding.
    public static let zero = Padding2D(height: 0, width: 0)
}

/// The full geometry of one 2-D convolution over a batch (internal).
///
/// im2col layout used throughout ACTraining: for group g, row r = (kh · Cg + cg) · KW + kw
/// (kernel row outermost, then input channel, then kernel column), column
/// p = n · OH · OW + oh · OW + ow. Ordering kernel rows outermost makes the rows of a Kx1
/// (column kw = K/2) and a 1xK (row kh = K/2) kernel single strided / contiguous submatrices,
/// so ACBlock's three branches share one im2col (ACNet reference §3.2 equivalence).
struct ConvGeometry: Equatable {
    var batch: Int
    var channels: Int
    var height: Int
    var width: Int
    var kernelH: Int
    var kernelW: Int
    var strideH: Int
    var strideW: Int
    var dilationH: Int
    var dilationW: Int
    var padding: Padding2D
    var groups: Int
    var mode: PaddingMode

    var channelsPerGroup: Int { channels / groups }
    var outH: Int { (height + padding.top + padding.bottom - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    var outW: Int { (width + padding.left + padding.right - dilationW * (kernelW - 1) - 1) / strideW + 1 }
    /// Rows of one group's im2col matrix: KH · Cg · KW.
    var rowsPerGroup: Int { kernelH * channelsPerGroup * kernelW }
    /// Columns of the im2col matrix: N · OH · OW.
    var columns: Int { batch * outH * outW }
    var colCount: Int { groups * rowsPerGroup * columns }

    func validate() {
        precondition(channels % groups == 0, "conv: \(channels) input channels not divisible by groups \(groups)")
        precondition(
            strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0,
            "conv: stride and dilation must be positive")
        precondition(
            outH > 0 && outW > 0,
            "conv: empty output for input \(height)x\(width), kernel \(kernelH)x\(kernelW), padding \(padding)")
        if mode == .reflect {
            precondition(
                max(padding.top, padding.bottom) < height && max(padding.left, padding.right) < width,
                "conv: reflect padding must be smaller than the input (\(height)x\(width))")
        }
    }
}

/// Maps a padded coordinate to an input coordinate, or −1 for a zero.
@inline(__always)
func sourceIndex(_ i: Int, _ n: Int, _ mode: PaddingMode) -> Int {
    if i >= 0 && i < n { return i }
    switch mode {
    case .zeros: return -1
    case .reflect:
        if n == 1 { return 0 }
        var j = i
        let period = 2 * (n - 1)
        j = ((j % period) + period) % period
        return j < n ? j : period - j
    case .replicate: return i < 0 ? 0 : n - 1
    case .circular: return ((i % n) + n) % n
    }
}
