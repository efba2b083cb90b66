/// Constants of the .acnb container, versions 1 and 2. docs/FORMAT.md is the normative description;
/// every number here appears there.
public enum ACNBFormat {
    /// The 8 magic bytes: "ACNB", NUL, CR, LF, SUB (like PNG's, catches text-mode corruption).
    public static let magic: [UInt8] = [0x41, 0x43, 0x4E, 0x42, 0x00, 0x0D, 0x0A, 0x1A]
    /// The newest format version this runtime reads. Version 2 adds the op-entry field
    /// `winogradWeight`; the writer writes version 1 when no op uses it, so such files stay
    /// readable by version-1 runtimes.
    public static let version: UInt32 = 2
    /// The oldest format version this runtime reads.
    public static let minimumVersion: UInt32 = 1
    /// Kernel-layout id 1: 16-output-channel blocked weights (see `WeightPacking`).
    public static let kernelLayout: UInt32 = 1
    /// Size in bytes of the fixed header.
    public static let headerSize = 192
    /// Size in bytes of one tensor-table entry.
    public static let tensorEntrySize = 64
    /// Size in bytes of one op-table entry.
    public static let opEntrySize = 128
    /// Alignment in bytes of every constant tensor's data and of the whole file in memory.
    public static let alignment = 64
    /// Lanes of the blocked layouts (output channels per weight block, channels per activation
    /// block). One block is one AVX-512 register, two AVX2 registers or four NEON registers.
    public static let blockSize = 16
    /// Output extent of max/avg pooling along one axis (PyTorch): ⌊ or ⌈(n + padBegin + padEnd
    /// − kernel)/stride⌉ + 1, where in ceil mode a last window that would start in the end
    /// padding is dropped. nil if the window is larger than the padded input.
    public static func poolOutputExtent(
        _ n: Int, kernel k: Int, stride s: Int, padBegin: Int, padEnd: Int,
        ceilMode: Bool
    ) -> Int? {
        let num = n + padBegin + padEnd - k
        guard num >= 0 else { return nil }
        var out = (ceilMode ? (num + s - 1) / s : num / s) + 1
        if ceilMode && (out - 1) * s >= n + padBegin { out -= 1 }
        return out
    }

    /// The "no tensor" / "no string" index.
    public static let none: UInt32 = 0xFFFF_FFFF
    /// Maximum number of activation inputs of one op.
    public static let maxOpInputs = 4
    /// Number of `Int32` parameters in an op entry.
    public static let paramCount = 16

    /// Resource limits checked at load, so a hostile file cannot make the runtime allocate or
    /// compute without bound.
    public static let maxTensors = 1 << 16
    public static let maxOps = 1 << 16
    public static let maxLabels = 1 << 20
    public static let maxDimension = 1 << 20
    /// Largest number of elements of one tensor (per image for activations): 2³¹ − 1 on every
    /// target. Spelled `Int(Int32.max)`: `1 << 31 - 1` overflows where `Int` is 32 bits
    /// (`1 << 31` is `Int32.min` there), and the global's initialiser trapped on Cortex-M.
    public static let maxElements = Int(Int32.max)

    /// Byte offsets of the header fields.
    public enum Header {
        public static let magic = 0
        public static let version = 8
        public static let kernelLayout = 12
        public static let fileSize = 16
        public static let checksum = 24
        public static let headerSize = 28
        public static let tensorCount = 32
        public static let opCount = 36
        public static let tensorTableOffset = 40
        public static let opTableOffset = 48
        public static let stringTableOffset = 56
        public static let stringTableSize = 64
        public static let labelCount = 72
        public static let labelTableOffset = 80
        public static let inputTensor = 88
        public static let outputTensor = 92
        public static let channelOrder = 96
        /// Reserved, 0: the word at 100 and the bytes from 136 to the end of the header.
        public static let reserved = 100
        public static let reservedTail = 136
        public static let mean = 104
        public static let std = 120
    }

    /// Byte offsets of the tensor-entry fields.
    public enum TensorEntry {
        public static let kind = 0
        public static let dtype = 4
        public static let rank = 8
        public static let name = 12
        public static let dims = 16
        public static let dataOffset = 32
        public static let dataSize = 40
        public static let packing = 48
    }

