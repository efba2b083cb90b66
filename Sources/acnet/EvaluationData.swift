import ACRuntime
import ACTraining
import CJPEG
import Foundation

/// The test images of a dataset directory turned into a model's input tensors, following the
/// model's input spec (docs/DESIGN.md §4): IDX directories give their `t10k` split, image folders their
/// `test/` sub-folder when present (else the folder itself). Every image is resampled and
/// normalised by `acj_preprocess`, the project's one definition of preprocessing.
struct EvaluationData {
    /// `count × C × H × W` floats, NCHW, ready for ``Session/run(_:batch:)``.
    var inputs: [Float]
    /// One class index per image, into the model's labels.
    var labels: [Int]
    /// Where the images came from (for messages).
    var source: String
    var count: Int { labels.count }

    /// Loads and preprocesses the test split of `directory` for `model`; `transform` (if any) is
    /// applied to each decoded image before resizing and normalisation.
    ///
    /// - Throws: ``DataError`` for unreadable data, or when the dataset's classes cannot be
    ///   matched to the model's labels.
    init(directory: String, model: Model, limit: Int? = nil, transform: ImageTransform? = nil) throws {
        let shape = model.inputShape  // [C, H, W]
        guard shape.count == 3 else { throw DataError.invalid("model input shape \(shape) is not an image") }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let spec = model.inputSpec
        let labels = model.labels
        if IDXDataset.isIDXDirectory(directory) {
            var set = try IDXDataset.load(
                directory: directory, split: .test,
                classNames: labels.isEmpty ? nil : labels)
            if let limit, limit < 1 { throw DataError.invalid("a limit of \(limit) images; it must be at least 1") }
            if let limit, limit < set.count {
                set = set.subset(DatasetDirectory.subsetIndices(count: set.count, limit: limit))
            }
            source = "\(directory) (t10k split, \(set.count) images)"
            self.labels = set.labels.map(Int.init)
            inputs = try EvaluationData.preprocess(
                count: set.count, channelsIn: 1, height: set.height, width: set.width,
                pixels: { i in Array(set.pixels[(i * set.imageSize)..<((i + 1) * set.imageSize)]) },
                c: c, h: h, w: w, spec: spec, transform: transform)
            return
        }
        let dir = ImageFolderDataset.directory(root: directory, split: .test)
        let classes = try ImageFolderDataset.classNames(in: dir)
        // Map folder names to model labels by name, exactly (see ``folderName(forLabel:)``).
        let classIndex = try EvaluationData.classIndex(folders: classes, labels: labels, directory: dir)
        var files = [(String, Int)]()
        for cls in classes {
            let classDir = (dir as NSString).appendingPathComponent(cls)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: classDir)) ?? [])
                .filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for n in names { files.append(((classDir as NSString).appendingPathComponent(n), classIndex[cls]!)) }
        }
        if let limit, limit < 1 { throw DataError.invalid("a limit of \(limit) images; it must be at least 1") }
        if let limit, limit < files.count {
            files = DatasetDirectory.subsetIndices(count: files.count, limit: limit).map { files[$0] }
        }
        guard !files.isEmpty else { throw DataError.invalid("no .jpg files under \(dir)") }
        source = "\(dir) (\(files.count) images)"
        self.labels = files.map(\.1)
        let want = c == 1 ? 1 : 3
        let per = c * h * w
        var out = [Float](repeating: 0, count: files.count * per)
        for (i, (path, _)) in files.enumerated() {
            guard let st = OptionCheck.status(path), OptionCheck.isRegularFile(st) else {
                throw DataError.io("\(path): not a readable regular file")
            }
            var image = acj_image()
            var message = [CChar](repeating: 0, count: 256)
            guard acj_decode_file(path, Int32(want), 0, &image, &message, message.count) == 0, let p = image.pixels
            else {
                let reason = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw DataError.corrupt("\(path): cannot decode JPEG (\(reason))")
            }
            defer { acj_image_free(&image) }
            var px = Array(UnsafeBufferPointer(start: p, count: Int(image.width * image.height) * want))
            if spec.channelOrder == .bgr && want == 3 {
                for k in stride(from: 0, to: px.count, by: 3) { px.swapAt(k, k + 2) }
            }
            var (iw, ih) = (Int(image.width), Int(image.height))
            if let transform { (px, iw, ih) = transform.apply(px, width: iw, height: ih, channels: want) }
            try out.withUnsafeMutableBufferPointer { o in
                let status = acj_preprocess(
                    px, UInt32(iw), UInt32(ih), UInt32(want), UInt32(w), UInt32(h),
                    spec.mean, spec.std, o.baseAddress! + i * per)
                guard status == 0 else { throw DataError.invalid("\(path): preprocessing failed (\(status))") }
            }
        }
        inputs = out
    }

    /// The folder name that stands for a model label: the label with every '/' (which a folder
    /// name cannot hold) replaced by '_' ("T-shirt/top" → "T-shirt_top"). Other labels are
    /// their own folder names.
    static func folderName(forLabel label: String) -> String {
        label.replacingOccurrences(of: "/", with: "_")
    }

    /// The model-label index of every class folder. Folders match labels exactly (after
    /// ``folderName(forLabel:)``); a model without labels takes the folders in sorted order.
    ///
    /// - Throws: ``DataError/invalid(_:)`` listing every folder that matches no label.
    static func classIndex(folders: [String], labels: [String], directory: String) throws -> [String: Int] {
        if labels.isEmpty { return Dictionary(uniqueKeysWithValues: folders.enumerated().map { ($1, $0) }) }
        var index = [String: Int]()
        for (i, label) in labels.enumerated() {
            index[folderName(forLabel: label)] = index[folderName(forLabel: label)] ?? i
        }
        let unmatched = folders.filter { index[$0] == nil }
        guard unmatched.isEmpty else {
            // A 1000-class model's label list would bury the message: name the first few.
            let names = labels.map(folderName(forLabel:))
            let shown = names.count <= 20 ? "\(names)" : "\(Array(names.prefix(10))) … (\(names.count) labels)"
            let folders =
                unmatched.count <= 20 ? "\(unmatched)" : "\(Array(unmatched.prefix(10))) … (\(unmatched.count) folders)"
            throw DataError.invalid(
                "class folders \(folders) in \(directory) match none of the model's labels "
                    + "\(shown) (a '/' in a label is '_' in its folder name)")
        }
        return index.filter { folders.contains($0.key) }
    }

    /// Preprocesses gray IDX images (replicated to 3 channels for an RGB model).
    private static func preprocess(
        count: Int, channelsIn: Int, height: Int, width: Int,
        pixels: (Int) -> [UInt8], c: Int, h: Int, w: Int,
        spec: InputSpec, transform: ImageTransform?
    ) throws -> [Float] {
        let per = c * h * w
        var out = [Float](repeating: 0, count: count * per)
        try out.withUnsafeMutableBufferPointer { o in
            for i in 0..<count {
                var px = pixels(i)
                var (iw, ih) = (width, height)
                if let transform { (px, iw, ih) = transform.apply(px, width: iw, height: ih, channels: 1) }
                if c == 3 { px = px.flatMap { [$0, $0, $0] } }
                let status = acj_preprocess(
                    px, UInt32(iw), UInt32(ih), UInt32(c), UInt32(w), UInt32(h),
                    spec.mean, spec.std, o.baseAddress! + i * per)
                guard status == 0 else { throw DataError.invalid("image \(i): preprocessing failed (\(status))") }
            }
        }
        return out
    }
}

/// Runs `model` over `inputs` in batches and returns the argmax class of each image.
func runtimePredictions(
    model: Model, inputs: [Float], count: Int, batch: Int = 256,
    threads: Int = 1
) throws -> [Int] {
    let session = try Session(model: model, options: SessionOptions(threads: threads, maxBatch: batch))
    let per = model.inputElementCount
    let classes = model.outputElementCount
    var predictions = [Int]()
    predictions.reserveCapacity(count)
    var start = 0
    while start < count {
        let n = min(batch, count - start)
        let logits = try session.run(Array(inputs[(start * per)..<((start + n) * per)]), batch: n)
        if let bad = logits.firstIndex(where: { !$0.isFinite }) {
            throw CLIError(
                "the model's output for image \(start + bad / classes) is \(logits[bad]) (not finite): "
                    + "the model's weights or input spec are broken")
        }
        for i in 0..<n {
            var best = 0
            for k in 1..<classes where logits[i * classes + k] > logits[i * classes + best] { best = k }
            predictions.append(best)
        }
        start += n
    }
    return predictions
}
