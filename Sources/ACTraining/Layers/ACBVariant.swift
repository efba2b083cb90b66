/// Which Asymmetric Convolution Block a model builder makes: the paper's block or one of the
/// ablations of the ACNet paper's ablation study (horizontal kernels, vertical kernels, BN in
/// branches). All are fused exactly into one KxK conv (`Fusion.fuse`).
///
/// | variant | branches | BatchNorm | checkpoint names of one block |
/// |---|---|---|---|
/// | `full` | square, ver, hor | one per branch | `square_conv`, `square_bn`, `ver_conv`, `ver_bn`, `hor_conv`, `hor_bn` |
/// | `hor` | square, hor (1xK) | one per branch | `square_conv`, `square_bn`, `hor_conv`, `hor_bn` |
/// | `ver` | square, ver (Kx1) | one per branch | `square_conv`, `square_bn`, `ver_conv`, `ver_bn` |
/// | `sharedBN` | square, ver, hor | one after the sum | `square_conv`, `ver_conv`, `hor_conv`, `bn` |
public enum ACBVariant: String, Codable, CaseIterable, Sendable {
    case full
    case hor
    case ver
    case sharedBN = "sharedbn"

    /// Builds an `ACBlock` of this variant (the other arguments as in `ACBlock.init`).
    public func makeBlock(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        gammaInit: Float = 1, seed: UInt64
    ) throws -> ACBlock {
        try ACBlock(
            inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
            stride: stride, padding: padding, gammaInit: gammaInit,
            useVer: self != .hor, useHor: self != .ver,
            normalization: self == .sharedBN ? .afterSum : .perBranch, seed: seed)
    }
}
