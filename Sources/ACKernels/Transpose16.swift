// 16 × 16 in-register transposes, shared by the runtime's kernels (Sources/ACKernels and its
// three ISA folders: layout conversions) and the training tiles (Sources/ACTrainingKernels:
// dZ to pixel-major). Each of those folders holds a symbolic link to this file, so every
// module compiles its own copy with its own ISA flags; `V16` is the including module's
// SIMD16<Float>.

/// A 16 × 16 matrix of floats as 16 row vectors, held in registers (an SSA value, not memory).
typealias V16x16 = (V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16, V16)

/// (a₀, b₀, a₁, b₁, …, a₇, b₇): the interleaved low halves (one two-source shuffle).
@inline(__always) func zipLow(_ a: V16, _ b: V16) -> V16 {
    V16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// (a₈, b₈, …, a₁₅, b₁₅): the interleaved high halves.
@inline(__always) func zipHigh(_ a: V16, _ b: V16) -> V16 {
    V16(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
}

/// The transpose of the 16 × 16 matrix `r` (rows → columns). One round maps rows (r[i], r[i+8])
/// to (zipLow, zipHigh) at rows 2i, 2i+1, which moves element (row i, column j) so that the 8
/// bits (i, j) rotate left by one; four rounds rotate by four, i.e. swap i and j. 64 shuffles
/// per 256 elements, all in registers.
@inline(__always) func transposed(_ r: V16x16) -> V16x16 {
    @inline(__always) func round(_ r: V16x16) -> V16x16 {
        (
            zipLow(r.0, r.8), zipHigh(r.0, r.8), zipLow(r.1, r.9), zipHigh(r.1, r.9),
            zipLow(r.2, r.10), zipHigh(r.2, r.10), zipLow(r.3, r.11), zipHigh(r.3, r.11),
            zipLow(r.4, r.12), zipHigh(r.4, r.12), zipLow(r.5, r.13), zipHigh(r.5, r.13),
            zipLow(r.6, r.14), zipHigh(r.6, r.14), zipLow(r.7, r.15), zipHigh(r.7, r.15)
        )
    }
    return round(round(round(round(r))))
}
