/// A bias-free convolution followed by BatchNorm2d (the reference's `conv_bn`): children
/// `conv` and `bn`, so names read `…conv.weight`, `…bn.running_mean`. Folded into one conv
/// with bias at export.
public final class ConvBN: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1, groups: Int = 1,
        paddingMode: PaddingMode = .zeros, gammaInit: Float = 1, seed: UInt64 = 0
    ) {
        conv = Conv2d(
            inputChannels, outputChannels, kernelSize: kernelSize, stride: stride,
            padding: padding, dilation: dilation, groups: groups, bias: false,
            paddingMode: paddingMode, seed: seed)
        bn = BatchNorm2d(outputChannels, gammaInit: gammaInit)
    }

    public var children: [(String, any Module)] { [("conv", conv), ("bn", bn)] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        bn.forward(conv.forward(x, training: training), training: training)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        conv.backward(bn.backward(gradOutput))
    }
}

/// Builds a KxK conv+BN, or an ACBlock of `variant` when `acb` is on and 1 < K < 7 (docs/DESIGN.md §3:
/// 1x1 and K ≥ 7 stay ordinary conv+BN).
public func convBNOrACB(
    _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64
) throws -> any Module {
    if acb && kernelSize > 1 && kernelSize < 7 {
        return try variant.makeBlock(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: kernelSize, stride: stride, padding: padding,
            gammaInit: gammaInit, seed: seed)
    }
    return ConvBN(
        inputChannels, outputChannels, kernelSize: kernelSize, stride: stride,
        padding: padding, gammaInit: gammaInit, seed: seed)
}

/// The CIFAR ResNet basic block (He et al. 2016; ACNet reference `ResNetBasicBlock`):
/// relu(conv2(relu(conv1(x))) + shortcut(x)); conv1/conv2 are 3x3 conv+BN or ACBs, the
/// shortcut a 1x1 conv+BN projection when stride ≠ 1 or channels change, else the identity.
/// Children: `conv1`, `conv2`, `shortcut` (only when projecting).
public final class BasicBlock: Module {
    public let conv1: any Module
    public let conv2: any Module
    /// nil: identity shortcut.
    public let shortcut: ConvBN?
    private let relu1 = ReLU()
    private let relu2 = ReLU()

    public init(
        _ inputChannels: Int, _ outputChannels: Int, stride: Int, acb: Bool,
        variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64
    ) throws {
        conv1 = try convBNOrACB(
            inputChannels, outputChannels, kernelSize: 3, stride: stride, padding: 1,
            acb: acb, variant: variant, gammaInit: gammaInit, seed: seed)
        conv2 = try convBNOrACB(
            outputChannels, outputChannels, kernelSize: 3, stride: 1, padding: 1,
            acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 11)
        shortcut =
            stride != 1 || inputChannels != outputChannels
            ? ConvBN(inputChannels, outputChannels, kernelSize: 1, stride: stride, seed: seed &+ 23) : nil
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("conv1", conv1), ("conv2", conv2)]
        if let shortcut { c.append(("shortcut", shortcut)) }
        return c
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = conv2.forward(
            relu1.forward(conv1.forward(x, training: training), training: training),
            training: training)
        y.add(shortcut?.forward(x, training: training) ?? x)
        return relu2.forward(y, training: training)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let g = relu2.backward(gradOutput)
        var dx = conv1.backward(relu1.backward(conv2.backward(g)))
        dx.add(shortcut?.backward(g) ?? g)
        return dx
    }
}
