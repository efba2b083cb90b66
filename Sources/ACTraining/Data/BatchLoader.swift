import Foundation

/// One mini-batch ready for the network.
public struct Batch: Sendable {
    /// Position of the batch in its epoch (0-based).
    public var index: Int
    /// Images in the batch.
    public var count: Int
    /// `count × C × H × W` floats, NCHW, normalised (and augmented for training).
    public var images: [Float]
    /// `count` class indices.
    public var labels: [Int32]
}

/// Produces the batches of one epoch, preparing them on a background thread.
///
/// Batch `b` of epoch `e` is a pure function of `(data, seed, e, b)`: the epoch's order is the
/// permutation of ``PipelineRandom`` stream `[e]` (or the natural order without shuffling), and
/// the augmentation of batch `b` uses stream `[e, b]`. A resumed run therefore sees exactly the
/// batches an uninterrupted run would have seen, whatever the thread timing.
///
/// The producer thread runs up to `prefetch` batches ahead of the consumer, so decoding,
/// cropping, flipping and normalising stay off the training loop's critical path. Iterating
/// (``next()``) is for one consumer thread; ``cancel()`` (or deinit) stops the producer.
public final class BatchLoader: @unchecked Sendable, Sequence, IteratorProtocol {
    /// The number of batches in the epoch.
    public let batchCount: Int

    private let condition = NSCondition()
    private var ready: [Int: Batch] = [:]
    private var nextToConsume: Int
    private var cancelled = false
    private let prefetch: Int

    /// Starts preparing the epoch.
    ///
    /// - Parameters:
    ///   - data: the images (8-bit).
    ///   - batchSize: images per batch (the last batch may be smaller unless `dropLast`).
    ///   - shuffle: shuffle the order each epoch (training) or keep it (evaluation).
    ///   - augmentation: applied per image; ``Augmentation/none`` for evaluation.
    ///   - normalization: per-channel mean/std (count must equal `data.channels`).
    ///   - seed, epoch: select the random streams (see the type's documentation).
    ///   - startBatch: the first batch to produce (earlier ones are skipped; for resuming).
    ///   - prefetch: how many batches may wait ready (≥ 1).
    public init(
        data: ImageSet, batchSize: Int, shuffle: Bool, augmentation: Augmentation,
        normalization: Normalization, seed: UInt64, epoch: Int, dropLast: Bool = false,
        startBatch: Int = 0, prefetch: Int = 3
    ) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(
            normalization.mean.count == data.channels,
            "normalisation has \(normalization.mean.count) channels, data has \(data.channels)")
        let n = data.count
        batchCount = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
        nextToConsume = startBatch
        self.prefetch = Swift.max(1, prefetch)
        var orderRNG = PipelineRandom(seed: seed, stream: [UInt64(epoch)])
        let order = shuffle ? orderRNG.permutation(n) : Array(0..<n)
        let scale = normalization.scale
        let shift = normalization.shift
        let total = batchCount
        let thread = Thread { [weak self] in
            var b = startBatch
            while b < total {
                let batch = BatchLoader.make(
                    batch: b, batchSize: batchSize, order: order, data: data,
                    augmentation: augmentation, scale: scale, shift: shift,
                    seed: seed, epoch: epoch)
                guard let self else { return }
                self.condition.lock()
                while !self.cancelled && self.ready.count >= self.prefetch { self.condition.wait() }
                if self.cancelled {
                    self.condition.unlock()
                    return
                }
                self.ready[b] = batch
                self.condition.broadcast()
                self.condition.unlock()
                b += 1
            }
        }
        thread.name = "acnet.batch-loader"
        thread.start()
    }

    deinit { cancel() }

    /// Stops the producer; later ``next()`` calls return `nil`.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch in order, waiting for the producer if needed; `nil` after the last.
    public func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        guard nextToConsume < batchCount else { return nil }
        while !cancelled && ready[nextToConsume] == nil { condition.wait() }
        if cancelled { return nil }
        let batch = ready.removeValue(forKey: nextToConsume)
        nextToConsume += 1
        condition.broadcast()
        return batch
    }

    /// Builds batch `b` (pure; see the type's documentation).
    static func make(
        batch b: Int, batchSize: Int, order: [Int], data: ImageSet,
        augmentation: Augmentation, scale: [Float], shift: [Float],
        seed: UInt64, epoch: Int
    ) -> Batch {
        let start = b * batchSize
        let end = Swift.min(start + batchSize, order.count)
        let count = end - start
        let size = data.imageSize
        var images = [Float](repeating: 0, count: count * size)
        var labels = [Int32](repeating: 0, count: count)
        var rng = PipelineRandom(seed: seed, stream: [UInt64(epoch), UInt64(b)])
        data.pixels.withUnsafeBufferPointer { px in
            images.withUnsafeMutableBufferPointer { out in
                for j in 0..<count {
                    let i = order[start + j]
                    labels[j] = data.labels[i]
                    augmentation.apply(
                        source: px.baseAddress! + i * size,
                        destination: out.baseAddress! + j * size,
                        channels: data.channels, height: data.height, width: data.width,
                        scale: scale, shift: shift, rng: &rng)
                }
            }
        }
        return Batch(index: b, count: count, images: images, labels: labels)
    }
}
