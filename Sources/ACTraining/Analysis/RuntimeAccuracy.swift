import ACRuntime

/// Test-set accuracy of .acnb images through ACRuntime, on preprocessed inputs.
public enum RuntimeAccuracy {
    /// Arg-max class per image of `inputs` (count × C × H × W floats, NCHW, already normalised).
    public static func predictions(bytes: [UInt8], inputs: [Float], count: Int, batch: Int = 256) throws -> [Int] {
        let model = try Model(bytes: bytes)
        return try predictions(model: model, inputs: inputs, count: count, batch: batch)
    }

    /// Arg-max class per image (ties: the first); one session, `batch` images per run, direct
    /// convolution only (the analyses edit the direct weights; `ACNBWeights`).
    public static func predictions(model: Model, inputs: [Float], count: Int, batch: Int = 256) throws -> [Int] {
        let session = try Session(model: model, options: SessionOptions(maxBatch: batch, useWinograd: false))
        let per = model.inputElementCount
        let classes = model.outputElementCount
        var out = [Int]()
        out.reserveCapacity(count)
        var logits = [Float](repeating: 0, count: batch * classes)
        var start = 0
        while start < count {
            let n = min(batch, count - start)
            try inputs.withUnsafeBufferPointer { i in
                try logits.withUnsafeMutableBufferPointer { o in
                    try session.run(
                        input: i.baseAddress! + start * per, inputCount: n * per, output: o.baseAddress!,
                        outputCount: n * classes, batch: n)
                }
            }
            if let bad = logits[0..<(n * classes)].firstIndex(where: { !$0.isFinite }) {
                throw DataError.invalid(
                    "the model's output for image \(start + bad / classes) is \(logits[bad]) (not finite)")
            }
            for r in 0..<n {
                var best = 0
                for k in 1..<classes where logits[r * classes + k] > logits[r * classes + best] { best = k }
                out.append(best)
            }
            start += n
        }
        return out
    }

    /// Fraction of `labels` predicted correctly.
    public static func accuracy(bytes: [UInt8], inputs: [Float], labels: [Int], batch: Int = 256) throws -> Double {
        let p = try predictions(bytes: bytes, inputs: inputs, count: labels.count, batch: batch)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }
}
