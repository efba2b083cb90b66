import ACRuntime

/// Read and edit access to the convolution weights of an .acnb image (docs/FORMAT.md), as the
/// kernel-skeleton analysis and the pruning experiment need: unpacks `oc16` / `depthwise16`
/// weights to OIHW, locates the packed element of any (o, c, kh, kw), zeroes elements in place
/// and re-seals the CRC-32C. The image is first loaded by ACRuntime (`Model(bytes:)`), so every
/// offset read here has been validated. Edits touch the direct weights only: evaluate edited
/// images with `SessionOptions(useWinograd: false)` (a conv's Winograd weights, if the file has
/// them, are not edited).
public struct ACNBWeights {
    /// One conv2d op of the file.
    public struct Convolution: Sendable {
        /// `conv<i>`: the i-th conv2d op in execution order.
        public var name: String
        /// Index of the op in the op table.
        public var opIndex: Int
        public var outputChannels: Int
        /// C, input channels of the op.
        public var inputChannels: Int
        public var groups: Int
        public var kernelHeight: Int
        public var kernelWidth: Int
        public var packing: WeightPacking
        /// Byte offset of the weight constant's data in the image.
        public var dataOffset: Int
        /// Element offset of each 16-output-channel block (`oc16`).
        var blockStarts: [Int]
        /// Cg = C / groups.
        public var inputChannelsPerGroup: Int { inputChannels / groups }
        public var weightCount: Int { outputChannels * inputChannelsPerGroup * kernelHeight * kernelWidth }
    }

    /// The .acnb image (checksum valid after `reseal()`).
    public private(set) var bytes: [UInt8]
    public let convolutions: [Convolution]

    /// Parses the conv2d ops of an .acnb image.
    /// - Throws: `ACNetError` if ACRuntime rejects the image.
    public init(bytes: [UInt8]) throws {
        _ = try Model(bytes: bytes)  // full validation (bounds, sizes, packing) before reading
        self.bytes = bytes
        func u32(_ at: Int) -> Int {
            bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian) }
        }
        func u64(_ at: Int) -> Int {
            bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian) }
        }
        let H = ACNBFormat.Header.self
        let T = ACNBFormat.TensorEntry.self
        let O = ACNBFormat.OpEntry.self
        let tensorTable = u64(H.tensorTableOffset)
        let opTable = u64(H.opTableOffset)
        func tensor(_ i: Int) -> Int { tensorTable + i * ACNBFormat.tensorEntrySize }
        var convs = [Convolution]()
        for op in 0..<u32(H.opCount) {
            let e = opTable + op * ACNBFormat.opEntrySize
            guard u32(e + O.opcode) == Int(OpCode.conv2d.rawValue) else { continue }
            func param(_ k: Int) -> Int { u32(e + O.params + 4 * k) }
            let input = tensor(u32(e + O.inputs))
            let weight = tensor(u32(e + O.weight))
            let o = param(ConvParam.outputChannels)
            let c = u32(input + T.dims + 4)
            let g = param(ConvParam.groups)
            let kh = param(ConvParam.kernelH)
            let kw = param(ConvParam.kernelW)
            let packing = WeightPacking(rawValue: UInt32(u32(weight + T.packing))) ?? .plain
            var starts = [Int]()
            if packing == .oc16 {
                let og = o / g
                let cg = c / g
                var at = 0
                for b in 0..<((o + 15) / 16) {
                    starts.append(at)
                    let g0 = (16 * b) / og
                    let g1 = min(16 * b + 15, o - 1) / og
                    at += (g1 - g0 + 1) * cg * kh * kw * 16
                }
            }
            convs.append(
                Convolution(
                    name: "conv\(convs.count)", opIndex: op, outputChannels: o, inputChannels: c,
                    groups: g, kernelHeight: kh, kernelWidth: kw, packing: packing,
                    dataOffset: u64(weight + T.dataOffset), blockStarts: starts))
        }
        convolutions = convs
    }

    /// Byte offset in the image of weight W[o][c][kh][kw] of convolution `i` (c within the
    /// group, 0 ≤ c < Cg), following docs/FORMAT.md §Packing.
    public func byteOffset(convolution i: Int, o: Int, c: Int, kh: Int, kw: Int) -> Int {
        let v = convolutions[i]
        let kk = v.kernelHeight * v.kernelWidth
        let t = kh * v.kernelWidth + kw
        let element: Int
        switch v.packing {
        case .depthwise16:
            element = ((o / 16) * kk + t) * 16 + o % 16
        case .oc16:
            let og = v.outputChannels / v.groups
            let cg = v.inputChannelsPerGroup
            let b = o / 16
            let g = o / og
            let g0 = (16 * b) / og
            let local = g * cg + c - g0 * cg
            element = v.blockStarts[b] + (local * kk + t) * 16 + o % 16
        case .winograd43, .winograd25:
            preconditionFailure("a conv2d's weight is never a Winograd packing (the loader checked it)")
        case .plain:
            element = ((o * v.inputChannelsPerGroup + c) * v.kernelHeight + kh) * v.kernelWidth + kw
        }
        return v.dataOffset + 4 * element
    }

    /// The weights of convolution `i`, unpacked to OIHW.
    public func kernel(_ i: Int) -> ConvKernel {
        let v = convolutions[i]
        var w = [Float](repeating: 0, count: v.weightCount)
        bytes.withUnsafeBytes { raw in
            var n = 0
            for o in 0..<v.outputChannels {
                for c in 0..<v.inputChannelsPerGroup {
                    for kh in 0..<v.kernelHeight {
                        for kw in 0..<v.kernelWidth {
                            let at = byteOffset(convolution: i, o: o, c: c, kh: kh, kw: kw)
                            w[n] = Float(
                                bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                            n += 1
                        }
                    }
                }
            }
        }
        return ConvKernel(
            name: v.name, outputChannels: v.outputChannels, inputChannelsPerGroup: v.inputChannelsPerGroup,
            kernelHeight: v.kernelHeight, kernelWidth: v.kernelWidth, weight: w)
    }

    /// Every convolution's weights, OIHW, in execution order.
    public var kernels: [ConvKernel] { convolutions.indices.map(kernel) }

    /// Sets the 4 bytes at each byte offset (from `byteOffset`) to +0.0. Call `reseal()` after.
    public mutating func zero(byteOffsets: some Sequence<Int>) {
        bytes.withUnsafeMutableBytes { raw in
            for at in byteOffsets { raw.storeBytes(of: 0, toByteOffset: at, as: UInt32.self) }
        }
    }

    /// Rewrites the header's CRC-32C for the current bytes.
    public mutating func reseal() {
        let crc = ACNBFormat.checksum(of: bytes).littleEndian
        bytes.withUnsafeMutableBytes {
            $0.storeBytes(of: crc, toByteOffset: ACNBFormat.Header.checksum, as: UInt32.self)
        }
    }
}
