/// An in-memory labelled image set: 8-bit pixels, planar per image.
///
/// `pixels` holds `count` images of `channels × height × width` bytes each, laid out NCHW
/// (image, channel, row, column), values 0…255. `labels[i]` is the class index of image `i`
/// into `classNames`.
public struct ImageSet: Sendable {
    /// Channels per image: 1 (grayscale) or 3 (RGB).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// `count · channels · height · width` bytes, NCHW.
    public let pixels: [UInt8]
    /// One class index per image, each in `0..<classNames.count`.
    public let labels: [Int32]
    /// Class names in index order.
    public let classNames: [String]

    /// Number of images.
    public var count: Int { labels.count }
    /// Bytes per image (`channels · height · width`).
    public var imageSize: Int { channels * height * width }

    /// Creates a set, checking that the sizes agree.
    ///
    /// - Throws: ``DataError/invalid(_:)`` if `pixels` is not `labels.count` images of the given
    ///   shape or a label is out of range.
    public init(
        channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int32],
        classNames: [String]
    ) throws {
        guard channels > 0, height > 0, width > 0 else {
            throw DataError.invalid("image shape \(channels)x\(height)x\(width) is empty")
        }
        guard pixels.count == labels.count * channels * height * width else {
            throw DataError.invalid(
                "\(pixels.count) pixel bytes for \(labels.count) images of \(channels)x\(height)x\(width)")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw DataError.invalid("label \(bad) is outside 0..<\(classNames.count)")
        }
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageSet {
        let size = imageSize
        var newPixels = [UInt8](repeating: 0, count: indices.count * size)
        var newLabels = [Int32](repeating: 0, count: indices.count)
        pixels.withUnsafeBufferPointer { src in
            newPixels.withUnsafeMutableBufferPointer { dst in
                for (j, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "subset index \(i) outside 0..<\(count)")
                    dst.baseAddress!.advanced(by: j * size)
                        .update(from: src.baseAddress!.advanced(by: i * size), count: size)
                    newLabels[j] = labels[i]
                }
            }
        }
        // Sizes are consistent by construction.
        return try! ImageSet(
            channels: channels, height: height, width: width, pixels: newPixels,
            labels: newLabels, classNames: classNames)
    }

    /// Per-channel mean and standard deviation in pixel/255 units (population statistics over
    /// every pixel of every image), the `mean`/`std` of an .acnb input spec.
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let plane = height * width
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                for c in 0..<channels {
                    var s: UInt64 = 0
                    var q: UInt64 = 0
                    let base = (i * channels + c) * plane
                    for k in 0..<plane {
                        let v = UInt64(p[base + k])
                        s += v
                        q += v * v
                    }
                    sums[c] += Double(s)
                    squares[c] += Double(q)
                }
            }
        }
        let n = Double(max(count * plane, 1))
        var mean = [Float]()
        var std = [Float]()
        for c in 0..<channels {
            let m = sums[c] / n / 255
            let v = max(squares[c] / n / (255 * 255) - m * m, 0)
            mean.append(Float(m))
            std.append(Float(v.squareRoot()))
        }
        return (mean, std)
    }

    /// Splits off a seeded random validation set of `validationCount` images.
    ///
    /// The same `seed` always gives the same split, so a resumed run trains and validates on
    /// the same images. - Returns: `(train, validation)`, disjoint, covering the set.
    public func split(validationCount: Int, seed: UInt64) -> (train: ImageSet, validation: ImageSet) {
        precondition(
            validationCount >= 0 && validationCount < count,
            "validation split of \(validationCount) from \(count) images")
        var rng = PipelineRandom(seed: seed, stream: [0x5EED_5A11])
        let p = rng.permutation(count)
        let val = Array(p[0..<validationCount]).sorted()
        let train = Array(p[validationCount...]).sorted()
        return (subset(train), subset(val))
    }
}

/// Which part of a dataset to load.
public enum DatasetSplit: String, Sendable, CaseIterable {
    /// The training split (`train-*` IDX files, `train/` image folder).
    case train
    /// The test split (`t10k-*` IDX files, `test/` image folder).
    case test
}
