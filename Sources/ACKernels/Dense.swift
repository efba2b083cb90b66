#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Fully connected layer y = x·Wᵀ + b on plain [N][F] input, weights in 16-output blocks
/// [ceil(O/16)][F][16] (packing `oc16`), bias [ceil(O/16)·16]; output plain [N][O].
/// Four partial accumulators hide FMA latency. Complexity: N · F · O multiply-accumulates.
enum Dense {
    static func run(
        inFeatures f: Int, outFeatures o: Int, activation: Activation, batch: Int,
        x: TensorView, y: TensorView, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        for n in 0..<batch {
            let xp = UnsafePointer<Float>(x.base + n * x.imageStride)
            let yp = y.base + n * y.imageStride
            for b in 0..<ceilDiv(o, 16) {
                let wb = weights + b * f * 16
                var a0 = load16(bias + b * 16)
                var a1 = V16()
                var a2 = V16()
                var a3 = V16()
                var i = 0
                while i + 4 <= f {
                    a0 = a0.madd(xp[i], load16(wb + i * 16))
                    a1 = a1.madd(xp[i + 1], load16(wb + (i + 1) * 16))
                    a2 = a2.madd(xp[i + 2], load16(wb + (i + 2) * 16))
                    a3 = a3.madd(xp[i + 3], load16(wb + (i + 3) * 16))
                    i += 4
                }
                while i < f {
                    a0 = a0.madd(xp[i], load16(wb + i * 16))
                    i += 1
                }
                let v = activate((a0 + a1) + (a2 + a3), activation)
                for l in 0..<kmin(16, o - b * 16) { yp[b * 16 + l] = v[l] }
            }
        }
    }
}
