internal import CACNet

/// Parses and validates an .acnb image (docs/FORMAT.md) held in memory.
///
/// Order of checks: size ≥ header, magic, version, kernel layout, declared file size, CRC-32C,
/// then every table, string, tensor and op. Nothing outside `[base, base + count)` is read, and
/// every size derived from file fields is overflow-checked before use.
struct ModelParser {
    let reader: ByteReader

    struct RawTensor {
        var kind: TensorKind
        var rank: Int
        var dims: [Int]
        var dataOffset: Int
        var dataSize: Int
        var packing: WeightPacking
    }

    struct Result {
        var activations: [ActivationDesc]
        var steps: [Step]
        var winograd: [WinogradAlternative]
        var layers: [LayerInfo]
        var inputSlot: Int
        var outputSlot: Int
        var labelOffsets: [Int]
        var labels: [String]
        var channelOrder: ChannelOrder
        var mean: [Float]
        var std: [Float]
    }

    init(base: UnsafeRawPointer, count: Int) {
        reader = ByteReader(base: base, count: count)
    }

    // MARK: Header

    func parse() throws(ACNetError) -> Result {
        let H = ACNBFormat.Header.self
        guard reader.count >= ACNBFormat.headerSize else {
            throw .badFormat("file is \(reader.count) bytes, smaller than the \(ACNBFormat.headerSize)-byte header")
        }
        for i in 0..<8 where reader.base.load(fromByteOffset: i, as: UInt8.self) != ACNBFormat.magic[i] {
            throw .badFormat("not an .acnb file (bad magic bytes)")
        }
        let version = try reader.u32(H.version)
        guard version >= ACNBFormat.minimumVersion, version <= ACNBFormat.version else {
            throw ACNetError(
                .unsupportedVersion,
                "format version \(version) is not supported (this runtime reads versions \(ACNBFormat.minimumVersion)...\(ACNBFormat.version))"
            )
        }
        let layout = try reader.u32(H.kernelLayout)
        guard layout == ACNBFormat.kernelLayout else {
            throw ACNetError(
                .unsupportedVersion,
                "kernel layout \(layout) is not supported (this runtime reads layout \(ACNBFormat.kernelLayout))")
        }
        let fileSize = try reader.u64(H.fileSize)
        guard fileSize == UInt64(reader.count) else {
            throw .badFormat(
                "header declares \(fileSize) bytes but \(reader.count) are present (truncated or padded file)")
        }
        let headerSize = try reader.u32(H.headerSize)
        guard headerSize == UInt32(ACNBFormat.headerSize) else {
            throw .badFormat("header size \(headerSize) is not \(ACNBFormat.headerSize)")
        }
        let stored = try reader.u32(H.checksum)
        guard stored == Self.checksum(reader.base, reader.count) else {
            throw ACNetError(.checksumMismatch, "CRC-32C mismatch: the file is corrupt")
        }

        for at in stride(from: H.reserved, to: H.mean, by: 4) where try reader.u32(at) != 0 {
            throw .badFormat("header: reserved field at byte \(at) is not 0")
        }
        for at in stride(from: H.reservedTail, to: ACNBFormat.headerSize, by: 4) where try reader.u32(at) != 0 {
            throw .badFormat("header: reserved field at byte \(at) is not 0")
        }
        let strings = try stringTable()
        let tensors = try parseTensors(strings)
        let (labelOffsets, labels) = try parseLabels(strings)

        let inputIndex = Int(try reader.u32(H.inputTensor))
        let outputIndex = Int(try reader.u32(H.outputTensor))
        guard inputIndex < tensors.count, tensors[inputIndex].kind == .activation else {
            throw .badFormat("input tensor index \(inputIndex) does not name an activation")
        }
        guard outputIndex < tensors.count, tensors[outputIndex].kind == .activation, outputIndex != inputIndex else {
            throw .badFormat("output tensor index \(outputIndex) does not name an activation other than the input")
        }
        guard tensors[inputIndex].rank == 4 else {
            throw ACNetError(.unsupportedOp, "the model input must be rank 4 (N, C, H, W)")
        }

        let orderRaw = try reader.u32(H.channelOrder)
        guard let order = ChannelOrder(rawValue: orderRaw) else {
            throw .badFormat("unknown channel order \(orderRaw)")
        }
        let inputC = tensors[inputIndex].dims[1]
        switch order {
        case .gray where inputC != 1, .rgb where inputC != 3, .bgr where inputC != 3:
            throw .badFormat("channel order \(order) does not match the input's \(inputC) channels")
        default: break
        }
        var mean = [Float]()
        var std = [Float]()
        for i in 0..<4 {
            let m = try reader.f32(H.mean + 4 * i)
            let s = try reader.f32(H.std + 4 * i)
            // A subnormal std (e.g. 1e-45) turns every normalised input into ±∞.
            guard m.isFinite, s.isNormal, s > 0 else {
                throw .badFormat("input spec mean/std [\(i)] must be finite with std a normal positive number")
            }
            mean.append(m)
            std.append(s)
        }

        var graph = try GraphBuilder(reader: reader, tensors: tensors, inputIndex: inputIndex, version: version)
        try graph.parseOps()
        guard graph.written[outputIndex] else {
            throw .badFormat("output tensor \(outputIndex) is never written by an op")
        }
        return Result(
            activations: graph.activations, steps: graph.steps, winograd: graph.winograd,
            layers: graph.layers, inputSlot: graph.slotOfTensor[inputIndex],
            outputSlot: graph.slotOfTensor[outputIndex], labelOffsets: labelOffsets, labels: labels,
            channelOrder: order, mean: mean, std: std)
    }

