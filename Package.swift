// swift-tools-version: 6.2
//
// Kymograph: records how a neural network learns, with streaming sketches,
// and answers questions about it with error bounds.
//
// Imports run one way:
//   kymo → KymoReport / KymoQuery → KymoReplay → KymoRecorder
//        → KymoStore, KymoSketches, KymoEngine → KymoCore → CXXHash, CZlib
//   KymoStore → CZstd
//
// x86-64 release builds want FMA: build with `-Xswiftc -target-cpu -Xswiftc haswell`
// (scripts/build does this). Without it the build still works, only the dense kernels are slower.

import PackageDescription

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

        // MARK: - Foundations shared by every module

        .target(name: "KymoCore", dependencies: ["CXXHash", "CZlib"]),

        // MARK: - Training engine, sketches, store

        .target(name: "KymoEngine", dependencies: ["KymoCore"]),
        .target(name: "KymoSketches", dependencies: ["KymoCore"]),
        .target(name: "KymoStore", dependencies: ["KymoCore", "CZstd"]),

        // MARK: - Recording, querying, replaying, reporting

        .target(name: "KymoRecorder", dependencies: ["KymoEngine", "KymoSketches", "KymoStore"]),
        .target(name: "KymoReplay", dependencies: ["KymoRecorder"]),
        .target(name: "KymoQuery", dependencies: ["KymoReplay"]),
        .target(name: "KymoReport", dependencies: ["KymoQuery"]),

        // MARK: - The command-line tool

        .executableTarget(
            name: "kymo",
            dependencies: [
                "KymoReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests

        .target(name: "KymoTestSupport", dependencies: ["KymoReport"]),
        .testTarget(name: "KymoCoreTests", dependencies: ["KymoCore", "KymoTestSupport"]),
        .testTarget(name: "KymoEngineTests", dependencies: ["KymoEngine", "KymoTestSupport"]),
        .testTarget(name: "KymoSketchesTests", dependencies: ["KymoSketches", "KymoTestSupport"]),
        .testTarget(name: "KymoStoreTests", dependencies: ["KymoStore", "KymoTestSupport"]),
        .testTarget(name: "KymoRecorderTests", dependencies: ["KymoRecorder", "KymoTestSupport"]),
        .testTarget(name: "KymoReplayTests", dependencies: ["KymoReplay", "KymoTestSupport"]),
        .testTarget(name: "KymoQueryTests", dependencies: ["KymoQuery", "KymoTestSupport"]),
        .testTarget(name: "KymoReportTests", dependencies: ["KymoReport", "KymoTestSupport"]),
    ]
)
