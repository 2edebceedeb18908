import KymoEngine

/// How `topSamples` ranks samples by their total contribution to one weight.
package enum ContributionRanking: String, Sendable, Equatable, CaseIterable {
    /// Most positive first (pushed the weight up most).
    case largest
    /// Most negative first (pushed the weight down most).
    case smallest
    /// Largest |total| first.
    case absolute
}

/// The top-k samples by contribution to one weight over the request's steps.
package struct TopSamplesQuery: Sendable, Equatable {
    package var parameter: Int
    package var k: Int
    package var ranking: ContributionRanking

    /// - Complexity: O(1).
    package init(parameter: Int, k: Int, ranking: ContributionRanking = .absolute) {
        self.parameter = parameter
        self.k = k
        self.ranking = ranking
    }
}

/// The first step in the request's range at which a weight reaches or crosses zero, the
/// contributions to it up to that step, and the k samples that pushed it towards zero most.
package struct ZeroCrossingQuery: Sendable, Equatable {
    package var parameter: Int
    package var k: Int

    /// - Complexity: O(1).
    package init(parameter: Int, k: Int) {
        self.parameter = parameter
        self.k = k
    }
}

/// What the query planner (or `kymo replay`) asks of a replay: a step range and the exact values to
/// compute on the way. Everything is computed during re-execution and returned in the
/// `ReplayResult`; nothing is written to the store.
///
/// Parameter ids are global (`ParameterLayout`); select them with `ParameterLayout.select(_:)`.
package struct ReplayRequest: Sendable, Equatable {
    /// Steps to observe, 0-based, `A..<B`. Replay starts at the newest checkpoint at or before A.
    package var steps: Range<Int>
    /// Per-sample contributions c(s,w,t) for these ids, exactly `StepTrace.contribution`.
    package var contributionIDs: [Int] = []
    /// The batch-mean gradient (weight decay excluded) of these ids at every step.
    package var gradientIDs: [Int] = []
    /// Per step, the number of parameters with |batch gradient| > each threshold (strictly).
    package var gradientThresholds: [Float] = []
    /// Values of these ids before the first observed step and after every step.
    package var trajectoryIDs: [Int] = []
    /// Per-step batch loss and per-sample losses.
    package var losses: Bool = false
    /// Σ|Δw| and ΣΔw of every parameter over the steps (question 2).
    package var changeTotals: Bool = false
    package var topSamples: [TopSamplesQuery] = []
    package var zeroCrossings: [ZeroCrossingQuery] = []
    /// Worker threads over independent segments; results do not depend on it.
    package var parallelism: Int = 2
    /// GEMM threads inside each segment; results do not depend on it.
    package var trainerThreads: Int = 1
    /// Replay on to the first checkpoint at or after B (when there is one) so the last segment's
    /// state is verified too; the extra steps are not observed.
    package var verifyThroughNextCheckpoint: Bool = false

    /// - Complexity: O(1).
    package init(steps: Range<Int>) { self.steps = steps }

    /// True when some probe needs the step traces (otherwise no observer is attached, and the
    /// trainer does none of the extra work an observer costs).
    var needsObserver: Bool {
        !contributionIDs.isEmpty || !gradientIDs.isEmpty || !gradientThresholds.isEmpty || !trajectoryIDs.isEmpty
            || losses || changeTotals || !topSamples.isEmpty || !zeroCrossings.isEmpty
    }

    /// Every id whose per-sample contributions the observer must collect, ascending, unique.
    var collectedIDs: [Int] {
        let all = contributionIDs + topSamples.map(\.parameter) + zeroCrossings.map(\.parameter)
        return Array(Set(all)).sorted()
    }
}

/// Per-sample contributions of a set of parameters: one row per (step, sample), rows in step
/// order then batch order, one column per id.
package struct ContributionTable: Sendable, Equatable {
    /// The column ids, in request order.
    package var ids: [Int]
    /// (rows) step index and data-set sample id of each row.
    package var steps: [Int] = []
    package var samples: [Int] = []
    /// (rows, ids.count) row-major: c(samples[r], ids[j], steps[r]).
    package var values: [Float] = []

    /// - Complexity: O(1).
    package init(ids: [Int]) { self.ids = ids }

    /// - Complexity: O(1).
    package var rowCount: Int { steps.count }

    /// c for row `row` and column `column`.
    /// - Complexity: O(1).
    package func value(row: Int, column: Int) -> Float { values[row * ids.count + column] }

    /// The column of `id`, or nil.
    /// - Complexity: O(ids).
    package func column(of id: Int) -> Int? { ids.firstIndex(of: id) }

    mutating func append(_ other: ContributionTable) {
        steps += other.steps
        samples += other.samples
        values += other.values
    }

    /// The same rows with only `keep` columns (in that order).
    func selecting(_ keep: [Int]) -> ContributionTable {
        if keep == ids { return self }
        let columns = keep.map { ids.firstIndex(of: $0)! }
        var out = ContributionTable(ids: keep)
        out.steps = steps
        out.samples = samples
        out.values.reserveCapacity(rowCount * keep.count)
        for r in 0..<rowCount {
            for c in columns { out.values.append(values[r * ids.count + c]) }
        }
        return out
    }
}

/// Values of a list of ids at one step.
package struct StepValues: Sendable, Equatable {
    package var step: Int
    package var values: [Float]
}

