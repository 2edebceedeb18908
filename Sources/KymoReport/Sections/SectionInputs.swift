/// Per-step training metrics of one run (T0), as plain arrays. Arrays that were not recorded
/// may be empty; each present array has one value per entry of its step array.
package struct TrainingCurves: Sendable, Equatable {
    package var steps: [Int]
    package var loss: [Double]
    /// Batch accuracy per step in [0, 1], or empty.
    package var accuracy: [Double]
    package var gradientNorm: [Double]
    package var updateNorm: [Double]
    /// Held-out probe accuracy in [0, 1] at `probeSteps`.
    package var probeSteps: [Int]
    package var probeAccuracy: [Double]
    /// First step of each epoch after the first, marked on the charts.
    package var epochStarts: [Int]

    /// - Complexity: O(1).
    package init(steps: [Int], loss: [Double], accuracy: [Double] = [], gradientNorm: [Double] = [],
                 updateNorm: [Double] = [], probeSteps: [Int] = [], probeAccuracy: [Double] = [], epochStarts: [Int] = []) {
        self.steps = steps
        self.loss = loss
        self.accuracy = accuracy
        self.gradientNorm = gradientNorm
        self.updateNorm = updateNorm
        self.probeSteps = probeSteps
        self.probeAccuracy = probeAccuracy
        self.epochStarts = epochStarts
    }
}

/// One row of "what was recorded": a tier or sketch, its size on disk and uncompressed, and its
/// parameters as text (`"4 × 2^16, ε = 4.1e-5, δ = 0.018"`).
package struct RecordedItem: Sendable, Equatable {
    package var tier: String
    package var content: String
    package var storedBytes: Int
    package var rawBytes: Int
    package var parameters: String

    /// - Complexity: O(1).
    package init(tier: String, content: String, storedBytes: Int, rawBytes: Int, parameters: String = "") {
        self.tier = tier
        self.content = content
        self.storedBytes = storedBytes
        self.rawBytes = rawBytes
        self.parameters = parameters
    }

    /// rawBytes / storedBytes (0 when nothing is stored).
    /// - Complexity: O(1).
    package var compressionRatio: Double { storedBytes == 0 ? 0 : Double(rawBytes) / Double(storedBytes) }
}

/// The answers of one sketch to one question type, each checked against the exact tier.
package struct BoundCheck: Sendable, Equatable {
    /// The answering source, e.g. `sketch:count-min`.
    package var source: String
    /// The question type, e.g. `mass of (sample, neuron) per epoch`.
    package var question: String
    /// Where the truth came from, e.g. `T1` or `T3`.
    package var truthTier: String
    package var observations: [BoundedObservation]

    /// - Complexity: O(1).
    package init(source: String, question: String, truthTier: String = "T1", observations: [BoundedObservation]) {
        self.source = source
        self.question = question
        self.truthTier = truthTier
        self.observations = observations
    }
}

extension BoundCheck {
    /// At most `limit` observations to draw: every one whose bound missed (up to `limit`), then
    /// evenly spaced covered ones, in their original order.
    /// - Complexity: O(n).
    package func plotted(limit: Int) -> [BoundedObservation] {
        guard observations.count > limit, limit > 0 else { return observations }
        let misses = observations.indices.filter { !observations[$0].isCovered }.prefix(limit)
        let covered = observations.indices.filter { observations[$0].isCovered }
        let room = limit - misses.count
        var keep = [Bool](repeating: false, count: observations.count)
        for i in misses { keep[i] = true }
        if room > 0, !covered.isEmpty {
            for j in 0..<min(room, covered.count) { keep[covered[j * covered.count / min(room, covered.count)]] = true }
        }
        return observations.indices.filter { keep[$0] }.map { observations[$0] }
    }
}

/// A weight's reconstructed trajectory (T2) with its quantization step, and the exact values
/// at the same steps when the weight is in T1.
package struct WeightTrajectory: Sendable, Equatable {
    package var name: String
    package var steps: [Int]
    package var values: [Double]
    package var quantum: Double
    package var exact: [Double]

    /// - Complexity: O(1).
    package init(name: String, steps: [Int], values: [Double], quantum: Double, exact: [Double] = []) {
        self.name = name
        self.steps = steps
        self.values = values
        self.quantum = quantum
        self.exact = exact
    }

    /// Σ|Δŵ| along the reconstructed trajectory.
    /// - Complexity: O(n).
    package var totalVariation: Double {
        zip(values.dropFirst(), values).reduce(0) { $0 + abs($1.0 - $1.1) }
    }

    /// max |ŵ − w| over the steps with an exact value (nil without exact values).
    /// - Complexity: O(n).
    package var worstReconstructionError: Double? {
        exact.isEmpty ? nil : zip(values, exact).map { abs($0 - $1) }.max()
    }
}

/// Two runs side by side: their curves and the distance between their weights by step.
package struct RunComparison: Sendable, Equatable {
    package var nameA: String
    package var nameB: String
    package var a: TrainingCurves
    package var b: TrainingCurves
    package var distanceSteps: [Int]
    /// ‖w_A − w_B‖₂ at `distanceSteps`.
    package var distance: [Double]

    /// - Complexity: O(1).
    package init(nameA: String, nameB: String, a: TrainingCurves, b: TrainingCurves,
                 distanceSteps: [Int], distance: [Double]) {
        self.nameA = nameA
        self.nameB = nameB
        self.a = a
        self.b = b
        self.distanceSteps = distanceSteps
        self.distance = distance
    }
}

/// Trailing moving average over the last `window` finite values (shorter at the start); a
/// non-finite value is skipped, so one diverged step does not blank the rest of the curve.
/// - Complexity: O(n · window).
package func movingAverage(_ values: [Double], window: Int) -> [Double] {
    precondition(window >= 1)
    return values.indices.map { i in
        var sum = 0.0
        var n = 0
        for j in max(0, i - window + 1)...i where values[j].isFinite {
            sum += values[j]
            n += 1
        }
        return n == 0 ? .nan : sum / Double(n)
    }
}
