import Benchmark
import KymoRecorder

// Recorder suite: `swift package --allow-writing-to-package-directory benchmark --target RecorderBenchmarks`.
// Each benchmark runs one seed-scale recorder workload per iteration (P = 535,818, B = 64): the
// reported time is per call (per step). `kymo-ratios recorder` prints the same workloads as ratios
// to a P-float copy, measured in one run.
let benchmarks: @Sendable () -> Void = {
    recorderBenchmarks()
}

func recorderBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], warmupIterations: 2, maxDuration: .seconds(2))
    for workload in RecorderWorkload.seedScale() {
        Benchmark(workload.name, configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { workload.run() }
        }
    }
}
