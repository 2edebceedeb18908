import KymoCore

/// A tuple of the weighted contribution sample, in run coordinates.
package struct SampledContribution: Equatable, Sendable {
    /// Data-set id of the sample.
    package var sample: UInt32
    /// Flat parameter id.
    package var weight: UInt32
    package var contribution: Float
    /// The tuple's uniform U (priority = |c|/U).
    package var uniform: Double
}

/// Everything the recorder computed for one step, handed to the sink in step order.
package struct StepRecord: Sendable {
    package var step: Int
    package var epoch: Int
    package var batch: Int
    package var learningRate: Float
    package var loss: Float
    package var accuracy: Float
    package var sampleIDs: [UInt32]
    package var sampleLoss: [Float]
    package var sampleCorrect: [UInt8]
    /// ‖g_s‖₂ per sample, from the factors.
    package var sampleGradientNorm: [Float]
    /// ‖g‖₂, ‖Δw‖₂.
    package var gradientNorm: Float
    package var updateNorm: Float
    /// Exact counts of |g| > θ_k.
    package var aboveCounts: [Int]
    /// The step's |g| histogram.
    package var histogram: MagnitudeHistogram
    /// T1: w_{t−1}, Δw_t, state, and contributions (t1Count × B, weight-major).
    package var t1Values: [Float]
    package var t1Updates: [Float]
    package var t1State: [Float]
    package var t1Contributions: [Float]
    /// T2: the sampled contributions and the step's τ.
    package var sampled: [SampledContribution]
    package var tau: Float
}

/// Where the recorder's results go. The wiring phase implements it over the store's RunWriter
/// (columns of docs/RECORDING.md) and the sketches (Space-Saving, count-min, trajectories).
/// Called on the recorder thread only, in step order.
package protocol RecorderSink: AnyObject {
    /// Layer l's (sample, neuron) contribution masses of the step, `B × out` row-major, with the
    /// data-set ids of the batch rows: feed the per-neuron Space-Saving and the count-min.
    func neuronMasses(step: Int, epoch: Int, layer: Int, sampleIDs: ArraySlice<UInt32>, masses: [Float]) throws
    /// The step's record (T0 columns, T1 columns, the weighted sample).
    func record(_ record: StepRecord, slot: StepSlot) throws
    /// The epoch's per-weight accumulators, after its last step (before they are reset).
    func epochEnded(epoch: Int, lastStep: Int, accumulators: EpochAccumulators) throws
}

