/// A training recipe: the defaults a model is trained with (the pipeline may override any).
public struct Recipe: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    /// Base learning rate (per-iteration cosine decay from it, after `warmupEpochs`).
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// true: weight decay on every parameter (the reference); false: not on BN γ/β and biases.
    public var weightDecayOnAll: Bool
    /// Learning-rate multiplier for biases (and BN β): 2 in the reference recipe.
    public var biasLRMultiplier: Float
    public var warmupEpochs: Int
    public var labelSmoothing: Float
    /// Initial γ of the three ACB BatchNorms (CIFAR recipes: 1/3) and of plain BNs (1).
    public var acbGammaInit: Float
    /// Pad-and-random-crop margin (0 = off) and horizontal flips.
    public var cropPadding: Int
    public var horizontalFlip: Bool

    public init(
        epochs: Int, batchSize: Int = 128, learningRate: Float, momentum: Float = 0.9,
        weightDecay: Float = 1e-4, weightDecayOnAll: Bool = true, biasLRMultiplier: Float = 2,
        warmupEpochs: Int = 0, labelSmoothing: Float = 0, acbGammaInit: Float = 1,
        cropPadding: Int = 0, horizontalFlip: Bool = false
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.weightDecayOnAll = weightDecayOnAll
        self.biasLRMultiplier = biasLRMultiplier
        self.warmupEpochs = warmupEpochs
        self.labelSmoothing = labelSmoothing
        self.acbGammaInit = acbGammaInit
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }
}

/// A named model of docs/DESIGN.md §7: how to build it, its input, its data defaults and recipe.
public struct ModelSpec: Sendable {
    public let name: String
    /// Per-image input `[C, H, W]`.
    public let inputShape: [Int]
    public let classCount: Int
    /// Per-channel normalisation `x = (pixel/255 − mean)/std` (docs/DESIGN.md §4).
    public let mean: [Float]
    public let std: [Float]
    /// Default class labels (the dataset the recipe is for).
    public let labels: [String]
    public let recipe: Recipe
    let builder: @Sendable (_ acb: Bool, _ variant: ACBVariant, _ gammaInit: Float, _ seed: UInt64) throws -> Sequential

    /// Builds the network with ACBs of `variant` (when `acb`). `gammaInit` defaults to the
    /// recipe's `acbGammaInit` for the branch BatchNorms of ACB models (CIFAR: 1/3, so the
    /// branch sum starts at about the scale of one BN with γ = 1), except for `.sharedBN`,
    /// whose single BN after the sum starts at 1 like a plain conv's BN (plain BNs start at 1).
    public func make(
        acb: Bool, seed: UInt64 = 1, gammaInit: Float? = nil,
        variant: ACBVariant = .full
    ) throws -> Sequential {
        let defaultGamma: Float = acb && variant != .sharedBN ? recipe.acbGammaInit : 1
        return try builder(acb, variant, gammaInit ?? defaultGamma, seed)
    }
}

/// Errors of the registry.
public enum ModelRegistryError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String)
    public var description: String {
        switch self {
        case .unknownModel(let n):
            return "unknown model '\(n)'; known: \(ModelRegistry.names.joined(separator: ", "))"
        }
    }
}

/// The models by name: "fashion_net", "fashion_micro", "lenet5_bn", "cifar_quick", "vgg16", "resnet20",
/// "resnet56", "resnet110".
public enum ModelRegistry {
    public static let fashionMNISTLabels = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    public static let cifar10Labels = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    static let fmMean: [Float] = [0.2860], fmStd: [Float] = [0.3530]
    static let cifarMean: [Float] = [0.4914, 0.4822, 0.4465], cifarStd: [Float] = [0.2470, 0.2435, 0.2616]

    static func cifarResNet(_ depth: Int) -> ModelSpec {
        ModelSpec(
            name: "resnet\(depth)", inputShape: [3, 32, 32], classCount: 10, mean: cifarMean, std: cifarStd,
            labels: cifar10Labels,
            recipe: Recipe(
                epochs: 200, batchSize: 64, learningRate: 0.1, weightDecay: 1e-4,
                warmupEpochs: 5, acbGammaInit: 1.0 / 3, cropPadding: 4, horizontalFlip: true),
            builder: { try Models.resnetCifar(depth: depth, acb: $0, variant: $1, gammaInit: $2, seed: $3) })
    }

    public static let all: [ModelSpec] = [
        ModelSpec(
            name: "fashion_net", inputShape: [1, 28, 28], classCount: 10, mean: fmMean, std: fmStd,
            labels: fashionMNISTLabels,
            recipe: Recipe(
                epochs: 30, batchSize: 128, learningRate: 0.1, weightDecay: 1e-4,
                warmupEpochs: 1, cropPadding: 2, horizontalFlip: true),
            builder: { try Models.fashionNet(acb: $0, variant: $1, gammaInit: $2, seed: $3) }),
        ModelSpec(
            name: "fashion_micro", inputShape: [1, 28, 28], classCount: 10, mean: fmMean, std: fmStd,
            labels: fashionMNISTLabels,
            recipe: Recipe(
                epochs: 3, batchSize: 128, learningRate: 0.05, weightDecay: 1e-4,
                horizontalFlip: true),
            builder: { try Models.fashionMicro(acb: $0, variant: $1, gammaInit: $2, seed: $3) }),
        ModelSpec(
            name: "lenet5_bn", inputShape: [1, 28, 28], classCount: 10, mean: fmMean, std: fmStd,
            labels: fashionMNISTLabels,
            recipe: Recipe(epochs: 20, batchSize: 128, learningRate: 0.05, weightDecay: 1e-4),
            builder: { try Models.lenet5BN(acb: $0, variant: $1, gammaInit: $2, seed: $3) }),
        ModelSpec(
            name: "cifar_quick", inputShape: [3, 32, 32], classCount: 10, mean: cifarMean, std: cifarStd,
            labels: cifar10Labels,
            recipe: Recipe(
                epochs: 60, batchSize: 128, learningRate: 0.05, weightDecay: 1e-4,
                acbGammaInit: 1.0 / 3, cropPadding: 4, horizontalFlip: true),
            builder: { try Models.cifarQuick(acb: $0, variant: $1, gammaInit: $2, seed: $3) }),
        ModelSpec(
            name: "vgg16", inputShape: [3, 32, 32], classCount: 10, mean: cifarMean, std: cifarStd,
            labels: cifar10Labels,
            recipe: Recipe(
                epochs: 200, batchSize: 64, learningRate: 0.05, weightDecay: 1e-4,
                warmupEpochs: 5, acbGammaInit: 1.0 / 3, cropPadding: 4, horizontalFlip: true),
            builder: { try Models.vgg16(acb: $0, variant: $1, gammaInit: $2, seed: $3) }),
        cifarResNet(20), cifarResNet(56), cifarResNet(110),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The spec named `name`, or `ModelRegistryError.unknownModel`.
    public static func spec(_ name: String) throws -> ModelSpec {
        guard let s = all.first(where: { $0.name == name }) else { throw ModelRegistryError.unknownModel(name) }
        return s
    }

    /// Builds the model named `name`.
    public static func make(
        _ name: String, acb: Bool, seed: UInt64 = 1, variant: ACBVariant = .full
    ) throws -> Sequential {
        try spec(name).make(acb: acb, seed: seed, variant: variant)
    }
}
