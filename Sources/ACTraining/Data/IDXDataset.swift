import Foundation

/// MNIST-format datasets (MNIST, Fashion-MNIST) stored as IDX files in one directory.
///
/// The directory holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each optionally gzipped (`.gz`);
/// the `train-images.idx3-ubyte` spelling is accepted too. Debian's `dataset-fashion-mnist`
/// installs them under `/usr/share/datasets/fashion-mnist`.
public enum IDXDataset {
    /// The Fashion-MNIST class names (Xiao et al. 2017), index order.
    public static let fashionMNISTLabels = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// The MNIST class names: the digits "0"…"9".
    public static let digitLabels = (0..<10).map(String.init)

    /// Whether `directory` looks like an IDX dataset (has train or t10k image files).
    public static func isIDXDirectory(_ directory: String) -> Bool {
        (try? path(directory, "t10k", "images", 3)) != nil || (try? path(directory, "train", "images", 3)) != nil
    }

    /// The default class names for `directory`: Fashion-MNIST's when the path mentions
    /// "fashion", else the digits.
    public static func defaultLabels(for directory: String) -> [String] {
        directory.lowercased().contains("fashion") ? fashionMNISTLabels : digitLabels
    }

    /// Loads one split as 1×H×W grayscale images.
    ///
    /// - Parameters:
    ///   - directory: the folder with the IDX files.
    ///   - split: `.train` (`train-*`) or `.test` (`t10k-*`).
    ///   - classNames: names for label values `0..<classNames.count`; default
    ///     ``defaultLabels(for:)``.
    /// - Throws: ``DataError`` when a file is missing or corrupt, when the images are not rank 3
    ///   or the labels not rank 1, when the counts differ, or a label is out of range.
    public static func load(
        directory: String, split: DatasetSplit,
        classNames: [String]? = nil
    ) throws -> ImageSet {
        let prefix = split == .train ? "train" : "t10k"
        let imagePath = try path(directory, prefix, "images", 3)
        let labelPath = try path(directory, prefix, "labels", 1)
        let images = try IDXFile(contentsOfFile: imagePath, expectedRank: 3)
        let labels = try IDXFile(contentsOfFile: labelPath, expectedRank: 1)
        guard images.dimensions.count == 3 else {
            throw DataError.corrupt("\(imagePath): expected [N, H, W] images, found dimensions \(images.dimensions)")
        }
        guard labels.dimensions.count == 1 else {
            throw DataError.corrupt("\(labelPath): expected [N] labels, found dimensions \(labels.dimensions)")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DataError.invalid(
                "\(imagePath) has \(images.dimensions[0]) images but \(labelPath) has \(labels.dimensions[0]) labels")
        }
        guard images.dimensions[0] > 0 else { throw DataError.invalid("\(imagePath) holds no images") }
        guard images.dimensions[1] > 0, images.dimensions[2] > 0 else {
            throw DataError.invalid("\(imagePath): images of \(images.dimensions[1])x\(images.dimensions[2]) pixels")
        }
        let names = classNames ?? defaultLabels(for: directory)
        let labelValues = labels.values.map { Int32($0) }
        if let bad = labelValues.first(where: { Int($0) >= names.count }) {
            throw DataError.corrupt("\(labelPath): label \(bad) but only \(names.count) classes")
        }
        return try ImageSet(
            channels: 1, height: images.dimensions[1], width: images.dimensions[2],
            pixels: images.values, labels: labelValues, classNames: names)
    }

    /// Finds `<prefix>-<kind>-idx<rank>-ubyte[.gz]` (or `<prefix>-<kind>.idx<rank>-ubyte[.gz]`).
    static func path(_ directory: String, _ prefix: String, _ kind: String, _ rank: Int) throws -> String {
        let stems = ["\(prefix)-\(kind)-idx\(rank)-ubyte", "\(prefix)-\(kind).idx\(rank)-ubyte"]
        for stem in stems {
            for suffix in ["", ".gz"] {
                let p = (directory as NSString).appendingPathComponent(stem + suffix)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
        }
        throw DataError.io("no \(stems[0])[.gz] in \(directory)")
    }
}