/// The recorder thread's work for one step: T0's gradient pass and per-sample norms, the neuron
/// masses for the sketches, T1's contributions, and the weighted contribution sample with
/// `τ_t = Σ|c| / m` (docs/RECORDING.md). Pure computation; results go to a `RecorderSink`.
/// Used by one thread at a time (the recorder thread, inside the pipeline's `process`).
package final class StepRecorder: @unchecked Sendable {
    package let layout: DenseLayout
    package let t1Ids: [Int]
    package let samplesPerStep: Int
    package let runSeed: UInt64
    private let pass: StepGradientPass
    private var accumulators: EpochAccumulators
    private var histogram: MagnitudeHistogram
    /// One histogram per step of a batch (`process(_:)` with several slots), grown on demand.
    private var histograms: [MagnitudeHistogram]
    private var sampler: ContributionSampler
    /// T1 positions per layer, with their index in `t1Ids`.
    private let t1ByLayer: [[(index: Int, position: DenseLayout.Position)]]
    private let sink: any RecorderSink
    /// Per-layer (sample, neuron) mass buffers, reused across steps.
    private var massBuffers: [[Float]] = []

    /// - Parameters:
    ///   - thresholds: record-time thresholds (ascending; snap them with `MagnitudeHistogram.snap`
    ///     to get their counts for free).
    ///   - samplesPerStep: m, the target number of sampled contributions per step (0: none).
    /// - Throws: `RecorderError.invalidConfiguration` for bad thresholds or T1 ids out of range.
    /// - Complexity: O(P) to allocate.
    package init(layout: DenseLayout, t1Ids: [Int], thresholds: [Float], histogram: MagnitudeHistogram,
                 samplesPerStep: Int, runSeed: UInt64, sink: any RecorderSink) throws {
        guard t1Ids.allSatisfy({ $0 >= 0 && $0 < layout.parameterCount }) else {
            throw RecorderError.invalidConfiguration(field: "t1Ids", message: "an id is outside 0..<\(layout.parameterCount)")
        }
        self.layout = layout
        self.t1Ids = t1Ids
        self.samplesPerStep = samplesPerStep
        self.runSeed = runSeed
        self.histogram = histogram
        histograms = [histogram]
        pass = try StepGradientPass(thresholds: thresholds, histogram: histogram)
        accumulators = EpochAccumulators(parameterCount: layout.parameterCount)
        sampler = ContributionSampler()
        var byLayer = Array(repeating: [(index: Int, position: DenseLayout.Position)](), count: layout.layers.count)
        for (i, id) in t1Ids.enumerated() {
            let p = layout.position(of: id)
            byLayer[p.layer].append((i, p))
        }
        t1ByLayer = byLayer
        self.sink = sink
        massBuffers = Array(repeating: [], count: layout.layers.count)
    }

    /// The sampler's random key for (step, layer): XXH3 of the step under a seed derived from the
    /// run seed and the layer. Recorded in the manifest as the derivation rule.
    /// - Complexity: O(1).
    package static func samplerKey(runSeed: UInt64, step: Int, layer: Int) -> UInt64 {
        XXH3.hash(UInt64(step), seed: runSeed ^ (0x7432_636F_6E74_7200 | UInt64(layer & 0xFF)))
    }

    /// max |k_w| over each row's weights and bias of layer l (per-parameter scales).
    /// - Complexity: O(out·(in + 1)).
    static func rowMaxima(_ scales: [Float], layout: DenseLayout, layer l: Int) -> [Float] {
        let dense = layout.layers[l], base = layout.offsets[l]
        return (0..<dense.outputs).map { r in
            var m = abs(scales[base + dense.outputs * dense.inputs + r])
            for c in 0..<dense.inputs { m = max(m, abs(scales[base + r * dense.inputs + c])) }
            return m
        }
    }

    /// Processes one slot (call in step order, on the recorder thread).
    /// - Throws: shape errors, and whatever the sink throws.
    /// - Complexity: O(P + B·Σ(in + out) + n₁·B + m) expected.
    package func process(_ slot: StepSlot) throws {
        try process([slot])
    }

    /// Whether a slot may be processed together with the next step's (`process(_:)` with several
    /// slots): any step but an epoch's last, whose epoch sums must close before the next step.
    /// - Complexity: O(1).
    package static func joinsNext(_ slot: StepSlot) -> Bool { !slot.endsEpoch }

    /// Processes consecutive slots (every one but the last joining the next) with one pass over
    /// the epoch accumulators for all of them; the sink sees exactly what one call per slot gives.
    /// - Throws: shape errors, and whatever the sink throws.
    /// - Complexity: O(P · slots + Σ_slots (B·Σ(in + out) + n₁·B + m)) expected.
    package func process(_ slots: [StepSlot]) throws {
        guard !slots.isEmpty else { return }
        for (a, b) in zip(slots, slots.dropFirst()) {
            precondition(Self.joinsNext(a) && b.step == a.step + 1, "steps \(a.step) and \(b.step) cannot be processed together")
        }
        while histograms.count < slots.count { histograms.append(histograms[0]) }
        let summaries = try pass.runBatch(updates: slots.map(\.updateBuffer), gradients: slots.map(\.gradientBuffer),
                                          accumulators: &accumulators, histograms: &histograms)
        for (k, slot) in slots.enumerated() { try finish(slot, summary: summaries[k], histogram: histograms[k]) }
    }

    /// Everything of a step after the P-sized pass.
    private func finish(_ slot: StepSlot, summary: StepGradientSummary, histogram: MagnitudeHistogram) throws {
        let b = slot.batch
        // Per-sample norms and neuron masses; Σ|c| for τ.
        var normsSquared = [Float](repeating: 0, count: b)
        var summaries: [LayerFactorSummary] = []
        var totalMass = 0.0
        for l in layout.layers.indices {
            // Reuse the layer's mass buffer (B × out floats: large enough that a fresh array per
            // step costs page faults).
            var masses = massBuffers[l]
            massBuffers[l] = []
            if masses.count != b * layout.layers[l].outputs { masses = [Float](repeating: 0, count: b * layout.layers[l].outputs) }
            let s = try slot.withFactors(layer: l) { factors -> LayerFactorSummary in
                let s = LayerFactorSummary(factors)
                try SampleFactorStatistics.accumulateGradientNormsSquared(s, into: &normsSquared)
                if let scales = slot.perParameterScales {
                    // Per-parameter k: the mass uses the row's largest |k| (an upper bound).
                    try SampleFactorStatistics.neuronContributionMass(factors, summary: s, scale: 1, into: &masses)
                    let rowMax = Self.rowMaxima(scales, layout: layout, layer: l)
                    for i in 0..<b { for r in 0..<factors.outputs { masses[i * factors.outputs + r] *= rowMax[r] } }
                } else {
                    try SampleFactorStatistics.neuronContributionMass(factors, summary: s, scale: slot.contributionScale, into: &masses)
                }
                return s
            }
            summaries.append(s)
            for m in masses { totalMass += Double(m) }
            try sink.neuronMasses(step: slot.step, epoch: slot.epoch, layer: l, sampleIDs: slot.sampleIDs[0..<b], masses: masses)
            massBuffers[l] = masses
        }
        // T1 contributions, weight-major in t1Ids order.
        var t1Contributions = [Float](repeating: 0, count: t1Ids.count * b)
        for l in layout.layers.indices where !t1ByLayer[l].isEmpty {
            var values: [Float] = []
            values.reserveCapacity(t1ByLayer[l].count * b)
            try slot.withFactors(layer: l) {
                let scales = slot.perParameterScales.map { k in t1ByLayer[l].map { k[t1Ids[$0.index]] } }
                    ?? Array(repeating: slot.contributionScale, count: t1ByLayer[l].count)
                try T1Contributions.append($0, positions: t1ByLayer[l].map(\.position), scales: scales, into: &values)
            }
            for (j, entry) in t1ByLayer[l].enumerated() {
                for s in 0..<b { t1Contributions[entry.index * b + s] = values[j * b + s] }
            }
        }
        // The weighted contribution sample.
        var sampled: [SampledContribution] = []
        var tau: Float = 0
        if samplesPerStep > 0 && totalMass > 0 && totalMass.isFinite && (slot.contributionScale != 0 || slot.perParameterScales != nil) {
            tau = Float(totalMass / Double(samplesPerStep))
            var tuples: [ContributionCandidate] = []
            for l in layout.layers.indices {
                tuples.removeAll(keepingCapacity: true)
                let key = Self.samplerKey(runSeed: runSeed, step: slot.step, layer: l)
                try slot.withFactors(layer: l) { factors in
                    if let scales = slot.perParameterScales {
                        try scales.withUnsafeBufferPointer { k in
                            try sampler.sample(factors, scales: UnsafeBufferPointer(rebasing: k[layout.offsets[l]..<layout.offsets[l + 1]]),
                                               threshold: tau, key: key, into: &tuples)
                        }
                    } else {
                        try sampler.sample(factors, scale: slot.contributionScale, threshold: tau, key: key,
                                           summary: summaries[l], into: &tuples)
                    }
                }
                for t in tuples {
                    let id = layout.id(of: .init(layer: l, row: Int(t.row), col: Int(t.col)))
                    sampled.append(SampledContribution(sample: slot.sampleIDs[Int(t.sample)], weight: UInt32(id),
                                                       contribution: t.contribution, uniform: t.uniform))
                }
            }
        }
        let record = StepRecord(
            step: slot.step, epoch: slot.epoch, batch: b, learningRate: slot.learningRate, loss: slot.loss,
            accuracy: slot.accuracy, sampleIDs: Array(slot.sampleIDs[0..<b]), sampleLoss: Array(slot.sampleLoss[0..<b]),
            sampleCorrect: Array(slot.sampleCorrect[0..<b]), sampleGradientNorm: normsSquared.map { $0.squareRoot() },
            gradientNorm: slot.gradientNorm, updateNorm: slot.updateNorm,
            aboveCounts: summary.aboveCounts, histogram: histogram,
            t1Values: slot.t1Values, t1Updates: t1Ids.map { slot.updateBuffer[$0] }, t1State: slot.t1State,
            t1Contributions: t1Contributions, sampled: sampled, tau: tau)
        try sink.record(record, slot: slot)
        if slot.endsEpoch {
            try sink.epochEnded(epoch: slot.epoch, lastStep: slot.step, accumulators: accumulators)
            accumulators.reset()
        }
    }
}
