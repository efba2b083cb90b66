// swift-tools-version: 6.2
//
// ACNet for Swift: train Asymmetric Convolution Networks on the CPU, fuse them, and run the
// fused models with an allocation-free runtime (Swift API and C ABI).
//
// Module map (see docs/, and docs/DESIGN.md for the contracts):
//   ACRuntime     inference runtime: .acnb reader/validator, planner, kernels, Model/Session.
//                 Foundation-free and Embedded-clean.
//   CInterface    the C ABI of include/acnet.h, implemented with `@c @implementation`.
//   ACNetWriter   .acnb writer and weight packing (used by tests and the training side).
//   ACTraining    training: layers, ACB, BatchNorm, SGD, data, checkpoints, fusion, export.
//   acnet         the command-line tool.
import PackageDescription

// Flags shared by every Swift target.
let commonSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

// Runtime CPU dispatch (docs/DESIGN.md §5, issue "Speed I"). The kernels in Sources/ACKernels are
// compiled once per ISA by three targets whose folders hold symbolic links to those files:
//   ACKernelsAVX512    -target-cpu skylake-avx512, FMA        (x86_64 only)
//   ACKernelsAVX2      -target-cpu haswell, FMA               (x86_64 only)
//   ACKernelsBaseline  the default target CPU; on x86_64 separate multiply and add (no FMA
//                      instruction exists there, and `addingProduct` would become a libm
//                      `fmaf` call per lane); on aarch64 NEON with FMA.
// ACRuntime itself is built for the baseline CPU and picks a kernel table at model load
// (cpuid), so the library loads and runs on any x86_64. Each ISA module's only public symbol
// is `kernelTable()`; scripts/check_isa.sh verifies the built objects (zmm/ymm FMAs where
// expected, none in the baseline, and no code symbol emitted by two ISA modules, which the
// linker would merge so that one ISA's copy runs for all).
//
// Exclusivity checks are off in the kernels because they only touch memory through unsafe
// pointers. In release builds the kernels also drop integer-overflow traps (-Ounchecked): their
// index arithmetic is bounded by the loader's validation (every dimension ≤ 2^20, every tensor
// ≤ 2^31 elements, sizes overflow-checked with explicit *ReportingOverflow calls), and the
// traps cost ~40% of the direct-convolution throughput. Debug builds (the test suite) keep them.
func kernelSettings(cpu: String?, fma: Bool, define: String) -> [SwiftSetting] {
    var flags = ["-enforce-exclusivity=unchecked"]
    if let cpu { flags += ["-Xcc", "-march=\(cpu)", "-target-cpu", cpu] }
    var settings =
        commonSwiftSettings + [
            .unsafeFlags(flags), .define(define),
            .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
        ]
    if fma { settings.append(.define("ACNET_ISA_FMA")) }
    return settings
}
#if arch(x86_64)
let kernelTargets: [Target] = [
    .target(
        name: "ACKernelsAVX512", dependencies: ["ACKernelTypes", "CACNet"],
        swiftSettings: kernelSettings(cpu: "skylake-avx512", fma: true, define: "ACNET_ISA_AVX512")),
    .target(
        name: "ACKernelsAVX2", dependencies: ["ACKernelTypes", "CACNet"],
        swiftSettings: kernelSettings(cpu: "haswell", fma: true, define: "ACNET_ISA_AVX2")),
    .target(
        name: "ACKernelsBaseline", dependencies: ["ACKernelTypes", "CACNet"],
        swiftSettings: kernelSettings(cpu: nil, fma: false, define: "ACNET_ISA_BASELINE")),
]
#elseif arch(arm64)
// aarch64: NEON and FMA are part of the base ISA. ACNET_ISA_NEON selects the tiles sized for its
// 32 × 128-bit registers (ConvDirect); the aarch64 C library (scripts/build_embedded_lib.sh),
// golden-tested under qemu-aarch64 in CI, compiles the kernels with the same two conditions.
let kernelTargets: [Target] = [
    .target(
        name: "ACKernelsBaseline", dependencies: ["ACKernelTypes", "CACNet"],
        swiftSettings: kernelSettings(cpu: nil, fma: true, define: "ACNET_ISA_NEON"))
]
#else
let kernelTargets: [Target] = [
    .target(
        name: "ACKernelsBaseline", dependencies: ["ACKernelTypes", "CACNet"],
        swiftSettings: kernelSettings(cpu: nil, fma: true, define: "ACNET_ISA_BASELINE"))
]
#endif
#if arch(x86_64)
let trainingKernelSettings = kernelSettings(cpu: "skylake-avx512", fma: true, define: "ACNET_ISA_AVX512")
// The same training tiles for AVX2 + FMA (16 ymm registers: smaller register tiles, chosen by
// ACNET_ISA_AVX2 in Sources/ACTrainingKernels/DirectConvTilesAVX2.swift); the folder holds
// symbolic links to Sources/ACTrainingKernels, as the runtime's ISA folders do.
let trainingKernelTargets: [Target] = [
    .target(
        name: "ACTrainingKernelsAVX2",
        swiftSettings: kernelSettings(cpu: "haswell", fma: true, define: "ACNET_ISA_AVX2"))
]
#else
let trainingKernelSettings = kernelSettings(cpu: nil, fma: true, define: "ACNET_ISA_BASELINE")
let trainingKernelTargets: [Target] = []
#endif
// The runtime (the .acnb parser and validator, the planner, the session) keeps Swift's
// overflow and bounds checks in every configuration: it is the part that reads hostile files,
// and its cost is per op, not per multiply-add. Only the kernel modules drop them (-Ounchecked,
// above). scripts/fuzz.sh builds its fuzzer with these same flags, module by module.
let runtimeSwiftSettings: [SwiftSetting] =
    commonSwiftSettings + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"])
    ]

