// swift-tools-version: 6.2
//
// Kymograph: records how a neural network learns, with streaming sketches,
// and answers questions about it with error bounds.
//
// Imports run one way:
//   kymo → KymoReport / KymoQuery → KymoReplay → KymoRecorder
//        → KymoStore, KymoSketches, KymoEngine → KymoCore → CXXHash, CZlib
//   KymoStore → CZstd
//   KymoEngine → CKernels (C: the AVX2/FMA small-GEMM kernels)
//   KymoEngine, KymoRecorder → CStreaming (C header: streaming stores)
//
// x86-64 builds want FMA: set KYMO_TARGET_CPU=haswell (scripts/target-cpu prints the right value
// for this machine; scripts/build and scripts/test set it). It becomes `-target-cpu <cpu>` for
// every Swift target and `-march=<cpu>` for the C target CKernels, whose intrinsic kernels are
// compiled only when that enables AVX2 and FMA. Without it the build still works, only the dense
// kernels are slower (KymoEngine then uses its pure-Swift kernels, with the same bits). The
// setting lives here, not in -Xswiftc/-Xcc flags, so that the Benchmarks package, which depends
// on this one by path, gets the same code generation.

import PackageDescription

let targetCPU: [SwiftSetting] = Context.environment["KYMO_TARGET_CPU"].map { cpu in
    cpu.isEmpty ? [] : [.unsafeFlags(["-target-cpu", cpu])]
} ?? []
let targetCPUForC: [CSetting] = Context.environment["KYMO_TARGET_CPU"].map { cpu in
    cpu.isEmpty ? [] : [.unsafeFlags(["-march=\(cpu)"])]
} ?? []

let package = Package(
    name: "Kymograph",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kymo", targets: ["kymo"]),
        .library(name: "KymoCore", targets: ["KymoCore"]),
        .library(name: "KymoEngine", targets: ["KymoEngine"]),
        .library(name: "KymoSketches", targets: ["KymoSketches"]),
        .library(name: "KymoStore", targets: ["KymoStore"]),
        .library(name: "KymoRecorder", targets: ["KymoRecorder"]),
        .library(name: "KymoQuery", targets: ["KymoQuery"]),
        .library(name: "KymoReplay", targets: ["KymoReplay"]),
        .library(name: "KymoReport", targets: ["KymoReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - C libraries (Debian: libzstd-dev, libxxhash-dev, zlib1g-dev)

        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]
        ),

        // Streaming (non-temporal) stores for Swift, which cannot spell them: header-only.
        .target(name: "CStreaming"),

        // MARK: - Foundations shared by every module

        .target(name: "KymoCore", dependencies: ["CXXHash", "CZlib"], swiftSettings: targetCPU),

        // MARK: - Training engine, sketches, store

        // The fixed-shape GEMM micro-kernels Swift cannot express (exact AVX2 shuffles).
        .target(name: "CKernels", cSettings: targetCPUForC),
        .target(name: "KymoEngine", dependencies: ["KymoCore", "CKernels", "CStreaming"], swiftSettings: targetCPU),
        .target(name: "KymoSketches", dependencies: ["KymoCore"], swiftSettings: targetCPU),
        .target(name: "KymoStore", dependencies: ["KymoCore", "CZstd"], swiftSettings: targetCPU),

        // MARK: - Recording, querying, replaying, reporting

        .target(name: "KymoRecorder", dependencies: ["KymoEngine", "KymoSketches", "KymoStore", "CStreaming"], swiftSettings: targetCPU),
        .target(name: "KymoReplay", dependencies: ["KymoRecorder"], swiftSettings: targetCPU),
        .target(name: "KymoQuery", dependencies: ["KymoReplay"], swiftSettings: targetCPU),
        .target(name: "KymoReport", dependencies: ["KymoQuery"], swiftSettings: targetCPU),

        // MARK: - The command-line tool

        .executableTarget(
            name: "kymo",
            dependencies: [
                "KymoReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: targetCPU
        ),

        // MARK: - Studies (Notebooks-as-scripts/<study>/main.swift; CI builds them)
        .target(name: "StudySupport", dependencies: ["KymoReport"], path: "Notebooks-as-scripts/Support", swiftSettings: targetCPU),
    ] + ["ordering", "explosion", "dead-weights", "influence"].map { study in
        .executableTarget(
            name: "study-\(study)",
            dependencies: ["KymoReport", "StudySupport"],
            path: "Notebooks-as-scripts/\(study)",
            swiftSettings: targetCPU
        )
    } + [
        // MARK: - Tests

        .target(name: "KymoTestSupport", dependencies: ["KymoReport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoCoreTests", dependencies: ["KymoCore", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoEngineTests", dependencies: ["KymoEngine", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoSketchesTests", dependencies: ["KymoSketches", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoStoreTests", dependencies: ["KymoStore", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoRecorderTests", dependencies: ["KymoRecorder", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoReplayTests", dependencies: ["KymoReplay", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoQueryTests", dependencies: ["KymoQuery", "KymoTestSupport"], swiftSettings: targetCPU),
        .testTarget(name: "KymoReportTests", dependencies: ["KymoReport", "KymoTestSupport"], swiftSettings: targetCPU),
    ]
)
