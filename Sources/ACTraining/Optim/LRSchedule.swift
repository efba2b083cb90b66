#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning rate as a function of the global iteration (0-based), stepped every iteration.
public enum LRSchedule: Sendable, Equatable {
    case constant(Float)
    /// Linear warm-up from base/warmup to base over `warmupIterations`, then
    /// min + (base − min)·½(1 + cos(π·t/T)) over the remaining iterations (SGDR without restarts).
    case cosine(base: Float, totalIterations: Int, warmupIterations: Int = 0, minimum: Float = 0)
    /// base · gamma^(number of milestones ≤ iteration), milestones in iterations; optional warm-up.
    case step(base: Float, milestones: [Int], gamma: Float = 0.1, warmupIterations: Int = 0)

    public func learningRate(at iteration: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case .cosine(let base, let total, let warmup, let minimum):
            if iteration < warmup { return base * Float(iteration + 1) / Float(warmup) }
            let span = max(total - warmup, 1)
            let t = Double(min(iteration - warmup, span)) / Double(span)
            return minimum + (base - minimum) * Float(0.5 * (1 + cos(Double.pi * t)))
        case .step(let base, let milestones, let gamma, let warmup):
            if iteration < warmup { return base * Float(iteration + 1) / Float(warmup) }
            let k = milestones.filter { $0 <= iteration }.count
            return base * Float(pow(Double(gamma), Double(k)))
        }
    }
}
