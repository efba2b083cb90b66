// Run-time choice of the direct-convolution tile loops (DirectConv.swift): the AVX-512 build
// (ACTrainingKernels), the AVX2 + FMA build (ACTrainingKernelsAVX2), or none (im2col + OpenBLAS).
// Both builds export the same functions with the same contracts; this file is the only one that
// imports them, and every call goes through the table, so no code compiled for an ISA the CPU
// lacks can run.

import ACTrainingKernels
import CACNet
import Foundation

#if arch(x86_64)
import ACTrainingKernelsAVX2
#endif

/// Which tile loops ACTraining's direct convolution (stride-1 "same" convs) uses in this process.
///
/// Chosen once, at first use, from `acnet_support_cpu_features` (cpuid + OS register state):
/// AVX-512 if the CPU and OS have it, else AVX2 + FMA, else none. The environment variable
/// `ACNET_TRAINING_KERNELS` (`avx512`, `avx2`, `im2col`; default `auto`) lowers that choice —
/// to measure or test the AVX2 tiles or the im2col + OpenBLAS path on a bigger CPU — but never
/// raises it above what the CPU supports. Thread-safe (an immutable global).
public enum TrainingKernelISA: String, Sendable {
    /// 16-float zmm tiles (x86_64 with AVX-512; on other architectures: the baseline SIMD build).
    case avx512
    /// 8-float ymm tiles sized for 16 registers (x86_64 with AVX2 and FMA).
    case avx2
    /// No direct-convolution tiles: every convolution runs as im2col + OpenBLAS SGEMM.
    case im2col

    /// The choice in effect for this process.
    public static let active: TrainingKernelISA = {
        let best = hardwareBest
        let order: [TrainingKernelISA] = [.im2col, .avx2, .avx512]
        guard let raw = ProcessInfo.processInfo.environment["ACNET_TRAINING_KERNELS"]?.lowercased(),
            let wanted = TrainingKernelISA(rawValue: raw)
        else { return best }
        #if !arch(x86_64)
        if wanted == .avx2 { return best }  // no AVX2 build off x86_64: keep the baseline tiles
        #endif
        return order.firstIndex(of: wanted)! < order.firstIndex(of: best)! ? wanted : best
    }()

    /// The best tiles this CPU can run, ignoring `ACNET_TRAINING_KERNELS`.
    public static let hardwareBest: TrainingKernelISA = {
        let best: TrainingKernelISA
        #if arch(x86_64)
        let f = acnet_support_cpu_features()
        if f & UInt32(ACNET_CPU_SKYLAKE_AVX512) != 0 {
            best = .avx512
        } else if f & UInt32(ACNET_CPU_HASWELL) != 0 {
            best = .avx2
        } else {
            best = .im2col
        }
        #else
        best = .avx512
        #endif
        return best
    }()

    /// Whether this CPU can run `isa`'s tiles (`.im2col` always).
    public static func isSupported(_ isa: TrainingKernelISA) -> Bool {
        switch isa {
        case .im2col: return true
        case .avx2:
            #if arch(x86_64)
            return hardwareBest != .im2col
            #else
            return false
            #endif
        case .avx512: return hardwareBest == .avx512
        }
    }
}

/// The tile loops of one ISA build (see ACTrainingKernels' DirectConvKernels.swift for the
/// contracts of each function).
struct DirectConvKernelTable: @unchecked Sendable {
    let directTiles:
        (
            UnsafePointer<Float>, UnsafePointer<Int>, Int, UnsafePointer<Float>,
            UnsafeMutablePointer<Float>, Int, Int
        ) -> Void
    let transposeToPixelMajor: (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void
    /// (dz, ldz, x, xo, H, W, Wp, images, zImage, xImage, acc, lda)
    typealias WeightTile = (
        UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafePointer<Int>, Int, Int, Int,
        Int, Int, Int, UnsafeMutablePointer<Float>, Int
    ) -> Void
    let weightTileT2: WeightTile
    let weightTileT1: WeightTile
    /// (src, sp, sPlane, dst, dp, dPlane, planes, rows, width)
    let copyPlaneRows: (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Int, Int, Int, Int, Int) -> Void
    /// (x, p0, p1, h, w, k, oh, ow, y, argmax, end)
    let maxPoolStride2:
        (
            UnsafePointer<Float>, Int, Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>,
            UnsafeMutablePointer<Int32>?, UnsafePointer<Float>
        ) -> Void

    /// The table for `TrainingKernelISA.active`; nil for `.im2col`.
    static let active: DirectConvKernelTable? = table(for: TrainingKernelISA.active)

    static func table(for isa: TrainingKernelISA) -> DirectConvKernelTable? {
        switch isa {
        case .im2col:
            return nil
        case .avx512:
            return DirectConvKernelTable(
                directTiles: { ACTrainingKernels.directTiles($0, $1, $2, $3, $4, $5, nv: $6) },
                transposeToPixelMajor: { ACTrainingKernels.transposeToPixelMajor($0, $1, rows: $2, $3, $4, $5) },
                weightTileT2: {
                    ACTrainingKernels.directWeightTileT2(
                        $0, ldz: $1, $2, $3, H: $4, W: $5, Wp: $6, images: $7,
                        zImage: $8, xImage: $9, $10, lda: $11)
                },
                weightTileT1: {
                    ACTrainingKernels.directWeightTileT1(
                        $0, ldz: $1, $2, $3, H: $4, W: $5, Wp: $6, images: $7,
                        zImage: $8, xImage: $9, $10, lda: $11)
                },
                copyPlaneRows: {
                    ACTrainingKernels.copyPlaneRows(
                        $0, sp: $1, sPlane: $2, $3, dp: $4, dPlane: $5, planes: $6,
                        rows: $7, width: $8)
                },
                maxPoolStride2: {
                    ACTrainingKernels.maxPoolStride2(
                        $0, planes: $1, $2, h: $3, w: $4, k: $5, oh: $6, ow: $7, $8, $9,
                        end: $10)
                })
        case .avx2:
            #if arch(x86_64)
            return DirectConvKernelTable(
                directTiles: { ACTrainingKernelsAVX2.directTiles($0, $1, $2, $3, $4, $5, nv: $6) },
                transposeToPixelMajor: { ACTrainingKernelsAVX2.transposeToPixelMajor($0, $1, rows: $2, $3, $4, $5) },
                weightTileT2: {
                    ACTrainingKernelsAVX2.directWeightTileT2(
                        $0, ldz: $1, $2, $3, H: $4, W: $5, Wp: $6, images: $7,
                        zImage: $8, xImage: $9, $10, lda: $11)
                },
                weightTileT1: {
                    ACTrainingKernelsAVX2.directWeightTileT1(
                        $0, ldz: $1, $2, $3, H: $4, W: $5, Wp: $6, images: $7,
                        zImage: $8, xImage: $9, $10, lda: $11)
                },
                copyPlaneRows: {
                    ACTrainingKernelsAVX2.copyPlaneRows(
                        $0, sp: $1, sPlane: $2, $3, dp: $4, dPlane: $5, planes: $6,
                        rows: $7, width: $8)
                },
                maxPoolStride2: {
                    ACTrainingKernelsAVX2.maxPoolStride2(
                        $0, planes: $1, $2, h: $3, w: $4, k: $5, oh: $6, ow: $7, $8,
                        $9, end: $10)
                })
            #else
            return nil
            #endif
        }
    }
}
