import Testing

@testable import ACTraining

/// Finite-difference gradient checking shared by the layer tests.
///
/// Loss L = Σ y·r with a fixed random r, evaluated in float64 from the float32 forward.
/// Central differences with step h; a coordinate passes when
/// |numeric − analytic| ≤ 1e-2·scale + 3e-2·|analytic|, scale = the largest analytic gradient
/// of that tensor (float32 forward noise is ~1e-7 relative, so h = 1e-2…1e-3 leaves ~1e-4).
enum GradientCheck {
    static func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .normal(shape, std: scale, using: &rng)
    }

    static func loss(_ y: Tensor, _ r: Tensor) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }

    /// Returns the worst violation ratio (≤ 1 passes) over sampled coordinates of the input
    /// and of every parameter.
    @discardableResult
    static func check(
        _ m: any Module, input x0: Tensor, h: Float = 1e-2, samples: Int = 16,
        checkInput: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Double {
        var x = x0
        let y0 = m.forward(x, training: true)
        let r = randomTensor(y0.shape, seed: 99)
        m.zeroGrad()
        _ = m.forward(x, training: true)
        let dx = m.backward(r)
        var worst = 0.0
        func compare(_ name: String, analytic: Tensor, perturb: (Int, Float) -> Void) {
            let scale = Double(analytic.maxAbs)
            var rng = SeededGenerator(seed: 7)
            let n = analytic.count
            let idx = n <= samples ? Array(0..<n) : (0..<samples).map { _ in Int(rng.next() % UInt64(n)) }
            for i in idx {
                perturb(i, h)
                let lp = loss(m.forward(x, training: true), r)
                perturb(i, -2 * h)
                let lm = loss(m.forward(x, training: true), r)
                perturb(i, h)
                let num = (lp - lm) / (2 * Double(h))
                let ana = Double(analytic.data[i])
                let allowed = 1e-2 * scale + 3e-2 * abs(ana) + 1e-6
                let ratio = abs(num - ana) / allowed
                worst = max(worst, ratio)
                #expect(
                    ratio <= 1, "\(name)[\(i)]: numeric \(num) vs analytic \(ana)",
                    sourceLocation: sourceLocation)
            }
        }
        if checkInput {
            compare("input", analytic: dx) { i, d in x.data[i] += d }
        }
        for (name, p) in m.namedParameters() {
            compare(name, analytic: p.grad) { i, d in p.value.data[i] += d }
        }
        return worst
    }
}
