internal import CACNet

// Runtime CPU dispatch: which of the ISA-specific kernel sets (Sources/ACKernels, compiled once
// per ISA) runs. Chosen once per model at load (`Model.isa`); a session may ask for a lower one
// (`SessionOptions.isa`), which is how the tests run every path on one machine.
#if canImport(ACKernelTypes)
@_exported import ACKernelTypes
#endif
#if canImport(ACKernelsAVX512)
internal import ACKernelsAVX512
#endif
#if canImport(ACKernelsAVX2)
internal import ACKernelsAVX2
#endif
#if canImport(ACKernelsBaseline)
internal import ACKernelsBaseline
#endif

extension KernelISA {
    /// Whether this build has the ISA's kernels and this CPU and OS can run them (cpuid and
    /// XGETBV, checking every extension the build's `-target-cpu` may emit).
    public var isSupported: Bool {
        switch self {
        case .baseline: return true
        case .avx2: return Self.features & UInt32(ACNET_CPU_HASWELL) != 0 && KernelSelection.table(self) != nil
        case .avx512: return Self.features & UInt32(ACNET_CPU_SKYLAKE_AVX512) != 0 && KernelSelection.table(self) != nil
        }
    }

    /// The fastest ISA this build and CPU support.
    public static var best: KernelISA {
        if KernelISA.avx512.isSupported { return .avx512 }
        if KernelISA.avx2.isSupported { return .avx2 }
        return .baseline
    }

    private static var features: UInt32 { acnet_support_cpu_features() }
}

#if ACNET_KERNELS_C_ENTRY
#if arch(x86_64)
@_extern(c, "acnet_kernels_avx512") func acnet_kernels_avx512(_ table: UnsafeMutableRawPointer)
@_extern(c, "acnet_kernels_avx2") func acnet_kernels_avx2(_ table: UnsafeMutableRawPointer)
#endif
@_extern(c, "acnet_kernels_baseline") func acnet_kernels_baseline(_ table: UnsafeMutableRawPointer)
#endif

enum KernelSelection {
    /// The kernel table of `isa`, or nil if this build has none for it (only x86_64 builds have
    /// AVX2 and AVX-512 kernels). Does not check the CPU: see `KernelISA.isSupported`.
    static func table(_ isa: KernelISA) -> KernelTable? {
        #if ACNET_SINGLE_MODULE
        // Embedded builds compile one kernel set into the runtime's own module.
        let local = kernelTable()
        return local.isa == isa ? local : nil
        #elseif ACNET_KERNELS_C_ENTRY
        // The Embedded C library: each ISA's kernels are a separate object reached through its
        // C entry symbol (KernelTableEntry.swift), never inlined here.
        func load(_ entry: (UnsafeMutableRawPointer) -> Void) -> KernelTable {
            let p = UnsafeMutableRawPointer.allocate(
                byteCount: MemoryLayout<KernelTable>.size,
                alignment: MemoryLayout<KernelTable>.alignment)
            defer { p.deallocate() }
            entry(p)
            return p.assumingMemoryBound(to: KernelTable.self).move()
        }
        switch isa {
        #if arch(x86_64)
        case .avx512: return load(acnet_kernels_avx512)
        case .avx2: return load(acnet_kernels_avx2)
        #else
        case .avx512, .avx2: return nil
        #endif
        case .baseline: return load(acnet_kernels_baseline)
        }
        #else
        switch isa {
        case .avx512:
            #if canImport(ACKernelsAVX512)
            return ACKernelsAVX512.kernelTable()
            #else
            return nil
            #endif
        case .avx2:
            #if canImport(ACKernelsAVX2)
            return ACKernelsAVX2.kernelTable()
            #else
            return nil
            #endif
        case .baseline:
            return ACKernelsBaseline.kernelTable()
        }
        #endif
    }
}
