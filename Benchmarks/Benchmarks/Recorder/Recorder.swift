import Benchmark

let benchmarks: @Sendable () -> Void = {
    // Recorder suite: filled in by its issue.
}