    /// CRC-32C of the whole image with the 4-byte checksum field read as zero.
    static func checksum(_ base: UnsafeRawPointer, _ count: Int) -> UInt32 {
        let at = ACNBFormat.Header.checksum
        var crc = acnet_support_crc32c(0, base, at)
        var zero: UInt32 = 0
        crc = acnet_support_crc32c(crc, &zero, 4)
        return acnet_support_crc32c(crc, base + at + 4, count - at - 4)
    }

    // MARK: Tables

    private func table(
        _ countField: Int, _ offsetField: Int, entrySize: Int, limit: Int, _ what: String
    )
        throws(ACNetError) -> (count: Int, offset: Int)
    {
        let count = Int(try reader.u32(countField))
        guard count <= limit else { throw .badFormat("\(what) count \(count) exceeds the limit \(limit)") }
        let offset = try reader.offset(offsetField, "\(what) table offset")
        try reader.range(offset, try Checked.mul(count, entrySize, "\(what) table size"), "the \(what) table")
        guard count == 0 || offset >= ACNBFormat.headerSize else {
            throw .badFormat("the \(what) table overlaps the header")
        }
        return (count, offset)
    }

    private func parseTensors(_ strings: (offset: Int, size: Int)) throws(ACNetError) -> [RawTensor] {
        let H = ACNBFormat.Header.self
        let E = ACNBFormat.TensorEntry.self
        let (count, offset) = try table(
            H.tensorCount, H.tensorTableOffset, entrySize: ACNBFormat.tensorEntrySize,
            limit: ACNBFormat.maxTensors, "tensor")
        guard count >= 2 else { throw .badFormat("a model needs at least an input and an output tensor") }
        var tensors = [RawTensor]()
        tensors.reserveCapacity(count)
        var extents = [(Int, Int)]()
        for i in 0..<count {
            let e = offset + i * ACNBFormat.tensorEntrySize
            let kindRaw = try reader.u32(e + E.kind)
            guard let kind = TensorKind(rawValue: kindRaw) else {
                throw .badFormat("tensor \(i): unknown kind \(kindRaw)")
            }
            let dtype = try reader.u32(e + E.dtype)
            guard DataType(rawValue: dtype) != nil else {
                throw ACNetError(.unsupportedOp, "tensor \(i): unsupported data type \(dtype)")
            }
            let rank = Int(try reader.u32(e + E.rank))
            var dims = [Int]()
            var elements = 1
            switch kind {
            case .activation:
                guard rank == 2 || rank == 4 else {
                    throw .badFormat("tensor \(i): activation rank \(rank) (must be 2 or 4)")
                }
            case .constant:
                guard rank == 1 else { throw .badFormat("tensor \(i): constant rank \(rank) (must be 1)") }
            }
            for d in 0..<4 {
                let v = Int(try reader.u32(e + E.dims + 4 * d))
                if d < rank {
                    guard v >= 1, v <= (kind == .constant ? ACNBFormat.maxElements : ACNBFormat.maxDimension) else {
                        throw .badFormat("tensor \(i): dimension \(d) is \(v)")
                    }
                    elements = try Checked.mul(elements, v, "tensor \(i) element count")
                    guard elements <= ACNBFormat.maxElements else {
                        throw .badFormat("tensor \(i) has too many elements")
                    }
                    dims.append(v)
                } else if v != 0 {
                    throw .badFormat("tensor \(i): unused dimension \(d) must be 0")
                }
            }
            if kind == .activation && dims[0] != 1 {
                throw .badFormat("tensor \(i): activations are stored with batch 1, found \(dims[0])")
            }
            let dataOffset = try reader.offset(e + E.dataOffset, "tensor \(i) data offset")
            let dataSize = try reader.offset(e + E.dataSize, "tensor \(i) data size")
            let name = try reader.u32(e + E.name)
            if name != ACNBFormat.none { _ = try string(at: Int(name), in: strings, "tensor \(i) name") }
            for k in stride(from: E.packing + 4, to: ACNBFormat.tensorEntrySize, by: 4) where try reader.u32(e + k) != 0
            {
                throw .badFormat("tensor \(i): reserved bytes are not 0")
            }
            let packingRaw = try reader.u32(e + E.packing)
            guard let packing = WeightPacking(rawValue: packingRaw) else {
                throw ACNetError(.unsupportedOp, "tensor \(i): unknown packing \(packingRaw)")
            }
            if kind == .constant {
                guard dataSize == elements * 4 else {
                    throw .badFormat("tensor \(i): data size \(dataSize) is not 4 × \(elements) elements")
                }
                guard dataOffset % ACNBFormat.alignment == 0 else {
                    throw .badFormat(
                        "tensor \(i): data offset \(dataOffset) is not \(ACNBFormat.alignment)-byte aligned")
                }
                guard dataOffset >= ACNBFormat.headerSize else {
                    throw .badFormat("tensor \(i): data overlaps the header")
                }
                try reader.range(dataOffset, dataSize, "tensor \(i) data")
                extents.append((dataOffset, dataSize))
            } else {
                guard dataOffset == 0, dataSize == 0, packing == .plain else {
                    throw .badFormat("tensor \(i): an activation has no data")
                }
            }
            tensors.append(
                RawTensor(
                    kind: kind, rank: rank, dims: dims, dataOffset: dataOffset,
                    dataSize: dataSize, packing: packing))
        }
        extents.sort { $0.0 < $1.0 }
        for j in extents.indices.dropFirst() where extents[j - 1].0 + extents[j - 1].1 > extents[j].0 {
            throw .badFormat("constant tensors overlap at byte \(extents[j].0)")
        }
        return tensors
    }

