import CJPEG
import Foundation
import Testing

@testable import ACTraining

/// The Fashion-MNIST directory of Debian's `dataset-fashion-mnist` (CI installs it).
let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

/// Builds IDX bytes: magic 00 00 08 rank, big-endian dims, payload.
func idxBytes(dims: [Int], payload: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var b: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return b + payload
}

func temporaryDirectory(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "acnet-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("IDX files")
struct IDXTests {
    @Test func parsesImagesAndLabels() throws {
        let f = try IDXFile(bytes: idxBytes(dims: [2, 2, 3], payload: Array(0..<12)))
        #expect(f.dimensions == [2, 2, 3])
        #expect(f.values == Array(0..<12))
    }

    @Test(arguments: [
        ([UInt8]([0, 0, 8]), "too short"),
        ([UInt8]([1, 0, 8, 1, 0, 0, 0, 1, 7]), "bad IDX magic"),
        ([UInt8]([0, 0, 0x0D, 1, 0, 0, 0, 1, 7, 7, 7, 7]), "float32 is not supported"),
        ([UInt8]([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "unknown IDX element type"),
        ([UInt8]([0, 0, 8, 0]), "no dimensions"),
        ([UInt8]([0, 0, 8, 2, 0, 0, 0, 1]), "truncated IDX header"),
        ([UInt8]([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]), "truncated"),
        ([UInt8]([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "trailing bytes"),
        ([UInt8]([0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]), "overflow"),
    ])
    func rejectsCorruptFiles(bytes: [UInt8], message: String) {
        do {
            _ = try IDXFile(bytes: bytes, name: "x.idx")
            Issue.record("accepted a corrupt file (\(message))")
        } catch let e as DataError {
            #expect(e.description.contains(message), "\(e)")
            #expect(e.description.contains("x.idx"))
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func readsGzipAndRejectsTruncatedGzip() throws {
        let dir = temporaryDirectory("gz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let raw = idxBytes(dims: [3], payload: [4, 5, 6])
        let plain = dir + "/labels.idx"
        _ = FileManager.default.createFile(atPath: plain, contents: Data(raw))
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-k", plain]
        try gz.run()
        gz.waitUntilExit()
        #expect(try IDXFile(contentsOfFile: plain + ".gz").values == [4, 5, 6])
        #expect(try IDXFile(contentsOfFile: plain).values == [4, 5, 6])
        let bytes = [UInt8](FileManager.default.contents(atPath: plain + ".gz")!)
        #expect(throws: DataError.self) { try FileBytes.gunzip(Array(bytes.prefix(bytes.count - 12))) }
        var damaged = bytes
        damaged[damaged.count - 8] ^= 0xff  // the CRC-32 of the trailer
        #expect(throws: DataError.self) { try FileBytes.gunzip(damaged) }
        #expect(throws: DataError.self) { try IDXFile(contentsOfFile: dir + "/missing") }
    }

    @Test func mismatchedCountsAreAnError() throws {
        let dir = temporaryDirectory("idxds")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(
            atPath: dir + "/t10k-images-idx3-ubyte",
            contents: Data(idxBytes(dims: [2, 2, 2], payload: Array(0..<8))))
        _ = FileManager.default.createFile(
            atPath: dir + "/t10k-labels-idx1-ubyte",
            contents: Data(idxBytes(dims: [3], payload: [0, 1, 2])))
        #expect(IDXDataset.isIDXDirectory(dir))
        #expect(throws: DataError.self) { try IDXDataset.load(directory: dir, split: .test) }
        _ = FileManager.default.createFile(
            atPath: dir + "/t10k-labels-idx1-ubyte",
            contents: Data(idxBytes(dims: [2], payload: [0, 9])))
        let set = try IDXDataset.load(directory: dir, split: .test)
        #expect(set.count == 2 && set.height == 2 && set.width == 2 && set.labels == [0, 9])
        #expect(throws: DataError.self) { try IDXDataset.load(directory: dir, split: .train) }
    }

    @Test func fashionMNISTLoads() throws {
        let test = try IDXDataset.load(directory: fashionMNISTDirectory, split: .test)
        #expect(test.count == 10_000 && test.channels == 1 && test.height == 28 && test.width == 28)
        #expect(test.classNames == IDXDataset.fashionMNISTLabels)
        #expect(Set(test.labels) == Set(0..<10))
        let train = try IDXDataset.load(directory: fashionMNISTDirectory, split: .train)
        #expect(train.count == 60_000)
        let stats = train.channelStatistics()
        #expect(abs(stats.mean[0] - 0.2860) < 1e-3)
        #expect(abs(stats.std[0] - 0.3530) < 1e-3)
    }
}

@Suite("Data pipeline")
struct PipelineTests {
    func toySet(count: Int = 50) throws -> ImageSet {
        var pixels = [UInt8]()
        for i in 0..<count { pixels += (0..<(3 * 4 * 5)).map { UInt8(($0 * 7 + i) % 256) } }
        return try ImageSet(
            channels: 3, height: 4, width: 5, pixels: pixels,
            labels: (0..<count).map { Int32($0 % 3) }, classNames: ["a", "b", "c"])
    }

    @Test func validationSplitIsSeededAndDisjoint() throws {
        let set = try toySet()
        let (t1, v1) = set.split(validationCount: 10, seed: 7)
        let (t2, v2) = set.split(validationCount: 10, seed: 7)
        let (_, v3) = set.split(validationCount: 10, seed: 8)
        #expect(t1.count == 40 && v1.count == 10)
        #expect(v1.pixels == v2.pixels && t1.pixels == t2.pixels)
        #expect(v1.pixels != v3.pixels)
    }

    @Test func loaderIsDeterministicAndCoversEveryImage() throws {
        let set = try toySet()
        let norm = Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        func run(start: Int = 0) -> [Batch] {
            Array(
                BatchLoader(
                    data: set, batchSize: 8, shuffle: true,
                    augmentation: Augmentation(padding: 2, horizontalFlip: true),
                    normalization: norm, seed: 3, epoch: 1, startBatch: start))
        }
        let a = run()
        let b = run()
        #expect(a.count == 7 && a.last!.count == 2)
        #expect(a.map(\.images) == b.map(\.images) && a.map(\.labels) == b.map(\.labels))
        #expect(run(start: 4).map(\.images) == a[4...].map(\.images))
        #expect(a.flatMap(\.labels).sorted() == set.labels.sorted())
    }

    @Test func evalBatchesAreNormalisedPixels() throws {
        let set = try toySet(count: 3)
        let norm = Normalization(mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2])
        let batches = Array(
            BatchLoader(
                data: set, batchSize: 2, shuffle: false, augmentation: .none,
                normalization: norm, seed: 0, epoch: 0))
        let images = batches.flatMap(\.images)
        for (i, p) in set.pixels.enumerated() {
            let c = (i / 20) % 3
            let want = (Float(p) / 255 - norm.mean[c]) / norm.std[c]
            #expect(abs(images[i] - want) < 1e-5)
        }
    }

    @Test func cropAndFlipMoveFullPixels() throws {
        // One 1x1x4 image, padding 1: every output is a shifted (and maybe mirrored) copy.
        let set = try ImageSet(
            channels: 1, height: 1, width: 4, pixels: [10, 20, 30, 40], labels: [0], classNames: ["x"])
        let norm = Normalization(mean: [0], std: [1.0 / 255])
        var seen = Set<[Float]>()
        for epoch in 0..<64 {
            let b = BatchLoader(
                data: set, batchSize: 1, shuffle: false,
                augmentation: Augmentation(padding: 1, horizontalFlip: true),
                normalization: norm, seed: 1, epoch: epoch
            ).next()!
            seen.insert(b.images.map { $0.rounded() })
        }
        #expect(seen.contains([10, 20, 30, 40]) && seen.contains([40, 30, 20, 10]))
        #expect(seen.contains([0, 10, 20, 30]) && seen.contains([20, 30, 40, 0]))
        #expect(seen.count <= 6 * 2)
    }
}

@Suite("Image folders")
struct ImageFolderTests {
    /// Writes a `width × height` gray JPEG filled with `value` (quality 100).
    func writeJPEG(_ path: String, width: Int, height: Int, value: UInt8, channels: Int = 1) throws {
        let pixels = [UInt8](repeating: value, count: width * height * channels)
        var err = [CChar](repeating: 0, count: 256)
        let status = acj_encode_file(
            path, pixels, UInt32(width), UInt32(height), UInt32(channels), 100, &err, err.count)
        try #require(status == 0)
    }

    @Test func loadsSortedClassesAndSplits() throws {
        let root = temporaryDirectory("folder")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for split in ["train", "test"] {
            for (cls, value) in [("b_shoe", UInt8(200)), ("a_bag", UInt8(40))] {
                let dir = "\(root)/\(split)/\(cls)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try writeJPEG("\(dir)/0.jpg", width: 8, height: 6, value: value)  // the first sets the size
                try writeJPEG("\(dir)/1.JPEG", width: 16, height: 12, value: value)  // stretched to 8x6
                _ = FileManager.default.createFile(atPath: "\(dir)/notes.txt", contents: Data("x".utf8))
            }
        }
        #expect(ImageFolderDataset.directory(root: root, split: .test) == root + "/test")
        let train = try ImageFolderDataset.load(root: root, split: .train, channels: 1)
        #expect(train.classNames == ["a_bag", "b_shoe"])
        #expect(train.count == 4 && train.labels == [0, 0, 1, 1])
        #expect(train.height == 6 && train.width == 8 && train.channels == 1)
        for i in 0..<4 {
            let want: Int = train.labels[i] == 0 ? 40 : 200
            let image = train.pixels[(i * 48)..<((i + 1) * 48)]
            #expect(image.allSatisfy { abs(Int($0) - want) <= 2 })
        }
        let rgb = try DatasetDirectory(root).load(.test, channels: 3, classNames: train.classNames)
        #expect(rgb.channels == 3 && rgb.count == 4)
        #expect(throws: DataError.self) {
            try ImageFolderDataset.load(root: root, split: .test, channels: 1, classNames: ["a_bag"])
        }
        // A corrupt JPEG is an error naming the file.
        _ = FileManager.default.createFile(
            atPath: "\(root)/train/a_bag/2.jpg", contents: Data([0xFF, 0xD8, 0xFF, 0x00]))
        do {
            _ = try ImageFolderDataset.load(root: root, split: .train, channels: 1)
            Issue.record("a corrupt JPEG was accepted")
        } catch let e as DataError {
            #expect(e.description.contains("2.jpg"))
        }
    }
}
