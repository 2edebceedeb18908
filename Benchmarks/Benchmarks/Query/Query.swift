import Benchmark

let benchmarks: @Sendable () -> Void = {
    // Query suite: filled in by its issue.
}
