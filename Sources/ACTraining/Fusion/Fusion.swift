/// Why a trained network cannot be fused or exported.
public enum FusionError: Error, CustomStringConvertible, Equatable {
    /// A BatchNorm still holds its initial statistics (mean 0, var 1): the model was never run
    /// in training mode (or its checkpoint lacks them); fusion needs running statistics.
    case noRunningStatistics(String)
    /// The runtime convolves with zero padding only (docs/DESIGN.md §3).
    case unsupportedPaddingMode(String, PaddingMode)
    /// A module the exporter does not know how to lower.
    case unsupportedModule(String, String)

    public var description: String {
        switch self {
        case .noRunningStatistics(let n):
            return
                "BatchNorm '\(n)' has no running statistics (still mean 0 / var 1); train or load a checkpoint before fusing"
        case .unsupportedPaddingMode(let n, let m):
            return
                "layer '\(n)' uses padding mode '\(m.rawValue)'; the runtime pads with zeros only, so it cannot be exported"
        case .unsupportedModule(let n, let t):
            return "cannot export module '\(n)' of type \(t)"
        }
    }
}

/// One ordinary convolution with bias: the result of fusing an ACB or folding a BatchNorm.
/// `weight` is OIHW; `bias` has O entries.
public struct FusedConv: Sendable {
    public var weight: Tensor
    public var bias: [Float]
    public var stride: (height: Int, width: Int)
    public var padding: Padding2D
    public var dilation: (height: Int, width: Int)
    public var groups: Int
    public var paddingMode: PaddingMode

    public var outputChannels: Int { weight.shape[0] }
    public var inputChannels: Int { weight.shape[1] * groups }
    public var kernelSize: (height: Int, width: Int) { (weight.shape[2], weight.shape[3]) }

    /// An equivalent `Conv2d` module (for evaluation in Swift).
    public func makeConv2d() -> Conv2d {
        let c = Conv2d(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: (kernelSize.height, kernelSize.width), stride: (stride.height, stride.width),
            padding: padding, dilation: (dilation.height, dilation.width), groups: groups,
            bias: true, paddingMode: paddingMode)
        c.weight.value = weight
        c.bias!.value = Tensor(shape: [outputChannels], data: bias)
        return c
    }
}

/// Structural re-parameterisation (docs/DESIGN.md §3; ACNet paper §3.3, "BN fusion" and "branch fusion").
public enum Fusion {
    /// True when `bn` holds statistics other than its initial mean 0 / var 1.
    public static func hasRunningStatistics(_ bn: BatchNorm2d) -> Bool {
        !(bn.runningMean.value.data.allSatisfy { $0 == 0 } && bn.runningVar.value.data.allSatisfy { $0 == 1 })
    }

    /// Per-channel t = γ/√(running_var + eps) and b' = β − running_mean·t (γ = 1, β = 0
    /// without affine). Throws if `bn` has no running statistics.
    public static func scaleShift(_ bn: BatchNorm2d, name: String = "") throws -> (scale: [Float], shift: [Float]) {
        guard hasRunningStatistics(bn) else { throw FusionError.noRunningStatistics(name) }
        return bn.evalScaleShift()
    }

    /// conv (optional bias b0) followed by BN → one conv: W' = W·t, b' = t·b0 + β − μ·t.
    public static func fold(_ conv: Conv2d, _ bn: BatchNorm2d?, name: String = "") throws -> FusedConv {
        var w = conv.weight.value
        var b = conv.bias?.value.data ?? [Float](repeating: 0, count: conv.outputChannels)
        if let bn {
            let (t, shift) = try scaleShift(bn, name: name.isEmpty ? "bn" : name + ".bn")
            let per = w.count / conv.outputChannels
            for o in 0..<conv.outputChannels {
                for i in 0..<per { w.data[o * per + i] *= t[o] }
                b[o] = b[o] * t[o] + shift[o]
            }
        }
        return FusedConv(
            weight: w, bias: b, stride: conv.stride, padding: conv.padding,
            dilation: conv.dilation, groups: conv.groups, paddingMode: conv.paddingMode)
    }

    /// ACB → one KxK conv with bias (docs/DESIGN.md §3): fold each branch's BN into its kernel, add the
    /// Kx1 kernel into column K/2 and the 1xK kernel into row K/2 of the square kernel, sum the
    /// biases. Exact for every alignment case (crop or not, any dilation, any padding mode):
    /// the fused conv has the square branch's geometry.
    public static func fuse(_ acb: ACBlock, name: String = "") throws -> FusedConv {
        let prefix = name.isEmpty ? "" : name + "."
        let afterSum = acb.normalization == .afterSum
        var fused = try fold(acb.squareConv, afterSum ? nil : acb.squareBN, name: prefix + "square")
        let K = acb.kernelSize
        let O = acb.outputChannels
        let cg = acb.inputChannels / acb.groups
        if let verConv = acb.verConv {
            let v = try fold(verConv, acb.verBN, name: prefix + "ver")
            for o in 0..<O {
                for c in 0..<cg {
                    for kh in 0..<K {
                        fused.weight.data[((o * cg + c) * K + kh) * K + K / 2] += v.weight.data[(o * cg + c) * K + kh]
                    }
                }
                fused.bias[o] += v.bias[o]
            }
        }
        if let horConv = acb.horConv {
            let h = try fold(horConv, acb.horBN, name: prefix + "hor")
            for o in 0..<O {
                for c in 0..<cg {
                    for kw in 0..<K {
                        fused.weight.data[((o * cg + c) * K + K / 2) * K + kw] += h.weight.data[(o * cg + c) * K + kw]
                    }
                }
                fused.bias[o] += h.bias[o]
            }
        }
        if afterSum {
            // One BN after the sum: fold it into the summed kernel (W·t, t·b + β − μ·t).
            let (t, shift) = try scaleShift(acb.squareBN, name: prefix + "bn")
            let per = fused.weight.count / O
            for o in 0..<O {
                for i in 0..<per { fused.weight.data[o * per + i] *= t[o] }
                fused.bias[o] = fused.bias[o] * t[o] + shift[o]
            }
        }
        return fused
    }
}
