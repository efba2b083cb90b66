// A Fashion-MNIST classifier sized for a microcontroller (the Cortex-M firmware of
// embedded/cortex-m): its fused float32 weights and its arena fit a Cortex-M4/M7 board's flash
// and SRAM with room to spare.

extension Models {
    /// Fashion-MNIST micro net: 1×28×28 → cbr(1→16) maxpool2 → cbr(16→32) cbr(32→32) maxpool2
    /// → cbr(32→64) GAP, Linear 64→10. All convs 3x3 padding 1; channel counts are multiples of
    /// 16 so the runtime's 16-channel blocks carry no padding.
    ///
    /// 33,194 parameters after fusion (≈130 KB of float32 weights); 3.7 M MACs per image; the largest
    /// activation is 16×28×28 floats (50 KB).
    public static func fashionMicro(
        acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        Sequential([
            try cbr(
                1, 16, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, firstLayer: true,
                seed: seed),
            MaxPool2d(kernelSize: 2),
            try cbr(
                16, 32, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 10),
            try cbr(
                32, 32, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 20),
            MaxPool2d(kernelSize: 2),
            try cbr(
                32, 64, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 30),
            GlobalAvgPool(), Flatten(), Linear(64, 10, seed: seed &+ 40),
        ])
    }
}
