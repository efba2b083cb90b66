// swift-tools-version: 6.1
//
// ACNet for Swift: train Asymmetric Convolution Networks on the CPU, fuse them, and run the
// fused models with an allocation-free runtime (Swift API and C ABI).
//
// Module map (see ../docs and DESIGN):
//   ACRuntime     inference runtime: .acnb reader/validator, planner, kernels, Model/Session.
//                 Foundation-free and Embedded-clean.
//   CInterface    the C ABI of include/acnet.h, implemented with `@c @implementation`.
//   ACNetWriter   .acnb writer and weight packing (used by tests and the training side).
//   ACTraining    training: layers, ACB, BatchNorm, SGD, data, checkpoints, fusion, export.
//   acnet         the command-line tool.
import PackageDescription

// Flags shared by every Swift target.
let commonSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

// The runtime's kernels use SIMD16<Float>.addingProduct. Without an ISA that has FMA the
// compiler lowers it to a libm `fmaf` call (~0.8 GFLOP/s instead of ~116, DESIGN §5), so on
// x86_64 the runtime is compiled for Haswell-level x86-64 (AVX2 + FMA; "x86-64-v3" is not a CPU name
// LLVM accepts here). Exclusivity checks are off in the
// runtime because its kernels only touch memory through unsafe pointers.
#if arch(x86_64)
let runtimeISAFlags: [String] = ["-Xcc", "-march=skylake-avx512", "-target-cpu", "skylake-avx512"]
#else
let runtimeISAFlags: [String] = []
#endif
// In release builds the runtime also drops integer-overflow traps (-Ounchecked): the kernels'
// index arithmetic is bounded by the loader's validation (every dimension ≤ 2^20, every tensor
// ≤ 2^31 elements, sizes overflow-checked with explicit *ReportingOverflow calls), and the traps
// cost ~40% of the direct-convolution throughput. Debug builds (the test suite) keep them.
let runtimeSwiftSettings: [SwiftSetting] = commonSwiftSettings + [
    .unsafeFlags(runtimeISAFlags + ["-enforce-exclusivity=unchecked"]),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
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
    ],
    targets: [
        // C support for the runtime: cpuid, and the thread-local error buffer of the C ABI.
        // It also exposes include/acnet.h (through a symlink) to CInterface.
        .target(name: "CACNet"),
        .target(
            name: "ACRuntime",
            dependencies: ["CACNet"],
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
            dependencies: ["ACRuntime", "ACNetWriter", "CJPEG", "COpenBLAS", "CZlib"],
            swiftSettings: commonSwiftSettings),
        .executableTarget(
            name: "acnet",
            dependencies: [
                "ACRuntime", "ACNetWriter", "ACTraining", "CJPEG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: commonSwiftSettings),
        .executableTarget(
            name: "ACNetSwiftExample",
            dependencies: ["ACRuntime"],
            path: "examples/swift",
            swiftSettings: commonSwiftSettings),

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
    ]
)

// Development aid: `ACNET_CORE_ONLY=1 swift test` builds only the runtime, the writer and the
// C ABI with their tests (faster on 2 cores, and independent of the training side).
if Context.environment["ACNET_CORE_ONLY"] != nil {
    let skip: Set<String> = ["ACTraining", "ACTrainingTests", "acnet", "CJPEG", "COpenBLAS", "CZlib", "JPEGTests"]
    package.targets.removeAll { skip.contains($0.name) }
    package.products.removeAll { ["ACTraining", "acnet"].contains($0.name) }
}