let package = Package(
    name: "ACNet",
    products: [
        .library(name: "ACRuntime", targets: ["ACRuntime"]),
        .library(name: "ACNetWriter", targets: ["ACNetWriter"]),
        .library(name: "ACTraining", targets: ["ACTraining"]),
        // The C library. `make install` renames libacnetc.so to libacnet.so (a library product
        // cannot share the name of the `acnet` executable).
        .library(name: "acnetc", type: .dynamic, targets: ["CInterface"]),
        .executable(name: "acnet", targets: ["acnet"]),
        .executable(name: "acnet-swift-example", targets: ["ACNetSwiftExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation --target ACRuntime` (DocC; a plugin, nothing linked).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C support for the runtime: cpuid, and the thread-local error buffer of the C ABI.
        // It also exposes include/acnet.h (through a symlink) to CInterface.
        .target(name: "CACNet"),
        // The kernels' argument types (TensorView, geometries, KernelTable), shared by the
        // runtime and every ISA build of the kernels.
        .target(name: "ACKernelTypes", swiftSettings: commonSwiftSettings),
        .target(
            name: "ACRuntime",
            dependencies: ["CACNet", "ACKernelTypes"] + kernelTargets.map { .target(name: $0.name) },
            swiftSettings: runtimeSwiftSettings),
        .target(
            name: "CInterface",
            dependencies: ["ACRuntime", "CACNet"],
            swiftSettings: commonSwiftSettings),
        .target(
            name: "ACNetWriter",
            dependencies: ["ACRuntime"],
            swiftSettings: commonSwiftSettings),

        // Thin C shims over system libraries (Debian: libjpeg-dev, libopenblas-dev, zlib1g-dev).
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        .target(
            name: "ACTraining",
            dependencies: [
                "ACRuntime", "ACNetWriter", "CJPEG", "COpenBLAS", "CZlib", "CACNet",
                "ACTrainingKernels",
            ] + trainingKernelTargets.map { .target(name: $0.name) },
            swiftSettings: commonSwiftSettings),
        // ACTraining's direct-convolution tile loops (Sources/ACTrainingKernels), built like
        // ACKernelsAVX512 (on x86_64: -target-cpu skylake-avx512, FMA, -Ounchecked in release)
        // and called only when the CPU has AVX-512 (with AVX2 only: ACTrainingKernelsAVX2;
        // otherwise ACTraining uses im2col + OpenBLAS).
        .target(
            name: "ACTrainingKernels",
            swiftSettings: trainingKernelSettings),
        // ONNX import (`acnet import`): ONNX protobuf reading (onnx.pb.swift, generated once from
        // onnx.proto by protoc-gen-swift 1.39.0), graph lowering, BatchNorm and branch fusion.
        .target(
            name: "ACImport",
            dependencies: ["ACRuntime", "ACNetWriter", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: commonSwiftSettings),
        .executableTarget(
            name: "acnet",
            dependencies: [
                "ACRuntime", "ACNetWriter", "ACTraining", "CJPEG", "ACImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: commonSwiftSettings),
        .executableTarget(
            name: "ACNetSwiftExample",
            dependencies: ["ACRuntime"],
            path: "examples/swift",
            swiftSettings: commonSwiftSettings),

    ] + kernelTargets + trainingKernelTargets + [
        .testTarget(
            name: "ACRuntimeTests",
            dependencies: ["ACRuntime", "ACNetWriter"],
            resources: [.copy("Fixtures")],
            swiftSettings: commonSwiftSettings),
        .testTarget(
            name: "JPEGTests",
            dependencies: ["CJPEG", "ACRuntime", "ACNetWriter", "acnet"],
            swiftSettings: commonSwiftSettings),
        .testTarget(
            name: "CInterfaceTests",
            dependencies: ["CInterface", "ACRuntime", "ACNetWriter", "CACNet"],
            swiftSettings: commonSwiftSettings),
        .testTarget(
            name: "ACTrainingTests",
            dependencies: ["ACTraining", "ACRuntime", "ACNetWriter"],
            resources: [.copy("Fixtures")],
            swiftSettings: commonSwiftSettings),
        .testTarget(
            name: "ACImportTests",
            dependencies: ["ACImport", "ACRuntime", "ACNetWriter"],
            exclude: ["Fixtures"],
            swiftSettings: commonSwiftSettings),
    ]
)

// Development aid: `ACNET_CORE_ONLY=1 swift test` builds only the runtime, the writer and the
// C ABI with their tests (faster on 2 cores, and independent of the training side).
if Context.environment["ACNET_CORE_ONLY"] != nil {
    let skip: Set<String> = [
        "ACTraining", "ACTrainingKernels", "ACTrainingKernelsAVX2", "ACTrainingTests", "acnet", "CJPEG", "COpenBLAS",
        "CZlib", "JPEGTests", "ACImport", "ACImportTests",
    ]
    package.targets.removeAll { skip.contains($0.name) }
    package.products.removeAll { ["ACTraining", "acnet"].contains($0.name) }
}
