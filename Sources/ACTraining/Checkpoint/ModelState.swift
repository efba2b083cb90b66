/// Maps a model's parameters and buffers (``Module/namedParameters(prefix:)``,
/// ``Module/namedBuffers(prefix:)``) to safetensors entries with the same PyTorch-style names
/// (`features.0.square_conv.weight`, `features.0.square_bn.running_mean`, `fc.bias`, …), and
/// back. SGD momentum buffers are stored as `optimizer.momentum_buffer.<parameter name>`.
public enum ModelState {
    /// The prefix of SGD momentum-buffer keys.
    public static let momentumPrefix = "optimizer.momentum_buffer."

    /// Adds every parameter and buffer (and, with `includeOptimizer`, every existing momentum
    /// buffer) of `model` to `file` as F32 tensors.
    public static func store(_ model: any Module, into file: inout SafeTensors, includeOptimizer: Bool) {
        for (name, p) in model.namedParameters() {
            file.setFloats(name, shape: p.value.shape, p.value.data)
            if includeOptimizer, let m = p.momentumBuffer {
                file.setFloats(momentumPrefix + name, shape: m.shape, m.data)
            }
        }
        for (name, b) in model.namedBuffers() {
            file.setFloats(name, shape: b.value.shape, b.value.data)
        }
    }

    /// Loads every parameter and buffer of `model` from `file`, in place.
    ///
    /// Momentum buffers are restored when `file` has them (all or none; none leaves them
    /// `nil`, as before the first SGD step). Keys under other non-model prefixes listed in
    /// `ignoring` are skipped.
    ///
    /// - Throws: ``CheckpointError/missingKey(_:)`` for a model tensor absent from the file,
    ///   ``CheckpointError/unexpectedKey(_:)`` for a file tensor the model does not have,
    ///   ``CheckpointError/shapeMismatch(name:expected:found:)``; nothing is modified then.
    public static func load(_ model: any Module, from file: SafeTensors, ignoring prefixes: [String] = []) throws {
        let params = model.namedParameters()
        let buffers = model.namedBuffers()
        var expected = Set<String>()
        var pending = [(Tensor, (Tensor) -> Void)]()
        func take(_ name: String, shape: [Int], assign: @escaping (Tensor) -> Void) throws {
            let (s, values) = try file.floats(name)
            guard s == shape else { throw CheckpointError.shapeMismatch(name: name, expected: shape, found: s) }
            pending.append((Tensor(shape: s, data: values), assign))
        }
        for (name, p) in params {
            expected.insert(name)
            try take(name, shape: p.value.shape) { p.value = $0 }
        }
        for (name, b) in buffers {
            expected.insert(name)
            try take(name, shape: b.value.shape) { b.value = $0 }
        }
        let momentumKeys = file.tensors.keys.filter { $0.hasPrefix(momentumPrefix) }
        if !momentumKeys.isEmpty {
            for (name, p) in params {
                let key = momentumPrefix + name
                expected.insert(key)
                try take(key, shape: p.value.shape) { p.momentumBuffer = $0 }
            }
        }
        for key in file.tensors.keys.sorted() where !expected.contains(key) {
            if prefixes.contains(where: { key.hasPrefix($0) }) { continue }
            throw CheckpointError.unexpectedKey(key)
        }
        for (t, assign) in pending { assign(t) }
    }

    /// Checks that every model tensor of `file` (momentum buffers excluded) holds finite
    /// values and every BatchNorm `running_var` is ≥ 0, as fusion needs (a NaN or ±∞ weight,
    /// or a negative variance, would give a model whose outputs are NaN).
    ///
    /// - Throws: ``CheckpointError/corrupt(_:)`` naming `path`, the tensor, the first bad
    ///   element's index and its value.
    public static func checkFinite(_ file: SafeTensors, path: String) throws {
        for name in file.tensors.keys.sorted() where !name.hasPrefix(momentumPrefix) {
            guard file.tensors[name]?.dtype == "F32" else { continue }
            let values = try file.floats(name).values
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.corrupt(
                    "\(path): tensor '\(name)' holds \(values[i]) at index \(i) (training diverged?)")
            }
            if name.hasSuffix("running_var"), let i = values.firstIndex(where: { $0 < 0 }) {
                throw CheckpointError.corrupt(
                    "\(path): tensor '\(name)' holds the negative variance \(values[i]) at index \(i)")
            }
        }
    }
}