/// How many parameters' |batch gradient| exceeded each threshold at one step.
package struct StepGradientCounts: Sendable, Equatable {
    package var step: Int
    /// One count per requested threshold, in request order.
    package var counts: [Int]
    /// Number of parameters (the denominator).
    package var parameterCount: Int

    /// counts[i] / parameterCount.
    /// - Complexity: O(1).
    package func fraction(_ i: Int) -> Double { Double(counts[i]) / Double(parameterCount) }
}

/// A step's batch loss and per-sample losses.
package struct StepLosses: Sendable, Equatable {
    package var step: Int
    package var loss: Float
    package var sampleIDs: [Int]
    package var sampleLosses: [Float]
}

/// A sample's total contribution to one weight over a step range, summed in step order (Double,
/// rounded to Float once).
package struct SampleContribution: Sendable, Equatable {
    package var sample: Int
    package var total: Float
    /// Number of steps the sample took part in.
    package var occurrences: Int
}

/// Σ|Δw| and ΣΔw of every parameter (global ids) over a step range. Each segment (fixed by the
/// checkpoints, not by the workers) sums its steps in order in Double; the segments' sums are added
/// in segment order and rounded to Float once, so the totals do not depend on parallelism.
package struct ChangeTotals: Sendable, Equatable {
    package var absoluteSum: [Float]
    package var sum: [Float]

    /// The `k` ids with the largest Σ|Δw|, ties by ascending id.
    /// - Complexity: O(P log P).
    package func largest(_ k: Int) -> [Int] {
        Array(absoluteSum.indices.sorted { absoluteSum[$0] != absoluteSum[$1] ? absoluteSum[$0] > absoluteSum[$1] : $0 < $1 }.prefix(k))
    }
}

/// The answer to a `TopSamplesQuery`.
package struct TopSamples: Sendable, Equatable {
    package var query: TopSamplesQuery
    /// At most k, best first; ties by ascending sample id.
    package var samples: [SampleContribution]
}

/// The answer to a `ZeroCrossingQuery`.
package struct ZeroCrossing: Sendable, Equatable {
    package var query: ZeroCrossingQuery
    /// The first step t in range with w_before ≠ 0 and (w_after = 0 or sign(w_after) ≠ sign(w_before));
    /// nil when the weight does not reach zero in range.
    package var step: Int?
    /// The weight before the first observed step, and before/after the crossing step.
    package var initialValue: Float
    package var valueBefore: Float?
    package var valueAfter: Float?
    /// Every (step, sample, c) from the range start up to and including the crossing step (the
    /// whole range when there is none), in step then batch order.
    package var steps: [Int]
    package var samples: [Int]
    package var contributions: [Float]
    /// The k samples whose total contribution pushed the weight towards zero most (the sign
    /// opposite to `initialValue`'s), largest push first.
    package var towardZero: [SampleContribution]
}

/// Everything a replay computed, identical whatever the parallelism. Its source is `replay` and
/// every value is exact (zero width).
package struct ReplayResult: Sendable, Equatable {
    /// - Complexity: O(1).
    package var source: String { "replay" }
    package var request: ReplayRequest
    /// Segments executed, in order (each from its checkpoint or from the previous segment's end).
    package var segments: [Range<Int>]
    /// Checkpoint steps whose hash the replayed state reproduced.
    package var verifiedCheckpoints: [Int]
    /// Steps executed in total (including those between the start checkpoint and A).
    package var executedSteps: Int
    /// Only when requested (otherwise empty).
    package var contributions: ContributionTable
    package var gradients: [StepValues]
    package var gradientCounts: [StepGradientCounts]
    package var trajectoryInitial: [Float]
    package var trajectory: [StepValues]
    package var losses: [StepLosses]
    /// Nil unless `changeTotals` was requested.
    package var changeTotals: ChangeTotals?
    package var topSamples: [TopSamples]
    package var zeroCrossings: [ZeroCrossing]
}

extension ReplayResult {
    /// Question 4's first half: the first step whose fraction of |batch gradient| entries above
    /// `gradientThresholds[threshold]` exceeds `fraction` (strictly), or nil.
    /// - Precondition: the request asked for `gradientThresholds`.
    /// - Complexity: O(steps).
    package func firstStep(threshold: Int, fractionAbove fraction: Double) -> Int? {
        gradientCounts.first { $0.fraction(threshold) > fraction }?.step
    }

    /// Question 4's second half, in the query's convention (`LAST K SAMPLES BEFORE …`,
    /// docs/QUERY.md): the last `k` samples fed to the model up to and including step `step`'s own
    /// batch (the batch whose gradient crossed), most recent first, as (step, sample id), within
    /// the observed steps. `step` is the replay's 0-based step, as `firstStep(threshold:fractionAbove:)`
    /// returns it (query step t is replay step t − 1).
    /// - Precondition: the request asked for `losses` (which carry each step's sample ids).
    /// - Complexity: O(k + steps).
    package func lastSamples(atOrBefore step: Int, k: Int) -> [(step: Int, sample: Int)] {
        var out: [(step: Int, sample: Int)] = []
        for entry in losses.reversed() where entry.step <= step {
            for sample in entry.sampleIDs.reversed() {
                if out.count == k { return out }
                out.append((entry.step, sample))
            }
        }
        return out
    }
}
