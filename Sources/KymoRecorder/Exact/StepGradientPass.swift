/// What one step's pass over the P-float gradient and update vectors yields for T0.
package struct StepGradientSummary: Equatable, Sendable {
    /// Exact count of |g| > θ_k for each record-time threshold.
    package var aboveCounts: [Int]
    /// ‖g‖₂² of the batch gradient, summed in a fixed order (8 lanes per chunk, chunks in order).
    package var gradientNormSquared: Double
    /// ‖Δw‖₂² of the update, same order.
    package var updateNormSquared: Double
}

/// T0's per-step work over all P parameters, fused: the epoch accumulators, the exact threshold
/// counts, the |g| histogram and the two global norms, chunk by chunk (16 KiB of each vector), so
/// each chunk is read from memory once and reused from L1 by every kernel.
package enum StepGradientPass {
    /// Elements per chunk.
    static let chunk = 4096

    /// Runs the fused pass.
    /// - Throws: `RecorderError.shapeMismatch` when a vector is not P long.
    /// - Complexity: O(P·(1 + k/8)) for k thresholds; measured ns/param in docs/RECORDING.md.
    package static func run(update: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                            accumulators: inout EpochAccumulators, thresholds: ThresholdCounter,
                            histogram: inout MagnitudeHistogram) throws -> StepGradientSummary {
        let p = accumulators.parameterCount
        guard update.count == p else { throw RecorderError.shapeMismatch(what: "update", expected: p, actual: update.count) }
        guard gradient.count == p else { throw RecorderError.shapeMismatch(what: "gradient", expected: p, actual: gradient.count) }
        var counts = [Int](repeating: 0, count: thresholds.thresholds.count)
        var gg = 0.0, uu = 0.0
        try accumulators.addChunked(update: update, gradient: gradient, chunk: chunk) { start, end in
            let g = UnsafeBufferPointer(rebasing: gradient[start..<end])
            let u = UnsafeBufferPointer(rebasing: update[start..<end])
            let c = thresholds.counts(g)
            for k in counts.indices { counts[k] += c[k] }
            histogram.add(g)
            gg += Double(SampleFactorStatistics.sumOfSquares(g))
            uu += Double(SampleFactorStatistics.sumOfSquares(u))
        }
        return StepGradientSummary(aboveCounts: counts, gradientNormSquared: gg, updateNormSquared: uu)
    }
}
