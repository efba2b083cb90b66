import Foundation

/// One point of a pruning curve: the accuracies of every seed at one sparsity.
public struct PrunePoint: Sendable, Equatable {
    public var region: PruneRegion
    public var sparsity: Double
    /// One accuracy per seed (empty when the sparsity exceeds the region's share).
    public var accuracies: [Double]

    public init(region: PruneRegion, sparsity: Double, accuracies: [Double]) {
        self.region = region
        self.sparsity = sparsity
        self.accuracies = accuracies
    }

    public var mean: Double { accuracies.reduce(0, +) / Double(max(accuracies.count, 1)) }
    /// Sample standard deviation (n − 1); 0 for one seed.
    public var std: Double {
        guard accuracies.count > 1 else { return 0 }
        let m = mean
        return (accuracies.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(accuracies.count - 1)).squareRoot()
    }

    /// The paper's Fig. 5: accuracy (mean ± std over seeds) against global sparsity, one curve
    /// per region, as a self-contained SVG line plot with error bars.
    public static func svg(_ points: [PrunePoint], title: String) -> String {
        let w = 640.0
        let h = 420.0
        let left = 70.0
        let right = 160.0
        let top = 50.0
        let bottom = 60.0
        let pw = w - left - right
        let ph = h - top - bottom
        let valid = points.filter { !$0.accuracies.isEmpty }
        let maxX = max(valid.map(\.sparsity).max() ?? 1, 1e-9)
        var lo = valid.map { $0.mean - $0.std }.min() ?? 0
        var hi = valid.map { $0.mean + $0.std }.max() ?? 1
        lo = max(0, (lo * 20).rounded(.down) / 20)
        hi = min(1, (hi * 20).rounded(.up) / 20)
        if hi <= lo { hi = lo + 0.05 }
        func px(_ x: Double) -> Double { left + x / maxX * pw }
        func py(_ y: Double) -> Double { top + (hi - y) / (hi - lo) * ph }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(w / 2)" y="24" text-anchor="middle" font-size="15">\(svgEscape(title))</text>
            <rect x="\(left)" y="\(top)" width="\(pw)" height="\(ph)" fill="none" stroke="#888"/>

            """
        for k in 0...5 {
            let v = lo + (hi - lo) * Double(k) / 5
            s += "<line x1=\"\(left)\" y1=\"\(py(v))\" x2=\"\(left + pw)\" y2=\"\(py(v))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(String(format: "%.3f", v))</text>\n"
            let x = maxX * Double(k) / 5
            s +=
                "<text x=\"\(px(x))\" y=\"\(top + ph + 18)\" text-anchor=\"middle\">\(String(format: "%.2f", x))</text>\n"
        }
        s += "<text x=\"\(left + pw / 2)\" y=\"\(h - 18)\" text-anchor=\"middle\">global sparsity ratio</text>\n"
        s +=
            "<text x=\"18\" y=\"\(top + ph / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(top + ph / 2))\">test accuracy (mean ± std over seeds)</text>\n"
        let colors: [PruneRegion: String] = [.corners: "#d62728", .skeleton: "#1f77b4", .global: "#2ca02c"]
        for (i, r) in PruneRegion.allCases.enumerated() {
            let pts = valid.filter { $0.region == r }.sorted { $0.sparsity < $1.sparsity }
            let c = colors[r]!
            if !pts.isEmpty {
                s +=
                    "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" points=\"\(pts.map { "\(px($0.sparsity)),\(py($0.mean))" }.joined(separator: " "))\"/>\n"
            }
            for p in pts {
                let x = px(p.sparsity)
                s +=
                    "<line x1=\"\(x)\" y1=\"\(py(p.mean - p.std))\" x2=\"\(x)\" y2=\"\(py(p.mean + p.std))\" stroke=\"\(c)\"/>"
                s +=
                    "<line x1=\"\(x - 4)\" y1=\"\(py(p.mean - p.std))\" x2=\"\(x + 4)\" y2=\"\(py(p.mean - p.std))\" stroke=\"\(c)\"/>"
                s +=
                    "<line x1=\"\(x - 4)\" y1=\"\(py(p.mean + p.std))\" x2=\"\(x + 4)\" y2=\"\(py(p.mean + p.std))\" stroke=\"\(c)\"/>"
                s += "<circle cx=\"\(x)\" cy=\"\(py(p.mean))\" r=\"3\" fill=\"\(c)\"/>\n"
            }
            let ly = top + 14 + Double(i) * 18
            s +=
                "<line x1=\"\(left + pw + 15)\" y1=\"\(ly - 4)\" x2=\"\(left + pw + 40)\" y2=\"\(ly - 4)\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(left + pw + 45)\" y=\"\(ly)\">\(r.rawValue)</text>\n"
        }
        return s + "</svg>\n"
    }
}
