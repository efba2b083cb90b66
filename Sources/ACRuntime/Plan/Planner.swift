/// Assigns every activation an arena offset by liveness (TFLite Micro's greedy-by-size
/// strategy): the largest buffers are placed first, each at the lowest offset that does not
/// overlap a placed buffer whose lifetime intersects its own. Elementwise ops whose input dies
/// at that op run in place (output aliases input).
///
/// Offsets are computed per image; a session for `maxBatch` images multiplies them (and the
/// arena size) by `maxBatch`, which preserves non-overlap.
struct Plan {
    /// Byte offset per slot for one image (-1 for the model input, which lives in the caller's
    /// buffer).
    var offsets: [Int]
    /// Arena bytes needed per image (a multiple of 64).
    var bytesPerImage: Int

    init(activations: [ActivationDesc], steps: [Step], inputSlot: Int, outputSlot: Int) {
        let n = activations.count
        var first = [Int](repeating: Int.max, count: n)
        var last = [Int](repeating: -1, count: n)
        var alias = Array(0..<n)
        func root(_ s: Int) -> Int {
            var s = s
            while alias[s] != s { s = alias[s] }
            return s
        }
        // Last use of every slot, before any aliasing decision.
        var lastUse = [Int](repeating: -1, count: n)
        for (i, step) in steps.enumerated() {
            for r in step.operands.reads { lastUse[r] = i }
        }
        lastUse[outputSlot] = steps.count
        // In-place: an elementwise op's output takes its first input's buffer when that input
        // dies at this op (and is not read twice by it).
        for (i, step) in steps.enumerated() {
            let (reads, write) = step.operands
            if step.mayRunInPlace, let r = reads.first, r != inputSlot, lastUse[r] == i,
                activations[r].storageElements == activations[write].storageElements,
                !reads.dropFirst().contains(r)
            {
                alias[write] = root(r)
            }
        }
        // Lifetimes of the buffers (roots): from the first write to the last use of any slot
        // sharing the buffer.
        for (i, step) in steps.enumerated() {
            let (reads, write) = step.operands
            for r in reads { last[root(r)] = max(last[root(r)], i) }
            first[root(write)] = min(first[root(write)], i)
            last[root(write)] = max(last[root(write)], i)
        }
        last[root(outputSlot)] = steps.count
        let bytes = activations.map { roundUp($0.storageElements * 4, ACNBFormat.alignment) }

        var order = (0..<n).filter { root($0) == $0 && $0 != inputSlot && last[$0] >= 0 }
        order.sort { bytes[$0] != bytes[$1] ? bytes[$0] > bytes[$1] : $0 < $1 }
        var placed = [(offset: Int, size: Int, first: Int, last: Int)]()
        var offsets = [Int](repeating: -1, count: n)
        var total = 0
        for s in order {
            let live = placed.filter { $0.first <= last[s] && first[s] <= $0.last }.sorted { $0.offset < $1.offset }
            var offset = 0
            for p in live where offset + bytes[s] > p.offset {
                offset = max(offset, p.offset + p.size)
            }
            offsets[s] = offset
            placed.append((offset, bytes[s], first[s], last[s]))
            total = max(total, offset + bytes[s])
        }
        for s in 0..<n where root(s) != s { offsets[s] = offsets[root(s)] }
        self.offsets = offsets
        self.bytesPerImage = total
    }
}

extension Step {
    /// Activation slots read and the slot written.
    var operands: (reads: [Int], write: Int) {
        switch self {
        case .conv(_, let input, let output, let residual, _, _, _),
            .depthwise(_, let input, let output, let residual, _, _),
            .winograd(_, let input, let output, let residual, _, _, _):
            return (residual >= 0 ? [input, residual] : [input], output)
        case .maxPool(_, let input, let output), .avgPool(_, let input, let output):
            return ([input], output)
        case .globalAvgPool(let input, let output), .flatten(let input, let output), .softmax(let input, let output),
            .toBlocked(let input, let output):
            return ([input], output)
        case .linear(_, _, _, let input, let output, _, _):
            return ([input], output)
        case .add(_, let a, let b, let output):
            return ([a, b], output)
        case .concat(let inputs, let output):
            return (inputs, output)
        case .scaleShift(_, let input, let output, _, _):
            return ([input], output)
        case .activation(_, let input, let output):
            return ([input], output)
        case .output(let input, _):
            return ([input], -1)  // the caller's buffer, not an activation slot
        }
    }

    /// True for elementwise ops whose output may overwrite their first input.
    var mayRunInPlace: Bool {
        switch self {
        case .add, .scaleShift, .activation: true
        default: false
        }
    }
}
