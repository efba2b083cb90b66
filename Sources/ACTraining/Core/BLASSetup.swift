// Makes sure OpenBLAS runs its fast kernels on the machine at hand.

import COpenBLAS
import Foundation

/// OpenBLAS kernel selection.
///
/// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPUID family/model at
/// load time. On virtual machines that report a generic "Intel Xeon Processor" model it falls
/// back to **Prescott** (SSE3) kernels, which run SGEMM ~5× slower than its SkylakeX (AVX-512)
/// kernels on the same core (measured: 30 vs 150 GFLOP/s at 1024³; 30 vs 61–96 GFLOP/s on the
/// training GEMM shapes). Setting `OPENBLAS_CORETYPE` before the process starts fixes that;
/// `configure()` does the same in-process: if the variable is unset and the library chose a
/// generic core although /proc/cpuinfo lists AVX-512 (F, BW, DQ, VL) or AVX2+FMA, it re-runs
/// OpenBLAS's own dynamic initialisation (`gotoblas_dynamic_quit` / `gotoblas_dynamic_init`,
/// exported by the library) with `OPENBLAS_CORETYPE` set to SkylakeX or Haswell.
/// Done once, before the first SGEMM of ACTraining; `ACTRAINING_KEEP_BLAS_CORE=1` disables it.
/// It also sets OpenBLAS to one thread (ACTraining splits its GEMMs over its own threads) and,
/// on glibc, raises malloc's mmap and trim thresholds so per-step activation buffers are reused
/// from the heap rather than page-faulted in again every step (a process-wide setting).
public enum BLASSetup {
    /// The OpenBLAS core in use (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Runs `configure()` once; returns the core name in use afterwards.
    @discardableResult
    public static func ensureConfigured() -> String { configured }

    private static let configured: String = {
        let core = configure()
        #if os(Linux)
        // Keep freed activation buffers (MBs each, reallocated every step) in the heap instead
        // of returning them to the kernel: glibc would otherwise mmap/munmap them and every
        // step would page-fault its activations in again. glibc's mallopt (malloc.h, not in the
        // Glibc module): M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        if let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, "mallopt") {
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mallopt = unsafeBitCast(sym, to: Mallopt.self)
            _ = mallopt(-3, 32 << 20)
            _ = mallopt(-1, 1 << 30)
        }
        #endif
        // ACTraining parallelises GEMMs itself (`sgemm` splits them over `trainingThreadCount`
        // threads); OpenBLAS's own pool would spin against those threads.
        openblas_set_num_threads(1)
        return core
    }()

    private static func configure() -> String {
        let env = ProcessInfo.processInfo.environment
        let current = coreName
        guard env["OPENBLAS_CORETYPE"] == nil, env["ACTRAINING_KEEP_BLAS_CORE"] == nil,
            ["Prescott", "Core2", "Nehalem", "Katmai", "Banias", "Northwood", "Unknown"].contains(current)
        else { return current }
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return current }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let target: String
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) {
            target = "SkylakeX"
        } else if ["avx2", "fma"].allSatisfy(flags.contains) {
            target = "Haswell"
        } else {
            return current
        }
        guard let handle = dlopen(nil, RTLD_NOW),
            let quit = dlsym(handle, "gotoblas_dynamic_quit"),
            let initialise = dlsym(handle, "gotoblas_dynamic_init")
        else { return current }
        typealias Fn = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: Fn.self)()
        unsafeBitCast(initialise, to: Fn.self)()
        return coreName
    }
}
