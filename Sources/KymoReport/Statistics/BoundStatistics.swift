/// One answer checked against the exact tier: the estimate, its stated bound and confidence,
/// and the true value (from T1, T3 or replay).
package struct BoundedObservation: Sendable, Equatable {
    package var estimate: Double
    package var lower: Double
    package var upper: Double
    package var truth: Double
    /// The stated probability that `truth ∈ [lower, upper]`; 1 for a deterministic bound.
    package var confidence: Double

    /// - Complexity: O(1).
    package init(estimate: Double, lower: Double, upper: Double, truth: Double, confidence: Double = 1) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
        self.truth = truth
        self.confidence = confidence
    }

    /// Whether the bound holds: `lower ≤ truth ≤ upper`.
    /// - Complexity: O(1).
    package var isCovered: Bool { lower <= truth && truth <= upper }

    /// `|estimate − truth|`.
    /// - Complexity: O(1).
    package var error: Double { abs(estimate - truth) }

    /// `upper − lower`.
    /// - Complexity: O(1).
    package var width: Double { upper - lower }
}

/// What the error-bound report states for one (sketch, question type): how often the stated
/// bounds held, and how large the errors actually were.
package struct BoundStatistics: Sendable, Equatable {
    /// Number of observations.
    package var count: Int
    /// Observations whose truth lies within [lower, upper].
    package var covered: Int
    /// The smallest stated confidence (the rate the bound promises for every observation).
    package var statedConfidence: Double
    /// Median of |estimate − truth| (mean of the two middle values for an even count).
    package var medianError: Double
    /// Largest |estimate − truth|.
    package var worstError: Double
    /// Median of upper − lower.
    package var medianWidth: Double
    /// The 95 % Wilson score interval of the true coverage rate.
    package var coverageInterval: (lower: Double, upper: Double)

    /// covered / count (0 when empty).
    /// - Complexity: O(1).
    package var coverageRate: Double { count == 0 ? 0 : Double(covered) / Double(count) }

    /// Whether the observed coverage is consistent with the stated confidence: the Wilson
    /// interval's upper end reaches it (for deterministic bounds: every bound held).
    /// - Complexity: O(1).
    package var holds: Bool {
        if count == 0 { return true }
        if statedConfidence >= 1 { return covered == count }
        return coverageInterval.upper >= statedConfidence
    }

    /// Computes the statistics; NaN truths or estimates count as uncovered with infinite error.
    /// - Complexity: O(n log n) for the medians.
    package init(_ observations: [BoundedObservation]) {
        count = observations.count
        covered = observations.reduce(0) { $0 + ($1.isCovered ? 1 : 0) }
        statedConfidence = observations.map(\.confidence).min() ?? 1
        let errors = observations.map { $0.error.isNaN ? Double.infinity : $0.error }
        medianError = BoundStatistics.median(errors)
        worstError = errors.max() ?? 0
        medianWidth = BoundStatistics.median(observations.map(\.width))
        coverageInterval = BoundStatistics.wilson(successes: covered, trials: count)
    }

    /// The median of `values` (0 when empty); ties broken by a total order, so NaN sorts last.
    /// - Complexity: O(n log n).
    package static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted { a, b in a.isNaN ? false : (b.isNaN || a < b) }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// The 95 % Wilson score interval for a binomial proportion (z = 1.96).
    /// - Complexity: O(1).
    package static func wilson(successes: Int, trials: Int) -> (lower: Double, upper: Double) {
        guard trials > 0 else { return (0, 1) }
        let z = 1.959963984540054
        let n = Double(trials)
        let p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / denominator
        // At p = 0 or 1 one end is exactly 0 or 1; say so rather than trust the rounding.
        return (successes == 0 ? 0 : max(0, centre - half), successes == trials ? 1 : min(1, centre + half))
    }

    /// Field-wise equality (the tuple field keeps the synthesized one from existing).
    /// - Complexity: O(1).
    package static func == (a: BoundStatistics, b: BoundStatistics) -> Bool {
        a.count == b.count && a.covered == b.covered && a.statedConfidence == b.statedConfidence
            && a.medianError == b.medianError && a.worstError == b.worstError && a.medianWidth == b.medianWidth
            && a.coverageInterval.lower == b.coverageInterval.lower && a.coverageInterval.upper == b.coverageInterval.upper
    }
}
