// The layer/module API of ACTraining.
//
// # Module API (for the pipeline: trainer, checkpoints, export)
//
// Every layer is a class conforming to `Module`:
//
//     let y = model.forward(x, training: true)   // x: Tensor NCHW (or [N, F]); caches what
//                                                // backward needs (only when training == true)
//     let dx = model.backward(dy)                // dy has y's shape; ACCUMULATES (+=) into
//                                                // every Parameter.grad, returns dL/dx
//     model.zeroGrad()                           // sets every Parameter.grad to 0
//
// `forward(_, training: false)` is the evaluation path (BatchNorm uses running statistics,
// Dropout is the identity) and caches nothing, so it is safe to call between training steps.
// A forward/backward pair must not be interleaved with another forward(training: true).
//
// Names (PyTorch style, used verbatim as safetensors keys by the checkpoint code):
//
//     model.namedParameters()  -> [(String, Parameter)]   // e.g. "stage1.0.conv1.square_conv.weight",
//                                                         //      "stage1.0.conv1.square_bn.bias", "fc.weight"
//     model.namedBuffers()     -> [(String, Buffer)]      // e.g. "stage1.0.conv1.square_bn.running_mean",
//                                                         //      "...running_var" (no num_batches_tracked)
//     model.namedModules()     -> [(String, any Module)]  // every submodule, depth first, "" = root
//
// Parameter and Buffer are reference types: writing `p.value = t` (same shape) loads a tensor in
// place, which is how a checkpoint is restored. `Parameter.momentumBuffer` is the SGD state
// (nil until the first step); save it as e.g. "<name>.momentum_buffer" to resume exactly.
// `Parameter.isBias` (conv/linear bias and BatchNorm beta: the reference's 2× learning rate) and
// `Parameter.isNormalization` (BatchNorm gamma/beta) let the optimiser choose per-parameter
// learning rate and weight decay; see `SGD`.
//
// Performance: all conv/linear math is im2col + OpenBLAS SGEMM; `BLASSetup` makes OpenBLAS use
// its AVX-512/AVX2 kernels (Debian's build falls back to SSE3 "Prescott" on VMs) and runs it
// single-threaded, while ACTraining splits GEMMs and its own loops over `trainingThreadCount`
// threads (default 2). Layers keep their scratch buffers between iterations. Set
// `needsInputGradient = false` on a first Conv2d/ACBlock (the model builders do) to skip the
// useless dL/dimage.
//
// Models are trees: `Sequential` (children "0", "1", …), `BasicBlock` (residual), layers;
// `ConvBNReLU` and `ACBReLU` are fused forms of Sequential(Conv2d, BN, ReLU) / (ACBlock, ReLU)
// with the same parameter names (fewer memory passes per step).
// `ModelRegistry.make(_:acb:seed:)` builds the named models of docs/DESIGN.md §7; `Fusion` / `Exporter`
// turn a trained tree into an .acnb.

/// A trainable tensor with its gradient and optimiser state.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// dLoss/dvalue, accumulated by `backward`; same shape as `value`.
    public var grad: Tensor
    /// SGD momentum buffer (same shape as `value`), created by the optimiser on first use.
    public var momentumBuffer: Tensor?
    /// True for biases (conv/linear bias, BatchNorm beta): the reference recipe gives them 2× LR.
    public let isBias: Bool
    /// True for BatchNorm gamma and beta.
    public let isNormalization: Bool

    public init(_ value: Tensor, isBias: Bool = false, isNormalization: Bool = false) {
        self.value = value
        self.grad = Tensor.zeros(like: value)
        self.isBias = isBias
        self.isNormalization = isNormalization
    }

    /// Sets the gradient to zero.
    public func zeroGrad() { grad.zero() }
}

/// A non-trainable state tensor (BatchNorm running statistics).
public final class Buffer {
    /// The current value.
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
}

/// A layer or a composition of layers with forward and backward passes. See the file header.
public protocol Module: AnyObject {
    /// Computes the output for `x`. With `training == true` it caches what `backward` needs and
    /// BatchNorm uses (and updates) batch statistics.
    func forward(_ x: Tensor, training: Bool) -> Tensor
    /// Given dLoss/doutput of the last training forward, accumulates parameter gradients and
    /// returns dLoss/dinput.
    func backward(_ gradOutput: Tensor) -> Tensor
    /// This module's own parameters, with local names ("weight", "bias").
    var localParameters: [(String, Parameter)] { get }
    /// This module's own buffers, with local names ("running_mean", "running_var").
    var localBuffers: [(String, Buffer)] { get }
    /// Direct submodules with their local names.
    var children: [(String, any Module)] { get }
}

extension Module {
    public var localParameters: [(String, Parameter)] { [] }
    public var localBuffers: [(String, Buffer)] { [] }
    public var children: [(String, any Module)] { [] }

    /// Every parameter of the tree with its dotted PyTorch-style name, depth first.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        var out = localParameters.map { (join(prefix, $0.0), $0.1) }
        for (name, child) in children {
            out += child.namedParameters(prefix: join(prefix, name))
        }
        return out
    }

    /// Every buffer of the tree with its dotted PyTorch-style name, depth first.
    public func namedBuffers(prefix: String = "") -> [(String, Buffer)] {
        var out = localBuffers.map { (join(prefix, $0.0), $0.1) }
        for (name, child) in children {
            out += child.namedBuffers(prefix: join(prefix, name))
        }
        return out
    }

    /// Every module of the tree (self first, named `prefix`), depth first.
    public func namedModules(prefix: String = "") -> [(String, any Module)] {
        var out: [(String, any Module)] = [(prefix, self)]
        for (name, child) in children {
            out += child.namedModules(prefix: join(prefix, name))
        }
        return out
    }

    /// Evaluation-mode forward of the unfused network (running statistics, no dropout, nothing
    /// cached), in batches of at most `batchSize` images along dimension 0: the reference the
    /// exported model is checked against.
    public func evalForward(_ x: Tensor, batchSize: Int = 256) -> Tensor {
        let n = x.shape[0]
        if n <= batchSize { return forward(x, training: false) }
        let per = x.count / n
        var out: [Float] = []
        var outShape: [Int] = []
        for start in stride(from: 0, to: n, by: batchSize) {
            let m = min(batchSize, n - start)
            let part = Tensor(
                shape: [m] + x.shape.dropFirst(),
                data: Array(x.data[(start * per)..<((start + m) * per)]))
            let y = forward(part, training: false)
            out += y.data
            outShape = y.shape
        }
        outShape[0] = n
        return Tensor(shape: outShape, data: out)
    }

    /// All parameters, in `namedParameters` order.
    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// Zeroes every parameter gradient.
    public func zeroGrad() {
        for (_, p) in namedParameters() { p.zeroGrad() }
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }
}

@inline(__always)
func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}
