/// The weights of one convolution, unpacked to plain OIHW:
/// `weight[((o · Cg + c) · KH + kh) · KW + kw]`, O × Cg × KH × KW, Cg = C / groups.
public struct ConvKernel: Sendable, Equatable {
    /// The layer's name (for an .acnb: `conv<i>`, i counting conv2d ops in execution order).
    public var name: String
    public var outputChannels: Int
    /// Input channels per group, Cg.
    public var inputChannelsPerGroup: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    /// O × Cg × KH × KW floats, OIHW.
    public var weight: [Float]

    public init(
        name: String, outputChannels: Int, inputChannelsPerGroup: Int, kernelHeight: Int,
        kernelWidth: Int, weight: [Float]
    ) {
        precondition(
            weight.count == outputChannels * inputChannelsPerGroup * kernelHeight * kernelWidth,
            "ConvKernel \(name): \(weight.count) weights for O×Cg×KH×KW")
        self.name = name
        self.outputChannels = outputChannels
        self.inputChannelsPerGroup = inputChannelsPerGroup
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.weight = weight
    }
}
