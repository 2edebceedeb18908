import Benchmark

let benchmarks: @Sendable () -> Void = {
    // Store suite: filled in by its issue.
}
