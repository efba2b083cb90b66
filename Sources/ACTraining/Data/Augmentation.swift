/// Training-time augmentation: pad-and-random-crop and horizontal flip (the CIFAR recipe of
/// He et al. 2016 §4.2, applied to raw pixels before normalisation, so padded pixels are 0 as
/// in torchvision's `RandomCrop(padding:)`).
public struct Augmentation: Sendable, Equatable, Codable {
    /// Zero padding on each side before the random crop back to the original size; 0 = off.
    public var padding: Int
    /// Mirror left-right with probability ½.
    public var horizontalFlip: Bool

    /// No augmentation.
    public static let none = Augmentation(padding: 0, horizontalFlip: false)

    public init(padding: Int = 0, horizontalFlip: Bool = false) {
        precondition(padding >= 0, "augmentation padding must be ≥ 0")
        self.padding = padding
        self.horizontalFlip = horizontalFlip
    }

    /// Whether the augmentation changes anything.
    public var isIdentity: Bool { padding == 0 && !horizontalFlip }

    /// Writes one augmented, normalised image.
    ///
    /// - Parameters:
    ///   - source: `channels × height × width` bytes (CHW).
    ///   - destination: `channels × height × width` floats (CHW), written as
    ///     `(pixel/255 − mean[c]) / std[c]`.
    ///   - rng: the stream deciding the crop offset and flip.
    func apply(
        source: UnsafePointer<UInt8>, destination: UnsafeMutablePointer<Float>,
        channels: Int, height: Int, width: Int,
        scale: [Float], shift: [Float], rng: inout PipelineRandom
    ) {
        var dy = 0
        var dx = 0
        if padding > 0 {
            dy = rng.below(2 * padding + 1) - padding
            dx = rng.below(2 * padding + 1) - padding
        }
        let flip = horizontalFlip && (rng.next() & 1) == 1
        for c in 0..<channels {
            let a = scale[c]
            let b = shift[c]
            let zero = b  // value of a padded (0) pixel after normalisation
            let src = source + c * height * width
            let dst = destination + c * height * width
            for y in 0..<height {
                let sy = y + dy
                let row = dst + y * width
                if sy < 0 || sy >= height {
                    for x in 0..<width { row[x] = zero }
                    continue
                }
                let srow = src + sy * width
                for x in 0..<width {
                    let ox = flip ? width - 1 - x : x
                    let sx = ox + dx
                    row[x] = (sx < 0 || sx >= width) ? zero : Float(srow[sx]) * a + b
                }
            }
        }
    }
}

/// Per-channel normalisation `x = (pixel/255 − mean[c]) / std[c]` (the .acnb input spec).
public struct Normalization: Sendable, Equatable, Codable {
    /// Per-channel mean in pixel/255 units.
    public var mean: [Float]
    /// Per-channel standard deviation in pixel/255 units (all > 0).
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "mean and std need one value per channel")
        precondition(std.allSatisfy { $0 > 0 }, "normalisation std must be positive")
        self.mean = mean
        self.std = std
    }

    /// The statistics of a (training) set: ``ImageSet/channelStatistics()``.
    public init(statisticsOf set: ImageSet) {
        let s = set.channelStatistics()
        self.init(mean: s.mean, std: s.std.map { max($0, 1e-6) })
    }

    /// `pixel · scale[c] + shift[c]` equals the normalised value.
    var scale: [Float] { std.map { 1 / (255 * $0) } }
    var shift: [Float] { zip(mean, std).map { -$0 / $1 } }
}
