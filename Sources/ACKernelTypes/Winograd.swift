/// Geometry of the Winograd convolutions shared by the writer (which stores the transformed
/// weights), the loader (which validates them and sizes the scratch) and the kernels.
///
/// Algorithm: Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016):
/// F(m×m, r×r) computes an m×m output tile as Y = Aᵀ·[Σ_c (G·g_c·Gᵀ) ⊙ (Bᵀ·d_c·B)]·A, where
/// d_c is the 6×6 input tile of channel c (zero outside the image) and g_c the r×r kernel.
/// Two variants share the 6×6 tile, the interpolation points 0, 1, −1, 2, −2, ∞ and therefore
/// Bᵀ, the 36 GEMMs and the kernels' input transform:
///
/// - F(4×4, 3×3): 36 multiplies per 16 outputs and input channel instead of 144 (4×);
/// - F(2×2, 5×5): 36 per 4 outputs instead of 100 (2.8×).
///
/// Matrices (rows listed; G's row for point p is s_p·(1, p, p², …, p^(r−1)) with
/// s = 1/4, −1/6, −1/6, 1/24, 1/24 and (0, …, 0, 1) for ∞; Aᵀ's row i is p^i, with the ∞
/// column 1 in the last row only):
///
///     Bᵀ      = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
///     G (r=3) = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
///     Aᵀ(m=4) = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
///     Aᵀ(m=2) = [1 1 1 1 1 0; 0 1 −1 2 −2 1]
///
/// Weight layout (packing `winograd43` for r = 3, `winograd25` for r = 5): for each block b of
/// 16 output channels, [36 positions (row-major 6×6)][C input channels][16 lanes], lanes
/// beyond O zero; groups 1 only.
public enum Winograd {
    /// Input tile edge (m + r − 1), the same for both variants.
    public static let inputTile = 6
    /// Elements of a transformed tile (6 × 6).
    public static let positions = 36

    /// Output tile edge m of the variant for kernel size r (3 → 4, 5 → 2).
    @inlinable public static func outputTile(kernel r: Int) -> Int { inputTile + 1 - r }

    /// Whether a convolution has a shape one of the variants computes: a square 3×3 or 5×5
    /// kernel, stride 1, dilation 1, groups 1. (Padding is free: taps outside the input read
    /// as zero.)
    @inlinable public static func isApplicable(_ g: ConvGeometry) -> Bool {
        (g.kernelH == 3 || g.kernelH == 5) && g.kernelW == g.kernelH && g.strideH == 1 && g.strideW == 1
            && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1
    }

    /// Output tiles per image: ⌈OH/m⌉·⌈OW/m⌉ (edge tiles are partly outside and clipped).
    @inlinable public static func tiles(_ g: ConvGeometry) -> Int {
        let m = outputTile(kernel: g.kernelH)
        return ceilDiv(g.outH, m) * ceilDiv(g.outW, m)
    }

    /// Elements of the packed weight tensor: ⌈O/16⌉ · 36 · C · 16.
    @inlinable public static func weightElements(inC: Int, outC: Int) -> Int {
        ceilDiv(outC, 16) * positions * inC * 16
    }

    /// Bytes of transformed input and output tiles one chunk may hold: the chunk's working set
    /// stays in a 2 MB L2 beside the weights of one position, and a 256-channel 14×14 layer
    /// (16 tiles, 1.18 MB) is one chunk, so its 9.4 MB of weights stream through once, not twice.
    public static let chunkBudgetBytes = 1_310_720

    /// Tiles processed per chunk: as many as fit `chunkBudgetBytes` (at least 6, the GEMM
    /// register tile), at most the tiles of one image.
    @inlinable public static func chunkTiles(_ g: ConvGeometry) -> Int {
        let perTile = positions * (ceilDiv(g.inC, 16) + g.outBlocks) * 16 * 4
        let fit = chunkBudgetBytes / perTile < 6 ? 6 : chunkBudgetBytes / perTile
        let n = tiles(g)
        return n < fit ? n : fit
    }

    /// Scratch floats of one convolution: transformed inputs V [36][T][⌈C/16⌉·16], GEMM results
    /// M [36][T][⌈O/16⌉·16] and a 36 × 16 transform buffer, T = `chunkTiles(g)`.
    @inlinable public static func scratchElements(_ g: ConvGeometry) -> Int {
        let t = chunkTiles(g)
        return positions * t * (ceilDiv(g.inC, 16) + g.outBlocks) * 16 + positions * 16
    }
}
