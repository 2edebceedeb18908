import Benchmark
import KymoSketches

// Sketches suite: `swift package --allow-writing-to-package-directory benchmark --target SketchesBenchmarks`.
// Each benchmark times single updates (scalingFactor .mega: the reported time is per update).
// `kymo-ratios sketches` prints the same figures beside their peers, measured in one run.
let benchmarks: @Sendable () -> Void = {
    sketchBenchmarks()
}

func sketchBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], warmupIterations: 1, scalingFactor: .mega, maxDuration: .seconds(2))
    let n = 1 << 16, mask = n - 1
    let uniform = SketchBenchmarkInputs.uniformKeys(count: n, seed: 1)
    let zipf = SketchBenchmarkInputs.zipfKeys(count: n, universe: 1 << 20, exponent: 1.1, seed: 2)
    let weights = SketchBenchmarkInputs.uniformFloats(count: n, in: 0.5, 1.5, seed: 3)
    let doubles = weights.map { Double($0) }
    let gradients = SketchBenchmarkInputs.gradientLike(count: n, seed: 4)
    // Bulk passes cover 62,500 items, so whole passes add up to the 10⁶ scaled iterations.
    let bulk = 62_500
    let bulkKeys = Array(uniform.prefix(bulk)), bulkWeights = Array(weights.prefix(bulk))
    func passes(_ benchmark: Benchmark) -> StrideTo<Int> { stride(from: 0, to: benchmark.scaledIterations.count, by: bulk) }

    Benchmark("XXH3 8-byte key", configuration: configuration) { benchmark in
        var acc: UInt64 = 0
        for _ in passes(benchmark) { acc ^= SketchHash.hashAll(bulkKeys, seed: 42) }
        blackHole(acc)
    }
    Benchmark("Count-min 4x2^16 update", configuration: configuration) { benchmark in
        var sketch = try CountMinSketch(width: 1 << 16, depth: 4, seed: 7)
        for i in benchmark.scaledIterations { sketch.update(uniform[i & mask], weight: weights[i & mask]) }
        blackHole(sketch.totalWeight)
    }
    Benchmark("Count-min 4x2^16 bulk update", configuration: configuration) { benchmark in
        var sketch = try CountMinSketch(width: 1 << 16, depth: 4, seed: 7)
        for _ in passes(benchmark) { sketch.update(bulkKeys, weights: bulkWeights) }
        blackHole(sketch.totalWeight)
    }
    Benchmark("Count sketch 5x2^12 update", configuration: configuration) { benchmark in
        var sketch = try CountSketch(width: 1 << 12, depth: 5, seed: 7)
        for i in benchmark.scaledIterations { sketch.update(uniform[i & mask], value: doubles[i & mask]) }
        blackHole(sketch.width)
    }
    Benchmark("Space-Saving k=256 Zipf(1.1) update", configuration: configuration) { benchmark in
        var sketch = try SpaceSavingSketch(capacity: 256, seed: 7)
        for i in benchmark.scaledIterations { sketch.update(zipf[i & mask], weight: doubles[i & mask]) }
        blackHole(sketch.totalWeight)
    }
    Benchmark("Space-Saving k=256 offer rejected", configuration: configuration) { benchmark in
        var sketch = try SpaceSavingSketch(capacity: 256, seed: 7)
        for i in 0..<n { sketch.update(zipf[i], weight: doubles[i]) }
        for i in benchmark.scaledIterations { sketch.offer(zipf[i & mask], weight: doubles[i & mask] * 1e-9) }
        blackHole(sketch.rejectedWeight)
    }
    Benchmark("Quantiles (DDSketch m=6) update", configuration: configuration) { benchmark in
        var sketch = try MagnitudeQuantiles(precisionBits: 6)
        for i in benchmark.scaledIterations { sketch.update(gradients[i & mask]) }
        blackHole(sketch.count)
    }
    Benchmark("Priority sample k=1024 update", configuration: configuration) { benchmark in
        var sketch = try PrioritySample(capacity: 1024, seed: 7)
        for i in benchmark.scaledIterations { sketch.update(uniform[i & mask], weight: doubles[i & mask], value: doubles[i & mask]) }
        blackHole(sketch.count)
    }
    Benchmark("Uniform reservoir k=1024 update", configuration: configuration) { benchmark in
        var sketch = try UniformReservoir(capacity: 1024, seed: 7)
        for i in benchmark.scaledIterations { sketch.update(uniform[i & mask]) }
        blackHole(sketch.count)
    }
    Benchmark("Trajectory 8-bit append (per weight)", configuration: configuration) { benchmark in
        var trajectory = try QuantizedTrajectory(weightCount: bulk, blockSize: 64, codeBits: 8, quantum: 1e-4)
        var step = Array(gradients.prefix(bulk))
        for _ in passes(benchmark) {
            for j in step.indices { step[j] += 1e-4 * weights[j] }
            trajectory.append(step)
        }
        blackHole(trajectory.stepCount)
    }
}