    /// Byte offsets of the op-entry fields.
    public enum OpEntry {
        public static let opcode = 0
        public static let inputCount = 4
        public static let inputs = 8
        public static let output = 24
        public static let weight = 28
        public static let bias = 32
        /// Version 2: constant tensor of Winograd F(4×4, 3×3) weights (packing `winograd43`) of
        /// a conv2d, or `none`. Version 1: reserved, 0.
        public static let winogradWeight = 36
        public static let params = 40
    }
}

/// What a tensor-table entry describes.
public enum TensorKind: UInt32, Sendable {
    /// Produced by an op (or the model input) at run time; dims are per image, dims[0] == 1.
    case activation = 1
    /// Stored in the file (weights, biases); dims[0] is the element count (rank 1).
    case constant = 2
}

/// Element type. Only float32 exists in version 1.
public enum DataType: UInt32, Sendable {
    case float32 = 1
}

/// How a constant's elements are arranged (the kernels' layouts, docs/FORMAT.md §Packing).
public enum WeightPacking: UInt32, Sendable {
    /// Plain row-major, as written (biases, Linear/scale-shift vectors are padded to 16).
    case plain = 0
    /// Convolution/Linear weights in 16-output-channel blocks, block-diagonal for groups:
    /// for block b: [inputChannelCount(b)][KH][KW][16].
    case oc16 = 1
    /// Depthwise convolution (groups == C == O): [ceil(C/16)][KH][KW][16].
    case depthwise16 = 2
    /// Winograd F(4×4, 3×3) weights U = G·g·Gᵀ of a 3×3, stride-1, groups-1 conv2d:
    /// [ceil(O/16)][36][C][16] (`Winograd`). Format version 2.
    case winograd43 = 3
    /// Winograd F(2×2, 5×5) weights of a 5×5, stride-1, groups-1 conv2d, same layout. Format
    /// version 2.
    case winograd25 = 4

    /// The Winograd packing for kernel size 3 or 5.
    public static func winograd(kernel r: Int) -> WeightPacking? {
        switch r {
        case 3: .winograd43
        case 5: .winograd25
        default: nil
        }
    }
}

/// Operator codes of the op table.
public enum OpCode: UInt32, Sendable, CaseIterable {
    case conv2d = 1
    case maxPool = 2
    case avgPool = 3
    case globalAvgPool = 4
    case linear = 5
    case add = 6
    case concat = 7
    case scaleShift = 8
    case flatten = 9
    case softmax = 10
    case activation = 11

    /// Lower-case name used by `acnet inspect` and error messages.
    public var name: String {
        switch self {
        case .conv2d: "conv2d"
        case .maxPool: "max_pool"
        case .avgPool: "avg_pool"
        case .globalAvgPool: "global_avg_pool"
        case .linear: "linear"
        case .add: "add"
        case .concat: "concat"
        case .scaleShift: "scale_shift"
        case .flatten: "flatten"
        case .softmax: "softmax"
        case .activation: "activation"
        }
    }
}

/// Channel order of an image input (`acnet_channel_order`).
public enum ChannelOrder: UInt32, Sendable {
    case gray = 0
    case rgb = 1
    case bgr = 2
    /// The input is not an image; feed raw tensors.
    case none = 3
}

/// Indices into an op's 16 `Int32` parameters, per op kind (docs/FORMAT.md §Ops).
public enum ConvParam {
    public static let kernelH = 0, kernelW = 1, strideH = 2, strideW = 3
    public static let padTop = 4, padLeft = 5, padBottom = 6, padRight = 7
    public static let dilationH = 8, dilationW = 9, groups = 10, activation = 11
    public static let outputChannels = 12
}

/// Parameter indices of max/avg pooling.
public enum PoolParam {
    public static let kernelH = 0, kernelW = 1, strideH = 2, strideW = 3
    public static let padTop = 4, padLeft = 5, padBottom = 6, padRight = 7
    public static let ceilMode = 8, countIncludePad = 9
}
