import Benchmark

let benchmarks: @Sendable () -> Void = {
    // Sketches suite: filled in by its issue.
}
