/// Test-time geometric transforms for the rotation-robustness table of the ACNet paper (Ding et al., ICCV 2019:
/// horizontal kernels make a model more robust to up-down flips and 180° rotations).
///
/// Images are H × W × C with channels innermost (interleaved pixels as decoded; C = 1 for gray),
/// row 0 at the top. Rotations are counter-clockwise, as `numpy.rot90` and
/// `torch.rot90(x, k, dims=(H, W))`: rot90 maps out[i][j] = in[j][W−1−i] and gives a W × H image.
public enum ImageTransform: String, CaseIterable, Sendable {
    /// 90° counter-clockwise.
    case rot90
    case rot180
    /// 270° counter-clockwise (90° clockwise).
    case rot270
    /// Up-down flip: out[i][j] = in[H−1−i][j].
    case flipud
    /// Left-right flip: out[i][j] = in[i][W−1−j].
    case fliplr

    /// Applies the transform; returns the pixels and the new width and height.
    public func apply<T>(
        _ pixels: [T], width: Int, height: Int, channels: Int
    ) -> (pixels: [T], width: Int, height: Int) {
        precondition(
            pixels.count == width * height * channels,
            "ImageTransform: \(pixels.count) values for \(height)x\(width)x\(channels)")
        let (ow, oh) = (self == .rot90 || self == .rot270) ? (height, width) : (width, height)
        var out = pixels
        for i in 0..<oh {
            for j in 0..<ow {
                // Source pixel (si, sj) of output pixel (i, j).
                let (si, sj): (Int, Int)
                switch self {
                case .rot90: (si, sj) = (j, width - 1 - i)
                case .rot180: (si, sj) = (height - 1 - i, width - 1 - j)
                case .rot270: (si, sj) = (height - 1 - j, i)
                case .flipud: (si, sj) = (height - 1 - i, j)
                case .fliplr: (si, sj) = (i, width - 1 - j)
                }
                for c in 0..<channels { out[(i * ow + j) * channels + c] = pixels[(si * width + sj) * channels + c] }
            }
        }
        return (out, ow, oh)
    }
}