    private func stringTable() throws(ACNetError) -> (offset: Int, size: Int) {
        let H = ACNBFormat.Header.self
        let offset = try reader.offset(H.stringTableOffset, "string table offset")
        let size = try reader.offset(H.stringTableSize, "string table size")
        try reader.range(offset, size, "the string table")
        guard size == 0 || offset >= ACNBFormat.headerSize else {
            throw .badFormat("the string table overlaps the header")
        }
        return (offset, size)
    }

    /// Validates a string reference and returns its length (bytes before the NUL).
    private func string(at ref: Int, in table: (offset: Int, size: Int), _ what: String) throws(ACNetError) -> Int {
        guard ref < table.size else { throw .badFormat("\(what): string offset \(ref) outside the string table") }
        let start = table.offset + ref
        var n = 0
        while true {
            guard ref + n < table.size else { throw .badFormat("\(what): string is not NUL-terminated") }
            if reader.base.load(fromByteOffset: start + n, as: UInt8.self) == 0 { return n }
            n += 1
        }
    }

    private func parseLabels(_ strings: (offset: Int, size: Int)) throws(ACNetError) -> ([Int], [String]) {
        let H = ACNBFormat.Header.self
        let (count, offset) = try table(
            H.labelCount, H.labelTableOffset, entrySize: 4, limit: ACNBFormat.maxLabels, "label")
        guard count > 0 || offset == 0 else {
            throw .badFormat("label table offset \(offset) with no labels (must be 0)")
        }
        var offsets = [Int]()
        var labels = [String]()
        for i in 0..<count {
            let ref = Int(try reader.u32(offset + 4 * i))
            let length = try string(at: ref, in: strings, "label \(i)")
            let start = strings.offset + ref
            let bytes = UnsafeRawBufferPointer(start: reader.base + start, count: length)
            labels.append(String(decoding: bytes, as: UTF8.self))
            offsets.append(start)
        }
        return (offsets, labels)
    }
}

extension ACNBFormat {
    /// The CRC-32C an .acnb image must carry in its checksum field: over the whole image with
    /// the checksum field's 4 bytes taken as zero. Used by writers and by tests that mutate
    /// files and re-seal them.
    public static func checksum(of bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { ModelParser.checksum($0.baseAddress!, $0.count) }
    }
}
