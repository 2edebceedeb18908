// swift-tools-version: 6.2
//
// Kymograph's benchmarks (ordo-one/benchmark). Run from this folder:
//   swift package --allow-writing-to-package-directory benchmark
// or one suite: `swift package benchmark --target SketchesBenchmarks`.
// Set KYMO_TARGET_CPU=haswell on x86-64 (../scripts/target-cpu) so the engine is built with FMA.

import PackageDescription

let benchmarkSuites = ["Engine", "Sketches", "Store", "Recorder", "Query"]

let package = Package(
    name: "KymographBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Kymograph", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // `swift run -c release kymo-ratios [suite]`: prints our speed beside a peer's, as ratios
        // measured in one run, side by side (the machine is shared and noisy: never compare one
        // absolute time against a constant).
        .executableTarget(
            name: "kymo-ratios",
            dependencies: [
                .product(name: "KymoCore", package: "Kymograph"),
                .product(name: "KymoEngine", package: "Kymograph"),
                .product(name: "KymoSketches", package: "Kymograph"),
                .product(name: "KymoStore", package: "Kymograph"),
                .product(name: "KymoRecorder", package: "Kymograph"),
                .product(name: "KymoReplay", package: "Kymograph"),
                .product(name: "KymoQuery", package: "Kymograph"),
                "COpenBLAS",
            ],
            path: "Ratios"
        ),
        // OpenBLAS, linked by the benchmarks only, as the GEMM's peer (Debian: libopenblas-dev).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    ] + benchmarkSuites.map { suite in
        .executableTarget(
            name: "\(suite)Benchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KymoCore", package: "Kymograph"),
                .product(name: "KymoEngine", package: "Kymograph"),
                .product(name: "KymoSketches", package: "Kymograph"),
                .product(name: "KymoStore", package: "Kymograph"),
                .product(name: "KymoRecorder", package: "Kymograph"),
                .product(name: "KymoQuery", package: "Kymograph"),
                "COpenBLAS",
            ],
            path: "Benchmarks/\(suite)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
