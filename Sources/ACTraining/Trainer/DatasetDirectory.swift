/// A dataset directory resolved to its training and test splits: IDX files (MNIST,
/// Fashion-MNIST) or an image folder (`root/<class>/*.jpg`, with `train/` and `test/` when
/// present).
public struct DatasetDirectory: Sendable {
    /// The directory as given.
    public let path: String
    /// True for IDX files, false for an image folder.
    public let isIDX: Bool

    public init(_ path: String) {
        self.path = path
        isIDX = IDXDataset.isIDXDirectory(path)
    }

    /// Loads one split.
    ///
    /// - Parameters:
    ///   - channels: for image folders, 1 (gray) or 3 (RGB); IDX files are always gray.
    ///   - classNames: the class list to index labels by (the training split's for `.test`).
    ///   - size: for image folders, the `(height, width)` every image is resampled to (a
    ///     model's input size); nil takes the first image's size.
    ///   - limit: keep only `limit` images, ≥ 1 (``subsetIndices(count:limit:)``; CLI `--limit`).
    /// - Throws: ``DataError``, also when the split (after `limit`) holds no image, or `limit`
    ///   is below 1.
    public func load(
        _ split: DatasetSplit, channels: Int = 3, classNames: [String]? = nil,
        size: (height: Int, width: Int)? = nil, limit: Int? = nil
    ) throws -> ImageSet {
        if let limit, limit < 1 { throw DataError.invalid("a limit of \(limit) images; it must be at least 1") }
        var set: ImageSet
        if isIDX {
            set = try IDXDataset.load(directory: path, split: split, classNames: classNames)
        } else {
            set = try ImageFolderDataset.load(
                root: path, split: split, channels: channels, size: size,
                classNames: classNames)
        }
        if let limit, limit < set.count {
            set = set.subset(DatasetDirectory.subsetIndices(count: set.count, limit: limit))
        }
        guard set.count > 0 else { throw DataError.invalid("the \(split) split of \(path) holds no images") }
        return set
    }

    /// The images a `limit` keeps: a seeded random subset of `0..<count`, in increasing order,
    /// so every class stays represented (image folders are sorted by class). `acnet eval
    /// --limit` and `acnet export --limit` pick the same images.
    /// A `limit` ≤ 0 keeps nothing.
    public static func subsetIndices(count: Int, limit: Int) -> [Int] {
        guard limit > 0 else { return [] }
        guard limit < count else { return Array(0..<count) }
        var rng = PipelineRandom(seed: 0x1_1417, stream: [UInt64(limit)])
        return Array(rng.permutation(count).prefix(limit)).sorted()
    }

    /// Whether a separate test split exists (always for IDX; `test/` for image folders).
    public var hasTestSplit: Bool {
        isIDX || ImageFolderDataset.directory(root: path, split: .test) != path
    }
}
