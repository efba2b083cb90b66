#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

/// Elementwise ops and layout conversions. Rank-4 activations are blocked
/// [N][C/16][H][W][16]; lanes past C (padding) carry unspecified values that no op reads into
/// a valid channel.
enum Elementwise {
    /// y = act(a + b) over `count` elements (the whole batch of storage).
    static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        count: Int, activation: Activation
    ) {
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
    static func activation(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
        _ act: Activation
    ) {
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
    static func scaleShift(
        batch: Int, x: TensorView, y: TensorView, scale: UnsafePointer<Float>,
        shift: UnsafePointer<Float>, activation: Activation
    ) {
        let plane = x.h * x.w
        for n in 0..<batch {
            for b in 0..<ceilDiv(x.c, 16) {
                let s = load16(scale + b * 16)
                let t = load16(shift + b * 16)
                let xb = UnsafePointer<Float>(x.base + n * x.imageStride + b * plane * 16)
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
                let xa = ActivationAddressing(
                    base: UnsafePointer<Float>(x.base + n * x.imageStride), planeElements: plane, blocked: true)
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

    /// Any activation (plain or blocked) → plain NCHW rows of C·H·W elements at `y` (any
    /// float alignment: the caller's output buffer), image n at `y + n · yImageStride`.
    /// `part` owns the (image, 16-channel block, row) units `WorkPart.forEachBlock` gives it.
    /// Blocked input moves 16 × 16 (pixel × channel) tiles through `transposed`.
    static func toPlain(batch: Int, x: TensorView, y: UnsafeMutablePointer<Float>, yImageStride: Int, part: WorkPart) {
        let plane = x.h * x.w
        part.forEachBlock(batch: batch, blocks: ceilDiv(x.c, 16), rows: x.h) { n, b, r0, r1 in
            let channels = kmin(16, x.c - b * 16)
            let dst = y + n * yImageStride + b * 16 * plane
            var p = r0 * x.w
            let end = r1 * x.w
            if !x.blocked {
                let src = UnsafePointer<Float>(x.base + n * x.imageStride + b * 16 * plane)
                for c in 0..<channels { (dst + c * plane + p).update(from: src + c * plane + p, count: end - p) }
                return
            }
            let src = UnsafePointer<Float>(x.base + n * x.imageStride + b * plane * 16)
            while p + 16 <= end {
                let m = transposed(rows16(count: 16) { j in load16(src + (p + j) * 16) })
                forEachRow(m, count: channels) { c, v in storeUnaligned16(dst + c * plane + p, v) }
                p += 16
            }
            while p < end {
                for c in 0..<channels { dst[c * plane + p] = src[p * 16 + c] }
                p += 1
            }
        }
    }

    /// Plain NCHW (any float alignment: the caller's input) → blocked; lanes past C are set to
    /// zero. `part` as in `toPlain`.
    static func toBlocked(batch: Int, x: TensorView, y: TensorView, part: WorkPart) {
        let plane = x.h * x.w
        part.forEachBlock(batch: batch, blocks: ceilDiv(x.c, 16), rows: x.h) { n, b, r0, r1 in
            let channels = kmin(16, x.c - b * 16)
            let src = UnsafePointer<Float>(x.base + n * x.imageStride + b * 16 * plane)
            let dst = y.base + n * y.imageStride + b * plane * 16
            var p = r0 * x.w
            let end = r1 * x.w
            while p + 16 <= end {
                let m = transposed(rows16(count: channels) { c in loadUnaligned16(src + c * plane + p) })
                forEachRow(m, count: 16) { j, v in store16(dst + (p + j) * 16, v) }
                p += 16
            }
            while p < end {
                for c in 0..<16 { dst[p * 16 + c] = c < channels ? src[c * plane + p] : 0 }
                p += 1
            }
        }
    }

    /// Row-wise softmax on plain [N][F], numerically stable (subtracts the row maximum).
    static func softmax(batch: Int, x: TensorView, y: TensorView) {
        for n in 0..<batch {
            let xp = UnsafePointer<Float>(x.base + n * x.imageStride)
            let yp = y.base + n * y.imageStride
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
