// The networks of docs/DESIGN.md §7, each with `acb` on or off.
//
// With `acb` on, every KxK convolution with 1 < K < 7 is an ACBlock followed by the ReLU the
// plain model has; 1x1 and K ≥ 7 stay conv+BN (as in the ACNet reference).

/// Model builders. All take `acb`, the ACB `variant` (ablations; ignored without `acb`) and a
/// `seed` (initialisation is deterministic per seed).
public enum Models {
    /// conv-BN-ReLU or ACB-ReLU — `cbr` of
    /// the PyTorch training-throughput peer script (`torch_train_throughput.py`), with that script's parameter names
    /// (`0.0.weight`, `0.1.running_mean` / `0.0.square_conv.weight`). The plain form is a
    /// `ConvBNReLU` (one fused layer named like `Sequential(Conv2d, BatchNorm2d, ReLU)`), the
    /// ACB form an `ACBReLU` (named like `Sequential(ACBlock, ReLU)`).
    public static func cbr(
        _ cin: Int, _ cout: Int, kernelSize k: Int, padding p: Int, stride: Int = 1, acb: Bool,
        variant: ACBVariant = .full, gammaInit: Float = 1, firstLayer: Bool = false, seed: UInt64
    ) throws -> any Module {
        if acb && k > 1 && k < 7 {
            let b = try variant.makeBlock(
                inputChannels: cin, outputChannels: cout, kernelSize: k, stride: stride,
                padding: p, gammaInit: gammaInit, seed: seed)
            b.needsInputGradient = !firstLayer
            return ACBReLU(b)
        }
        let c = Conv2d(cin, cout, kernelSize: k, stride: stride, padding: p, bias: false, seed: seed)
        c.needsInputGradient = !firstLayer
        return ConvBNReLU(conv: c, bn: BatchNorm2d(cout, gammaInit: gammaInit))
    }

    /// Fashion-MNIST net (`fashion_net` of torch_train_throughput.py, `fmnist` of gen_models.py):
    /// 1×28×28 → cbr(1→32) cbr(32→32) maxpool2 cbr(32→64) cbr(64→64) maxpool2 cbr(64→128)
    /// GAP, Linear 128→10. All convs 3x3 padding 1.
    public static func fashionNet(
        acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        Sequential([
            try cbr(
                1, 32, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, firstLayer: true,
                seed: seed),
            try cbr(
                32, 32, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 10),
            MaxPool2d(kernelSize: 2),
            try cbr(
                32, 64, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 20),
            try cbr(
                64, 64, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 30),
            MaxPool2d(kernelSize: 2),
            try cbr(
                64, 128, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 40),
            GlobalAvgPool(), Flatten(), Linear(128, 10, seed: seed &+ 50),
        ])
    }

    /// LeNet-5 with BatchNorm (ACNet reference `lenet5bn`): 1×28×28 → cbr 5x5 (1→20, padding 0)
    /// maxpool2 → cbr 5x5 (20→50, padding 0) maxpool2 → 800 → Linear 500, ReLU → Linear 10.
    /// 5x5 with padding 0 exercises the ACB crop path (crop 2).
    public static func lenet5BN(
        acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        Sequential([
            try cbr(
                1, 20, kernelSize: 5, padding: 0, acb: acb, variant: variant, gammaInit: gammaInit, firstLayer: true,
                seed: seed),
            MaxPool2d(kernelSize: 2),
            try cbr(
                20, 50, kernelSize: 5, padding: 0, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 10),
            MaxPool2d(kernelSize: 2),
            Flatten(), Linear(800, 500, seed: seed &+ 20), ReLU(), Linear(500, 10, seed: seed &+ 30),
        ])
    }

    /// Cifar-quick (`cifar_quick` of torch_train_throughput.py): 3×32×32 → cbr 5x5 (3→32, p2)
    /// maxpool3/2 → cbr(32→32) avgpool3/2 → cbr(32→64) avgpool3/2 (floor mode: 32→15→7→3)
    /// → Linear 576→64, ReLU → Linear 64→10.
    public static func cifarQuick(
        acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        Sequential([
            try cbr(
                3, 32, kernelSize: 5, padding: 2, acb: acb, variant: variant, gammaInit: gammaInit, firstLayer: true,
                seed: seed),
            MaxPool2d(kernelSize: 3, stride: 2),
            try cbr(
                32, 32, kernelSize: 5, padding: 2, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 10),
            AvgPool2d(kernelSize: 3, stride: 2),
            try cbr(
                32, 64, kernelSize: 5, padding: 2, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed &+ 20),
            AvgPool2d(kernelSize: 3, stride: 2),
            Flatten(), Linear(576, 64, seed: seed &+ 30), ReLU(), Linear(64, 10, seed: seed &+ 40),
        ])
    }

    /// VGG-16 for CIFAR (3×32×32): 13 3x3 cbr layers
    /// [64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M], then
    /// Linear 512→512, ReLU, Linear 512→10. Names: `features.N…`, `classifier.N…`.
    public static func vgg16(
        acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        let cfg = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
        var layers: [any Module] = []
        var cin = 3
        for (i, v) in cfg.enumerated() {
            if v == 0 {
                layers.append(MaxPool2d(kernelSize: 2))
            } else {
                layers.append(
                    try cbr(
                        cin, v, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit,
                        firstLayer: cin == 3, seed: seed &+ UInt64(10 * i)))
                cin = v
            }
        }
        return Sequential(named: [
            ("features", Sequential(layers)),
            (
                "classifier",
                Sequential([
                    Flatten(), Linear(512, 512, seed: seed &+ 500), ReLU(),
                    Linear(512, 10, seed: seed &+ 510),
                ])
            ),
        ])
    }

    /// CIFAR ResNet-`depth` (He et al. 2016, §4.2; depth = 6n+2: 20, 56, 110): 3x3 stem 3→16,
    /// three stages of n BasicBlocks (16, 32, 64 channels; stride 2 at stages 2 and 3, 1x1
    /// conv+BN projection shortcuts), GAP, Linear 64→10.
    /// Names: `stem.…`, `stage1.0.conv1.square_conv.weight`, `stage2.0.shortcut.conv.weight`,
    /// `fc.weight`.
    public static func resnetCifar(
        depth: Int, acb: Bool, variant: ACBVariant = .full, gammaInit: Float = 1, seed: UInt64 = 1
    ) throws -> Sequential {
        precondition((depth - 2) % 6 == 0 && depth >= 8, "ResNet depth must be 6n+2, got \(depth)")
        let n = (depth - 2) / 6
        let stem = try convBNOrACB(
            3, 16, kernelSize: 3, padding: 1, acb: acb, variant: variant, gammaInit: gammaInit, seed: seed)
        if let s = stem as? ACBlock { s.needsInputGradient = false }
        if let s = stem as? ConvBN { s.conv.needsInputGradient = false }
        var named: [(String, any Module)] = [("stem", stem), ("stem_relu", ReLU())]
        var cin = 16
        for (si, width) in [16, 32, 64].enumerated() {
            var blocks: [any Module] = []
            for b in 0..<n {
                let stride = (si > 0 && b == 0) ? 2 : 1
                blocks.append(
                    try BasicBlock(
                        cin, width, stride: stride, acb: acb, variant: variant, gammaInit: gammaInit,
                        seed: seed &+ UInt64(1000 * (si + 1) + 50 * b)))
                cin = width
            }
            named.append(("stage\(si + 1)", Sequential(blocks)))
        }
        named += [("gap", GlobalAvgPool()), ("flatten", Flatten()), ("fc", Linear(64, 10, seed: seed &+ 9))]
        return Sequential(named: named)
    }
}
