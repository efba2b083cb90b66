#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Elementwise ops and layout conversions. Rank-4 activations are blocked
/// [N][C/16][H][W][16]; lanes past C (padding) carry unspecified values that no op reads into
/// a valid channel.
enum Elementwise {
    /// y = act(a + b) over `count` elements (the whole batch of storage).
    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    count: Int, activation: Activation)
    {
        var i = 0
        while i + 16 <= count {
            store16(y + i, activate(load16(a + i) + load16(b + i), activation))
            i += 16
        }
        while i < count {
            y[i] = activate(a[i] + b[i], activation)
            i += 1
        }
    }

    /// y = act(x) over `count` elements.
    static func activation(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                           _ act: Activation)
    {
        var i = 0
        while i + 16 <= count {
            store16(y + i, activate(load16(x + i), act))
            i += 16
        }
        while i < count {
            y[i] = activate(x[i], act)
            i += 1
        }
    }

    /// Per-channel y = act(x·scale[c] + shift[c]) on blocked activations.
    static func scaleShift(batch: Int, x: TensorView, y: TensorView, scale: UnsafePointer<Float>,
                           shift: UnsafePointer<Float>, activation: Activation)
    {
        let plane = x.h * x.w
        for n in 0..<batch {
            for b in 0..<ceilDiv(x.c, 16) {
                let s = load16(scale + b * 16), t = load16(shift + b * 16)
                let xb = UnsafePointer(x.base + n * x.imageStride + b * plane * 16)
                let yb = y.base + n * y.imageStride + b * plane * 16
                for p in 0..<plane {
                    store16(yb + p * 16, activate(t.madd(load16(xb + p * 16), s), activation))
                }
            }
        }
    }

    /// Concatenation along channels of blocked activations.
    static func concat(batch: Int, inputs: UnsafeBufferPointer<TensorView>, y: TensorView) {
        let plane = y.h * y.w
        for n in 0..<batch {
            var offset = 0
            for x in inputs {
                let xa = ActivationAddressing(base: UnsafePointer(x.base + n * x.imageStride), planeElements: plane, blocked: true)
                for c in 0..<x.c {
                    let src = xa.channelBase(c)
                    let oc = offset + c
                    let dst = y.base + n * y.imageStride + (oc >> 4) * plane * 16 + (oc & 15)
                    for p in 0..<plane { dst[p * 16] = src[p * 16] }
                }
                offset += x.c
            }
        }
    }

    /// Any activation (plain or blocked) → plain NCHW rows of C·H·W elements.
    static func toPlain(batch: Int, x: TensorView, y: UnsafeMutablePointer<Float>, yImageStride: Int) {
        let plane = x.h * x.w
        for n in 0..<batch {
            let src = UnsafePointer(x.base + n * x.imageStride)
            let dst = y + n * yImageStride
            if !x.blocked {
                dst.update(from: src, count: x.c * plane)
                continue
            }
            for c in 0..<x.c {
                let s = src + (c >> 4) * plane * 16 + (c & 15)
                let d = dst + c * plane
                for p in 0..<plane { d[p] = s[p * 16] }
            }
        }
    }

    /// Plain NCHW → blocked.
    static func toBlocked(batch: Int, x: TensorView, y: TensorView) {
        let plane = x.h * x.w
        for n in 0..<batch {
            let src = UnsafePointer(x.base + n * x.imageStride)
            let dst = y.base + n * y.imageStride
            for c in 0..<x.c {
                let s = src + c * plane
                let d = dst + (c >> 4) * plane * 16 + (c & 15)
                for p in 0..<plane { d[p * 16] = s[p] }
            }
        }
    }

    /// Row-wise softmax on plain [N][F], numerically stable (subtracts the row maximum).
    static func softmax(batch: Int, x: TensorView, y: TensorView) {
        for n in 0..<batch {
            let xp = UnsafePointer(x.base + n * x.imageStride), yp = y.base + n * y.imageStride
            var m = -Float.infinity
            for i in 0..<x.c { m = kmax(m, xp[i]) }
            var sum: Float = 0
            for i in 0..<x.c {
                let e = KernelMath.exp(xp[i] - m)
                yp[i] = e
                sum += e
            }
            let inv = 1 / sum
            for i in 0..<x.c { yp[i] *= inv }
        }
    }
}
