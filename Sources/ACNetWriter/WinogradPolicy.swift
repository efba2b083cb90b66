import ACRuntime

/// Which convolutions a writer gives Winograd weights (`ModelBuilder.winograd`, `acnet export
/// --winograd`).
public enum WinogradPolicy: String, Sendable, CaseIterable {
    /// None: direct convolution only (format version 1 files).
    case off
    /// Where `Winograd.isProfitable` predicts a speed-up.
    case auto
    /// Every convolution a variant can compute (for tests and measurements).
    case all

    /// Whether a convolution of geometry `g` gets Winograd weights under this policy.
    public func selects(_ g: ConvGeometry) -> Bool {
        switch self {
        case .off: false
        case .auto: Winograd.isApplicable(g) && Winograd.isProfitable(g)
        case .all: Winograd.isApplicable(g)
        }
    }
}

extension Winograd {
    /// The `auto` rule (both variants): at least 16 input and output channels (below that the
    /// transforms cost more than the fewer multiplies save), and either ≥ 16 tiles per image or
    /// transformed weights of at most 1 MB. Each transformed weight is used once per tile, so
    /// with few tiles and weights that do not stay in L2 the layer streams 4× the direct
    /// weights for little arithmetic (ResNet-18's 512-channel 7×7 layers: 4 tiles, 37.7 MB of
    /// weights). Measurements: docs/WINOGRAD.md.
    public static func isProfitable(_ g: ConvGeometry) -> Bool {
        g.inC >= 16 && g.outC >= 16 && (tiles(g) >= 16 || weightElements(inC: g.inC, outC: g.outC) * 4 <= 1 << 20)
    }
}
