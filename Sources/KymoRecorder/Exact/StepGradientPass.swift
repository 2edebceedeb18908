/// What one step's pass over the P-float gradient and update vectors yields for T0.
package struct StepGradientSummary: Equatable, Sendable {
    /// Exact count of |g| > θ_k for each record-time threshold.
    package var aboveCounts: [Int]
}

/// T0's per-step work over all P parameters, fused: the epoch accumulators, the |g| histogram
/// (reset here: it is the step's) and the exact counts at the record-time thresholds, chunk by chunk (16 KiB of each vector) so each chunk is read from memory once.
///
/// Threshold counts (`|g| > θ`) come from the histogram for free when every θ is snapped
/// (`MagnitudeHistogram.snap`: just below a bucket boundary); otherwise a `ThresholdCounter` pass
/// runs on each chunk as well.
package struct StepGradientPass: Sendable {
    /// The record-time thresholds, ascending.
    package let thresholds: [Float]
    private let counter: ThresholdCounter?

    /// Elements per chunk.
    static let chunk = 4096

    /// - Throws: `RecorderError.invalidConfiguration` for thresholds that are not ascending,
    ///   finite and ≥ 0.
    /// - Complexity: O(k).
    package init(thresholds: [Float], histogram: MagnitudeHistogram) throws {
        let checked = try ThresholdCounter(thresholds: thresholds)
        self.thresholds = thresholds
        counter = thresholds.allSatisfy { histogram.isSnapped($0) } ? nil : checked
    }

    /// Whether the threshold counts come from the histogram (no extra pass).
    package var countsFromHistogram: Bool { counter == nil }

    /// The step's |g| histogram (reset here) and its exact threshold counts, without the epoch
    /// accumulators (`StepPreparer`; the recorder thread adds the accumulators in step order).
    /// - Complexity: O(P) (plus O(P·k/8) when thresholds are not boundaries).
    package func summarize(gradient: UnsafeBufferPointer<Float>, histogram: inout MagnitudeHistogram) -> StepGradientSummary {
        histogram.reset()
        var counts = [Int](repeating: 0, count: thresholds.count)
        var start = 0
        while start < gradient.count {
            let g = UnsafeBufferPointer(rebasing: gradient[start..<min(gradient.count, start + Self.chunk)])
            if let counter {
                let c = counter.counts(g)
                for k in counts.indices { counts[k] += c[k] }
            }
            histogram.add(g)
            start += Self.chunk
        }
        if counter == nil {
            for (k, theta) in thresholds.enumerated() { counts[k] = Int(histogram.count(above: theta)!) }
        }
        return StepGradientSummary(aboveCounts: counts)
    }

    /// Runs the fused pass for one step.
    /// - Throws: `RecorderError.shapeMismatch` when a vector is not P long.
    /// - Complexity: O(P) (plus O(P·k/8) when thresholds are not boundaries); ns/param in
    ///   docs/RECORDING.md.
    package func run(update: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     accumulators: inout EpochAccumulators, histogram: inout MagnitudeHistogram) throws -> StepGradientSummary {
        histogram.reset()
        var counts = [Int](repeating: 0, count: thresholds.count)
        try accumulators.addChunked(update: update, gradient: gradient, chunk: Self.chunk) { start, end in
            let g = UnsafeBufferPointer(rebasing: gradient[start..<end])
            if let counter {
                let c = counter.counts(g)
                for k in counts.indices { counts[k] += c[k] }
            }
            histogram.add(g)
        }
        if counter == nil {
            for (k, theta) in thresholds.enumerated() { counts[k] = Int(histogram.count(above: theta)!) }
        }
        return StepGradientSummary(aboveCounts: counts)
    }

    /// `run` for consecutive steps in one pass over the accumulators (`addBatchChunked`), each
    /// step with its own histogram (`histograms[k]`, reset here): the same results as one `run`
    /// per step.
    /// - Throws: `RecorderError.shapeMismatch` when a vector is not P long or the counts differ.
    /// - Complexity: O(P · steps).
    package func runBatch(updates: [UnsafeBufferPointer<Float>], gradients: [UnsafeBufferPointer<Float>],
                          accumulators: inout EpochAccumulators, histograms: inout [MagnitudeHistogram]) throws -> [StepGradientSummary] {
        let steps = gradients.count
        guard histograms.count >= steps else {
            throw RecorderError.shapeMismatch(what: "histograms", expected: steps, actual: histograms.count)
        }
        for k in 0..<steps { histograms[k].reset() }
        var counts = Array(repeating: [Int](repeating: 0, count: thresholds.count), count: steps)
        try accumulators.addBatchChunked(updates: updates, gradients: gradients, chunk: Self.chunk) { start, end in
            for k in 0..<steps {
                let g = UnsafeBufferPointer(rebasing: gradients[k][start..<end])
                if let counter {
                    let c = counter.counts(g)
                    for j in counts[k].indices { counts[k][j] += c[j] }
                }
                histograms[k].add(g)
            }
        }
        if counter == nil {
            for k in 0..<steps {
                for (j, theta) in thresholds.enumerated() { counts[k][j] = Int(histograms[k].count(above: theta)!) }
            }
        }
        return counts.map { StepGradientSummary(aboveCounts: $0) }
    }
}
