import CJPEG
import Foundation

/// Image-folder datasets: `root/<class>/*.jpg`, decoded with libjpeg through the CJPEG shim.
///
/// Classes are the sub-directories sorted by name (byte order), files within a class are
/// sorted too, so loading is deterministic. When `root` has both `train/` and `test/`
/// sub-directories (CIFAR-10 as JPEGs), those hold the splits; otherwise `root` itself is the
/// only split and serves both. Images whose size differs from the target are stretched
/// to it with `acj_preprocess`'s resampling (the input spec's definition) and rounded to 8 bits.
public enum ImageFolderDataset {
    /// The directory that holds `split`: `root/train` or `root/test` when both exist, else `root`.
    public static func directory(root: String, split: DatasetSplit) -> String {
        let train = (root as NSString).appendingPathComponent("train")
        let test = (root as NSString).appendingPathComponent("test")
        if isDirectory(train) && isDirectory(test) {
            return split == .train ? train : test
        }
        if split == .test && isDirectory(test) { return test }
        return root
    }

    /// The class names of a split directory: its sub-directories, sorted.
    public static func classNames(in directory: String) throws -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw DataError.io("cannot list \(directory)")
        }
        let classes = entries.filter {
            !$0.hasPrefix(".") && isDirectory((directory as NSString).appendingPathComponent($0))
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !classes.isEmpty else {
            throw DataError.invalid("\(directory) has no class sub-directories (expected <class>/*.jpg)")
        }
        return classes
    }

    /// Loads a split.
    ///
    /// - Parameters:
    ///   - root: the dataset root (see the type's documentation for split resolution).
    ///   - split: which split.
    ///   - channels: 1 (libjpeg's grayscale conversion) or 3 (RGB).
    ///   - size: target `(height, width)`; `nil` takes the first image's size.
    ///   - classNames: the class list to index labels by (e.g. the training split's, or a
    ///     model's labels); every folder must appear in it. `nil` uses the folder's own sorted
    ///     classes.
    ///   - maxImagesPerClass: optional cap (the first files by name), for quick experiments.
    /// - Throws: ``DataError`` when the folder is empty, a class is unknown, or a JPEG cannot
    ///   be decoded (the message names the file and libjpeg's reason).
    public static func load(
        root: String, split: DatasetSplit, channels: Int = 3,
        size: (height: Int, width: Int)? = nil, classNames: [String]? = nil,
        maxImagesPerClass: Int? = nil
    ) throws -> ImageSet {
        precondition(channels == 1 || channels == 3, "image folders decode to 1 or 3 channels")
        let dir = directory(root: root, split: split)
        let folderClasses = try self.classNames(in: dir)
        let names = classNames ?? folderClasses
        var files = [(path: String, label: Int32)]()
        for cls in folderClasses {
            guard let index = names.firstIndex(of: cls) else {
                throw DataError.invalid("class folder '\(cls)' in \(dir) is not one of \(names)")
            }
            let classDir = (dir as NSString).appendingPathComponent(cls)
            var jpegs = ((try? FileManager.default.contentsOfDirectory(atPath: classDir)) ?? [])
                .filter {
                    let e = ($0 as NSString).pathExtension.lowercased()
                    return e == "jpg" || e == "jpeg"
                }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if let cap = maxImagesPerClass { jpegs = Array(jpegs.prefix(cap)) }
            for f in jpegs { files.append(((classDir as NSString).appendingPathComponent(f), Int32(index))) }
        }
        guard !files.isEmpty else { throw DataError.invalid("no .jpg files under \(dir)") }

        let target: (height: Int, width: Int)
        if let size {
            target = size
        } else {
            let first = try decode(files[0].path, channels: channels)
            target = (first.height, first.width)
        }
        let imageSize = channels * target.height * target.width
        let paths = files.map(\.path)
        let pixels = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: files.count * imageSize)
        defer { pixels.deallocate() }
        let failures = FailureBox()
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let base = UncheckedPointer(pointer: pixels.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < paths.count {
                if failures.first != nil { return }
                do {
                    let img = try decode(paths[i], channels: channels)
                    let planar = stretchToPlanar(img, channels: channels, height: target.height, width: target.width)
                    planar.withUnsafeBufferPointer {
                        base.pointer.advanced(by: i * imageSize).update(from: $0.baseAddress!, count: imageSize)
                    }
                } catch {
                    failures.record(error)
                }
                i += workers
            }
        }
        if let error = failures.first { throw error }
        return try ImageSet(
            channels: channels, height: target.height, width: target.width,
            pixels: Array(pixels), labels: files.map(\.label), classNames: names)
    }

    /// A decoded interleaved image (HWC, 8-bit).
    struct Decoded {
        var pixels: [UInt8]
        var height: Int
        var width: Int
    }

    /// Decodes one JPEG through `acj_decode_file` to `channels` interleaved channels.
    static func decode(_ path: String, channels: Int) throws -> Decoded {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DataError.io("\(path): not a readable regular file")
        }
        var image = acj_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = acj_decode_file(path, Int32(channels), 1 << 26, &image, &message, message.count)
        guard status == 0 else {
            let reason = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DataError.corrupt("\(path): cannot decode JPEG (\(reason))")
        }
        defer { acj_image_free(&image) }
        let h = Int(image.height)
        let w = Int(image.width)
        guard Int(image.channels) == channels, let p = image.pixels else {
            throw DataError.corrupt("\(path): decoder returned \(image.channels) channels, wanted \(channels)")
        }
        return Decoded(pixels: Array(UnsafeBufferPointer(start: p, count: h * w * channels)), height: h, width: w)
    }

    /// Interleaved HWC → planar CHW bytes, stretched to `height × width` with the project's
    /// canonical resampling (`acj_preprocess`: area averaging down, bilinear up), rounded.
    static func stretchToPlanar(_ img: Decoded, channels: Int, height: Int, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: channels * height * width)
        if img.height == height && img.width == width {
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<channels {
                        out[(c * height + y) * width + x] = img.pixels[(y * width + x) * channels + c]
                    }
                }
            }
            return out
        }
        // mean 0, std 1/255 makes acj_preprocess return the resampled pixel values themselves.
        let mean = [Float](repeating: 0, count: channels)
        let std = [Float](repeating: 1 / 255, count: channels)
        var planar = [Float](repeating: 0, count: out.count)
        let status = acj_preprocess(
            img.pixels, UInt32(img.width), UInt32(img.height), UInt32(channels),
            UInt32(width), UInt32(height), mean, std, &planar)
        precondition(status == 0, "acj_preprocess rejected a decoded image (\(status))")
        for i in 0..<out.count { out[i] = UInt8(max(0, min(255, planar[i].rounded()))) }
        return out
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}

/// A raw pointer handed to `concurrentPerform` workers that write disjoint ranges.
private struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
}

/// The first error raised by any decoding worker.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    var first: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
    func record(_ e: any Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}
