import ACRuntime
import Foundation

/// Packs plain weights into the layouts the runtime kernels read (docs/FORMAT.md §Packing).
/// The runtime never repacks: what these functions produce is used in place.
public enum Packing {
    /// Convolution weights OIHW (O × C/groups × KH × KW) → `oc16`: for each block b of 16
    /// output channels, [inputChannelCount(b)][KH][KW][16], where block b covers input
    /// channels [g0·C/G, (g1+1)·C/G) for the groups g0…g1 its output channels belong to, and
    /// lanes are zero where an output channel does not read that input channel (block-diagonal
    /// groups) or does not exist (O not a multiple of 16).
    public static func convOC16(
        _ weight: [Float], outputChannels o: Int, inputChannels c: Int,
        kernelH kh: Int, kernelW kw: Int, groups: Int
    ) -> [Float] {
        let cg = c / groups
        let og = o / groups
        let kk = kh * kw
        precondition(
            weight.count == o * cg * kk,
            "Packing.convOC16: weight has \(weight.count) elements, OIHW needs \(o * cg * kk)")
        var out = [Float]()
        for b in 0..<ceilDiv(o, 16) {
            let first = b * 16
            let last = min(first + 15, o - 1)
            let g0 = first / og
            let g1 = last / og
            let cBegin = g0 * cg
            let cCount = (g1 - g0 + 1) * cg
            var block = [Float](repeating: 0, count: cCount * kk * 16)
            for lane in 0..<16 {
                let oc = first + lane
                guard oc < o else { break }
                let g = oc / og
                for ci in 0..<cg {
                    let local = g * cg + ci - cBegin
                    for t in 0..<kk {
                        block[(local * kk + t) * 16 + lane] = weight[(oc * cg + ci) * kk + t]
                    }
                }
            }
            out += block
        }
        return out
    }

    /// Depthwise weights (C × 1 × KH × KW) → `depthwise16`: [ceil(C/16)][KH][KW][16].
    public static func depthwise16(_ weight: [Float], channels c: Int, kernelH kh: Int, kernelW kw: Int) -> [Float] {
        let kk = kh * kw
        precondition(
            weight.count == c * kk, "Packing.depthwise16: weight has \(weight.count) elements, expected \(c * kk)")
        var out = [Float](repeating: 0, count: ceilDiv(c, 16) * kk * 16)
        for ch in 0..<c {
            for t in 0..<kk { out[((ch / 16) * kk + t) * 16 + ch % 16] = weight[ch * kk + t] }
        }
        return out
    }

    /// Linear weights [O][F] → `oc16`: [ceil(O/16)][F][16].
    public static func linearOC16(_ weight: [Float], outputFeatures o: Int, inputFeatures f: Int) -> [Float] {
        convOC16(weight, outputChannels: o, inputChannels: f, kernelH: 1, kernelW: 1, groups: 1)
    }

    /// r×r convolution weights OIHW (groups 1, r = 3 or 5) → `winograd43` / `winograd25`:
    /// U = G·g·Gᵀ per (o, c), computed in Double and rounded once, laid out [⌈O/16⌉][36][C][16]
    /// (`Winograd`; G's row for point p is s_p·(1, p, …, p^(r−1)), points 0, 1, −1, 2, −2 with
    /// s = 1/4, −1/6, −1/6, 1/24, 1/24, and (0, …, 0, 1) for ∞; Lavin & Gray 2016).
    public static func winograd(
        _ weight: [Float], outputChannels o: Int, inputChannels c: Int, kernel r: Int
    ) -> [Float] {
        precondition(r == 3 || r == 5, "Packing.winograd: kernel \(r) (3 or 5)")
        precondition(
            weight.count == o * c * r * r,
            "Packing.winograd: weight has \(weight.count) elements, O×C×\(r)×\(r) needs \(o * c * r * r)")
        let points: [Double] = [0, 1, -1, 2, -2]
        let scales: [Double] = [1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24]
        var G = [[Double]](repeating: [Double](repeating: 0, count: r), count: 6)
        for i in 0..<5 { for k in 0..<r { G[i][k] = scales[i] * pow(points[i], Double(k)) } }
        G[5][r - 1] = 1
        var out = [Float](repeating: 0, count: Winograd.weightElements(inC: c, outC: o))
        var t = [Double](repeating: 0, count: 6 * r)
        for oc in 0..<o {
            for ci in 0..<c {
                let k = (oc * c + ci) * r * r
                // t = G·g (6×r), U = t·Gᵀ (6×6).
                for i in 0..<6 {
                    for j in 0..<r {
                        var sum = 0.0
                        for q in 0..<r { sum += G[i][q] * Double(weight[k + q * r + j]) }
                        t[i * r + j] = sum
                    }
                }
                for i in 0..<6 {
                    for j in 0..<6 {
                        var u = 0.0
                        for q in 0..<r { u += t[i * r + q] * G[j][q] }
                        out[(((oc / 16) * 36 + i * 6 + j) * c + ci) * 16 + oc % 16] = Float(u)
                    }
                }
            }
        }
        return out
    }

    /// A per-channel vector padded with zeros to a multiple of 16.
    public static func padded16(_ v: [Float]) -> [Float] {
        v + [Float](repeating: 0, count: ceilDiv(v.count, 16) * 16 - v.count)
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
