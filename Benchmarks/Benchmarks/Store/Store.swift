import Benchmark
import Foundation
import KymoStore

// Store suite: write and read Float32 weight snapshots (16 chunks of 64 × 4096 floats = 16 MiB
// of raw values per iteration; MB/s = 16.8 / seconds per iteration), and open + locate on an
// index as large as a 10 GiB store. `kymo-ratios store` prints the same figures as MB/s.

let storeRoot = FileManager.default.temporaryDirectory.appendingPathComponent("kymo-store-bench-\(getpid())").path
let storeWidth = 4096, storeStepsPerChunk = 64, storeChunks = 16
let storeData: [[Float]] = (0..<storeChunks).map { c in
    StoreBenchmarkSupport.weightSnapshots(steps: (c * storeStepsPerChunk)..<((c + 1) * storeStepsPerChunk), width: storeWidth)
}

func storeWrite(_ lab: Lab, run: String) throws {
    let writer = try lab.createRun(run, manifest: RunManifest(tiers: ["t2"]))
    for c in 0..<storeChunks {
        try writer.append(column: "t2/w", steps: (c * storeStepsPerChunk)..<((c + 1) * storeStepsPerChunk), .float32(storeData[c]))
        if c % 4 == 3 { try writer.commit(through: (c + 1) * storeStepsPerChunk - 1) }
    }
    try writer.finish()
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 30)

    Benchmark("Write Float32 16 MiB (zstd 1, filter by trial, commit+fsync per 4 MiB)", configuration: configuration) { benchmark in
        let lab = try Lab(path: storeRoot + "/write")
        let run = "w\(UUID().uuidString)"
        benchmark.startMeasurement()
        try storeWrite(lab, run: run)
        benchmark.stopMeasurement()
        try? FileManager.default.removeItem(atPath: storeRoot + "/write/runs/" + run)
    } teardown: {
        try? FileManager.default.removeItem(atPath: storeRoot + "/write")
    }

    Benchmark("Read Float32 16 MiB (checksum, zstd, unfilter)", configuration: configuration) { benchmark in
        let reader = try Lab(path: storeRoot + "/read").openRun("r")
        for c in 0..<storeChunks {
            blackHole(try reader.read(column: "t2/w", steps: (c * storeStepsPerChunk)..<((c + 1) * storeStepsPerChunk)))
        }
    } setup: {
        try storeWrite(try Lab(path: storeRoot + "/read"), run: "r")
    } teardown: {
        try? FileManager.default.removeItem(atPath: storeRoot + "/read")
    }

    Benchmark("Open + locate, index of 10,240 chunks (10 GiB raw; index only)", configuration: configuration) { benchmark in
        let reader = try Lab(path: storeRoot + "/index").openRun("big")
        blackHole(reader.locate(column: "t2/layer5", steps: 40_000..<40_100).count)
    } setup: {
        let lab = try Lab(path: storeRoot + "/index")
        try StoreBenchmarkSupport.makeIndexOnlyRun(lab: lab, name: "big", columns: (0..<8).map { "t2/layer\($0)" },
                                                   chunksPerColumn: 1280, chunkBytes: 1 << 20, stepsPerChunk: 64)
    } teardown: {
        try? FileManager.default.removeItem(atPath: storeRoot + "/index")
    }
}
