/// Everything that determines a training run. Stored (as JSON) in every checkpoint, so a
/// resumed run continues with exactly the recipe it started with.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    /// Model name for ``ModelRegistry`` (e.g. "fashion_net").
    public var model: String
    /// Replace every KxK convolution (1 < K < 7) by an ACB.
    public var acb: Bool
    /// Total epochs of the schedule.
    public var epochs: Int
    /// Images per SGD step.
    public var batchSize: Int
    /// Peak learning rate.
    public var learningRate: Double
    /// SGD momentum.
    public var momentum: Double
    /// L2 weight decay.
    public var weightDecay: Double
    /// Apply weight decay to BatchNorm γ/β and biases too (the reference does).
    public var weightDecayOnAll: Bool
    /// Learning-rate multiplier for biases (conv/linear bias, BN β); 2 in the reference recipe.
    public var biasLearningRateMultiplier: Double
    /// "cosine" (per iteration, to 0) or "step".
    public var schedule: String
    /// Linear warm-up from 0, in epochs (may be fractional).
    public var warmupEpochs: Double
    /// For "step": epochs at which the rate is multiplied by `stepGamma`.
    public var stepMilestones: [Int]
    /// For "step": the factor.
    public var stepGamma: Double
    /// Label smoothing ε of the cross-entropy (0 = off).
    public var labelSmoothing: Double
    /// Training augmentation.
    public var augmentation: Augmentation
    /// Images carved from the training set for validation (checkpoint choice), 0 = none.
    public var validationCount: Int
    /// Seed of initialisation, validation split, shuffling and augmentation.
    public var seed: UInt64
    /// Initial γ of the ACB branch BatchNorms (CIFAR recipes: 1/3); nil = the model's default.
    public var gammaInit: Float?
    /// The ACB ablation variant (ignored without `acb`); nil = `.full`, the paper's block.
    /// Optional so that recipes written before the option existed decode unchanged.
    public var acbVariant: ACBVariant?

    public init(
        model: String, acb: Bool, epochs: Int, batchSize: Int = 128, learningRate: Double = 0.1,
        momentum: Double = 0.9, weightDecay: Double = 1e-4, weightDecayOnAll: Bool = true,
        biasLearningRateMultiplier: Double = 2, schedule: String = "cosine", warmupEpochs: Double = 0,
        stepMilestones: [Int] = [], stepGamma: Double = 0.1, labelSmoothing: Double = 0,
        augmentation: Augmentation = .none, validationCount: Int = 5000, seed: UInt64 = 1, gammaInit: Float? = nil,
        acbVariant: ACBVariant? = nil
    ) {
        self.model = model
        self.acb = acb
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.weightDecayOnAll = weightDecayOnAll
        self.biasLearningRateMultiplier = biasLearningRateMultiplier
        self.schedule = schedule
        self.warmupEpochs = warmupEpochs
        self.stepMilestones = stepMilestones
        self.stepGamma = stepGamma
        self.labelSmoothing = labelSmoothing
        self.augmentation = augmentation
        self.validationCount = validationCount
        self.seed = seed
        self.gammaInit = gammaInit
        self.acbVariant = acbVariant == .full ? nil : acbVariant
    }

    /// Builds the recipe's freshly initialised model from ``ModelRegistry``.
    /// - Throws: ``ModelRegistryError`` for an unknown model name.
    public func makeModel() throws -> Sequential {
        try ModelRegistry.spec(model).make(acb: acb, seed: seed, gammaInit: gammaInit, variant: acbVariant ?? .full)
    }

    /// Whether `other` describes the same run apart from its length (resuming may extend a run).
    public func isResumable(as other: TrainingRecipe) -> Bool {
        var a = self
        var b = other
        a.epochs = 0
        b.epochs = 0
        return a == b
    }
}
