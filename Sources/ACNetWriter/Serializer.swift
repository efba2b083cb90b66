import ACRuntime
internal import CACNet

extension ModelBuilder {
    /// Serialises the model with `output` as its output (docs/FORMAT.md): header, tensor table,
    /// op table, label table, string table, then every constant at a 64-byte boundary, and the
    /// CRC-32C over the whole image.
    public func serialize(output: TensorRef) throws(WriterError) -> [UInt8] {
        guard !ops.isEmpty else { throw WriterError("the model has no ops") }
        guard output.index != input.index, tensors[output.index].kind == .activation else {
            throw WriterError("the output must be an activation produced by an op")
        }
        // Drop activations nobody writes except the input (none exist by construction).
        let F = ACNBFormat.self
        var strings: [UInt8] = []
        var labelRefs: [UInt32] = []
        for label in labels {
            labelRefs.append(UInt32(strings.count))
            strings += Array(label.utf8.map { $0 == 0 ? 0x3F : $0 })  // NUL would end the C string early
            strings.append(0)
        }
        let tensorTable = F.headerSize
        let opTable = tensorTable + tensors.count * F.tensorEntrySize
        let labelTable = opTable + ops.count * F.opEntrySize
        let stringTable = labelTable + labelRefs.count * 4
        var cursor = roundUp(stringTable + strings.count, F.alignment)
        var dataOffsets = [Int](repeating: 0, count: tensors.count)
        for (i, t) in tensors.enumerated() where t.kind == .constant {
            dataOffsets[i] = cursor
            cursor = roundUp(cursor + t.data.count * 4, F.alignment)
        }
        var b = [UInt8](repeating: 0, count: cursor)
        func put32(_ v: UInt32, _ at: Int) {
            withUnsafeBytes(of: v.littleEndian) { for k in 0..<4 { b[at + k] = $0[k] } }
        }
        func put64(_ v: UInt64, _ at: Int) {
            withUnsafeBytes(of: v.littleEndian) { for k in 0..<8 { b[at + k] = $0[k] } }
        }
        func putF(_ v: Float, _ at: Int) { put32(v.bitPattern, at) }

        let H = ACNBFormat.Header.self
        for k in 0..<8 { b[k] = F.magic[k] }
        // Version 2 only when an op has Winograd weights, so other files stay readable by
        // version-1 runtimes.
        let version: UInt32 = ops.contains { $0.winogradWeight != nil } ? 2 : 1
        put32(version, H.version)
        put32(F.kernelLayout, H.kernelLayout)
        put64(UInt64(cursor), H.fileSize)
        put32(UInt32(F.headerSize), H.headerSize)
        put32(UInt32(tensors.count), H.tensorCount)
        put32(UInt32(ops.count), H.opCount)
        put64(UInt64(tensorTable), H.tensorTableOffset)
        put64(UInt64(opTable), H.opTableOffset)
        put64(UInt64(stringTable), H.stringTableOffset)
        put64(UInt64(strings.count), H.stringTableSize)
        put32(UInt32(labelRefs.count), H.labelCount)
        put64(UInt64(labelRefs.isEmpty ? 0 : labelTable), H.labelTableOffset)
        put32(UInt32(input.index), H.inputTensor)
        put32(UInt32(output.index), H.outputTensor)
        put32(inputSpec.channelOrder.rawValue, H.channelOrder)
        for c in 0..<4 {
            putF(c < inputSpec.mean.count ? inputSpec.mean[c] : 0, H.mean + 4 * c)
            putF(c < inputSpec.std.count ? inputSpec.std[c] : 1, H.std + 4 * c)
        }

        let E = ACNBFormat.TensorEntry.self
        for (i, t) in tensors.enumerated() {
            let e = tensorTable + i * F.tensorEntrySize
            put32(t.kind.rawValue, e + E.kind)
            put32(DataType.float32.rawValue, e + E.dtype)
            put32(UInt32(t.dims.count), e + E.rank)
            put32(F.none, e + E.name)
            for (d, v) in t.dims.enumerated() { put32(UInt32(v), e + E.dims + 4 * d) }
            if t.kind == .constant {
                put64(UInt64(dataOffsets[i]), e + E.dataOffset)
                put64(UInt64(t.data.count * 4), e + E.dataSize)
                put32(t.packing.rawValue, e + E.packing)
                let at = dataOffsets[i]
                t.data.withUnsafeBytes { raw in
                    b.withUnsafeMutableBytes { dst in
                        (dst.baseAddress! + at).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
                    }
                }
            }
        }
        let O = ACNBFormat.OpEntry.self
        for (i, op) in ops.enumerated() {
            let e = opTable + i * F.opEntrySize
            put32(op.code.rawValue, e + O.opcode)
            put32(UInt32(op.inputs.count), e + O.inputCount)
            for k in 0..<F.maxOpInputs {
                put32(k < op.inputs.count ? UInt32(op.inputs[k]) : F.none, e + O.inputs + 4 * k)
            }
            put32(UInt32(op.output), e + O.output)
            put32(op.weight.map { UInt32($0) } ?? F.none, e + O.weight)
            put32(op.bias.map { UInt32($0) } ?? F.none, e + O.bias)
            if version >= 2 { put32(op.winogradWeight.map { UInt32($0) } ?? F.none, e + O.winogradWeight) }
            for (k, p) in op.params.enumerated() { put32(UInt32(bitPattern: p), e + O.params + 4 * k) }
        }
        for (k, r) in labelRefs.enumerated() { put32(r, labelTable + 4 * k) }
        for (k, c) in strings.enumerated() { b[stringTable + k] = c }
        put32(ACNBFormat.checksum(of: b), H.checksum)
        return b
    }

    private func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }
}
