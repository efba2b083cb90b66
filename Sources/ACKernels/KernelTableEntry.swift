// The one public symbol of each ISA module: its kernel table. This file and the other kernel
// sources in Sources/ACKernels are compiled three times, by the targets ACKernelsAVX512,
// ACKernelsAVX2 and ACKernelsBaseline (each folder holds symbolic links to these files), with
// different code-generation flags and one of the ACNET_ISA_* conditions; in the Embedded Swift
// check they are compiled into the runtime's own module (ACNET_SINGLE_MODULE).
#if canImport(ACKernelTypes)
import ACKernelTypes
#endif

#if ACNET_ISA_AVX512
private let thisISA = KernelISA.avx512
#elseif ACNET_ISA_AVX2
private let thisISA = KernelISA.avx2
#else
private let thisISA = KernelISA.baseline
#endif

/// The kernels of this module's ISA. The caller must have checked that the CPU supports it
/// (`KernelISA.isSupported` in ACRuntime): running them elsewhere faults on the first
/// unsupported instruction.
public func kernelTable() -> KernelTable {
    KernelTable(
        isa: thisISA,
        conv: {
            ConvDirect.run($0, batch: $1, x: $2, y: $3, residual: $4, weights: $5, bias: $6, blockOffsets: $7, part: $8)
        },
        winograd: {
            ConvWinograd.run(
                $0, batch: $1, x: $2, y: $3, residual: $4, weights: $5, bias: $6, scratch: $7,
                chunkTiles: $8, part: $9)
        },
        depthwise: { ConvDepthwise.run($0, batch: $1, x: $2, y: $3, residual: $4, weights: $5, bias: $6, part: $7) },
        pool: { Pooling.run($0, max: $1, batch: $2, x: $3, y: $4, part: $5) },
        globalAvgPool: { Pooling.global(batch: $0, x: $1, y: $2) },
        linear: {
            Dense.run(inFeatures: $0, outFeatures: $1, activation: $2, batch: $3, x: $4, y: $5, weights: $6, bias: $7)
        },
        add: { Elementwise.add($0, $1, $2, count: $3, activation: $4) },
        activation: { Elementwise.activation($0, $1, count: $2, $3) },
        scaleShift: { Elementwise.scaleShift(batch: $0, x: $1, y: $2, scale: $3, shift: $4, activation: $5) },
        concat: { Elementwise.concat(batch: $0, inputs: $1, y: $2) },
        toPlain: { Elementwise.toPlain(batch: $0, x: $1, y: $2, yImageStride: $3, part: $4) },
        toBlocked: { Elementwise.toBlocked(batch: $0, x: $1, y: $2, part: $3) },
        softmax: { Elementwise.softmax(batch: $0, x: $1, y: $2) })
}

#if ACNET_KERNELS_C_ENTRY
// The Embedded Swift C library (scripts/build_embedded_lib.sh) compiles each ISA's kernels as a
// module that ACRuntime does not import: ACRuntime reaches the table through this C symbol, so
// no kernel body can be inlined into the baseline-compiled runtime, and every other symbol of
// the ISA's object is made local at link time (no copy merged across ISAs).
// `table` points to uninitialised memory for one KernelTable, which this initialises.
#if ACNET_ISA_AVX512
@c(acnet_kernels_avx512)
public func kernelTableEntry(_ table: UnsafeMutableRawPointer) {
    table.initializeMemory(as: KernelTable.self, to: kernelTable())
}
#elseif ACNET_ISA_AVX2
@c(acnet_kernels_avx2)
public func kernelTableEntry(_ table: UnsafeMutableRawPointer) {
    table.initializeMemory(as: KernelTable.self, to: kernelTable())
}
#else
@c(acnet_kernels_baseline)
public func kernelTableEntry(_ table: UnsafeMutableRawPointer) {
    table.initializeMemory(as: KernelTable.self, to: kernelTable())
}
#endif
#endif
