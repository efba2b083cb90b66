// A dense float32 tensor for the training side.

/// A dense, row-major float32 tensor with value semantics.
///
/// Layout: the last dimension varies fastest. Image batches are NCHW
/// (`[batch, channels, height, width]`), convolution weights OIHW
/// (`[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`), linear weights
/// `[outputFeatures, inputFeatures]` (PyTorch's layouts, so checkpoints map one to one).
///
/// Storage is a Swift `[Float]`; copying a tensor is O(1) until one copy is mutated
/// (copy-on-write). Hot loops go through `withUnsafeBufferPointer` /
/// `withUnsafeMutableBufferPointer` to avoid per-element bounds checks.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first. A scalar has shape `[]` and one element.
    public var shape: [Int]
    /// Elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `data` (row-major); the counts must agree.
    public init(shape: [Int], data: [Float]) {
        precondition(
            shape.reduce(1, *) == data.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of `shape` whose elements are unspecified (for outputs that are overwritten
    /// completely; skips the zero fill).
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: shape.reduce(1, *)) { _, n in
            n = shape.reduce(1, *)
        }
    }

    /// A zero tensor of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    /// A zero tensor with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { Tensor(shape: other.shape) }

    /// Number of elements.
    public var count: Int { data.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Returns the same elements under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Element at a multi-index (slow; for tests and small setup code).
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    /// Row-major offset of a multi-index.
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) for shape \(shape)")
        var o = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "Tensor: index \(index) out of range for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    /// Calls `body` with the elements as an unsafe buffer (no bounds checks in hot loops).
    @inlinable
    public func withUnsafeBufferPointer<R>(
        _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try data.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the elements as a mutable unsafe buffer.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try data.withUnsafeMutableBufferPointer(body)
    }

    /// Sets every element to zero, keeping the shape and the storage.
    public mutating func zero() {
        data.withUnsafeMutableBufferPointer { p in
            p.update(repeating: 0)
        }
    }

    /// `self += other` elementwise (shapes must hold the same element count); large tensors
    /// are split over `trainingThreadCount` threads in 4096-float blocks (elementwise, so the
    /// result does not depend on the split).
    public mutating func add(_ other: Tensor) {
        precondition(count == other.count, "Tensor.add: \(shape) vs \(other.shape)")
        let n = count
        guard n > 0 else { return }
        data.withUnsafeMutableBufferPointer { d in
            other.data.withUnsafeBufferPointer { s in
                let box = UnsafeSendableBox((s.baseAddress!, d.baseAddress!))
                parallelChunks((n + 4095) / 4096, minWork: n) { blocks in
                    let (s, d) = box.value
                    let lo = blocks.lowerBound * 4096
                    let hi = min(n, blocks.upperBound * 4096)
                    vadd(s + lo, d + lo, hi - lo)
                }
            }
        }
    }

    /// `self *= s` elementwise.
    public mutating func scale(by s: Float) {
        data.withUnsafeMutableBufferPointer { d in
            for i in 0..<d.count { d[i] *= s }
        }
    }

    /// Largest absolute element (0 for an empty tensor).
    public var maxAbs: Float {
        data.withUnsafeBufferPointer { p in
            var m: Float = 0
            for v in p { m = max(m, abs(v)) }
            return m
        }
    }

    /// Largest absolute elementwise difference to `other` (same element count).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(count == other.count, "Tensor.maxAbsDifference: \(shape) vs \(other.shape)")
        var m: Float = 0
        for i in 0..<count { m = max(m, abs(data[i] - other.data[i])) }
        return m
    }

    /// Index of the largest element in each row of a `[N, K]` tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "Tensor.argmaxRows needs [N, K], got \(shape)")
        let k = shape[1]
        return (0..<shape[0]).map { n in
            var best = 0
            for j in 1..<max(k, 1) where data[n * k + j] > data[n * k + best] { best = j }
            return best
        }
    }
}
