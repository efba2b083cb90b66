import Foundation

/// The kernel-skeleton analysis of the ACNet paper (Ding et al., ICCV 2019, Fig. 6,
/// "average relative importance"): for a KxK convolution with weight W (OIHW), the magnitude
/// at position (h, w) is A[h][w] = Σ_o Σ_c |W[o][c][h][w]|; the layer's matrix is A / max(A);
/// the model's grid is the mean of these normalised matrices over its KxK layers (K > 1).
public enum KernelSkeleton {
    /// A K×K grid of relative importances, row-major (`values[h · K + w]`).
    public struct Grid: Sendable, Equatable {
        public var kernelSize: Int
        /// K·K values in [0, 1], row-major.
        public var values: [Double]
        /// Number of layers averaged.
        public var layerCount: Int

        public init(kernelSize: Int, values: [Double], layerCount: Int) {
            precondition(
                values.count == kernelSize * kernelSize,
                "KernelSkeleton.Grid: \(values.count) values for \(kernelSize)x\(kernelSize)")
            self.kernelSize = kernelSize
            self.values = values
            self.layerCount = layerCount
        }

        public subscript(h: Int, w: Int) -> Double { values[h * kernelSize + w] }
    }

    /// A[h][w] = Σ_o Σ_c |W[o][c][h][w]| divided by the largest entry (all zeros when the kernel
    /// is all zeros); KH·KW values, row-major.
    public static func relativeImportance(_ k: ConvKernel) -> [Double] {
        let kk = k.kernelHeight * k.kernelWidth
        var a = [Double](repeating: 0, count: kk)
        for (i, w) in k.weight.enumerated() { a[i % kk] += Double(abs(w)) }
        let m = a.max() ?? 0
        return m > 0 ? a.map { $0 / m } : a
    }

    /// The average relative importance per kernel size: one grid for each K over the layers
    /// with square K×K kernels, K > 1 (1x1 projections and non-square kernels are skipped),
    /// sorted by K.
    public static func grids(_ kernels: [ConvKernel]) -> [Grid] {
        var byK = [Int: (sum: [Double], n: Int)]()
        for k in kernels where k.kernelHeight == k.kernelWidth && k.kernelHeight > 1 {
            let r = relativeImportance(k)
            var e = byK[k.kernelHeight] ?? ([Double](repeating: 0, count: r.count), 0)
            for i in r.indices { e.sum[i] += r[i] }
            e.n += 1
            byK[k.kernelHeight] = e
        }
        return byK.keys.sorted().map { K in
            let e = byK[K]!
            return Grid(kernelSize: K, values: e.sum.map { $0 / Double(e.n) }, layerCount: e.n)
        }
    }

    /// The grid as text: K lines of K values with three decimals.
    public static func text(_ g: Grid) -> String {
        (0..<g.kernelSize).map { h in
            (0..<g.kernelSize).map { w in String(format: "%.3f", g[h, w]) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A self-contained SVG heatmap of each grid side by side (white 0 → dark blue 1, the
    /// value written in each cell), like the paper's Fig. 6.
    public static func svg(_ grids: [Grid], title: String) -> String {
        let cell = 64.0
        let gap = 40.0
        let top = 60.0
        let left = 30.0
        let width =
            left * 2 + grids.reduce(0) { $0 + Double($1.kernelSize) * cell } + gap * Double(max(grids.count - 1, 0))
        let height = top + Double(grids.map(\.kernelSize).max() ?? 1) * cell + 40
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(max(width, 320)))" height="\(Int(height))" font-family="sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15">\(svgEscape(title))</text>

            """
        var x0 = left
        for g in grids {
            let K = g.kernelSize
            s +=
                "<text x=\"\(x0)\" y=\"\(top - 10)\">\(K)x\(K), mean over \(g.layerCount) layer\(g.layerCount == 1 ? "" : "s")</text>\n"
            for h in 0..<K {
                for w in 0..<K {
                    let v = max(0, min(1, g[h, w]))
                    // Linear ramp from white to #08306b.
                    let r = Int(255 - v * (255 - 8))
                    let gg = Int(255 - v * (255 - 48))
                    let b = Int(255 - v * (255 - 107))
                    let x = x0 + Double(w) * cell
                    let y = top + Double(h) * cell
                    s +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(r),\(gg),\(b))\" stroke=\"#999\"/>"
                    s +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 5)\" text-anchor=\"middle\" fill=\"\(v > 0.55 ? "white" : "black")\">"
                        + String(format: "%.3f", g[h, w]) + "</text>\n"
                }
            }
            x0 += Double(K) * cell + gap
        }
        return s + "</svg>\n"
    }
}

func svgEscape(_ t: String) -> String {
    t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
}
