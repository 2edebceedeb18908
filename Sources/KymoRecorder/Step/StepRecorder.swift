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

/// The recorder thread's work for one step: a `StepPreparer`'s slot-only part (the |g| histogram,
/// per-sample norms, neuron masses, T1's contributions, the weighted contribution sample with
/// `τ_t = Σ|c| / m`, docs/RECORDING.md) unless another thread prepared the slot already, then, in
/// step order, the epoch accumulators and the sink (sketches, store). Results go to a
/// `RecorderSink`. Used by one thread at a time (the recorder thread, inside the pipeline's
/// `process`).
package final class StepRecorder: @unchecked Sendable {
    package let layout: DenseLayout
    package let t1Ids: [Int]
    package var samplesPerStep: Int { preparer.samplesPerStep }
    package var runSeed: UInt64 { preparer.runSeed }
    /// This thread's preparer; `preparer.sibling()` makes one for another thread.
    package let preparer: StepPreparer
    private var accumulators: EpochAccumulators
    private let sink: any RecorderSink

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
        let pass = try StepGradientPass(thresholds: thresholds, histogram: histogram)
        preparer = StepPreparer(layout: layout, t1Ids: t1Ids, pass: pass, histogram: histogram, samplesPerStep: samplesPerStep,
                                runSeed: runSeed)
        accumulators = EpochAccumulators(parameterCount: layout.parameterCount)
        self.sink = sink
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
    /// the epoch accumulators for all of them; the sink sees exactly what one call per slot gives,
    /// whichever thread prepared each slot.
    /// - Throws: shape errors (also those met while preparing), and whatever the sink throws.
    /// - Complexity: O(P · slots + Σ_slots (B·Σ(in + out) + n₁·B + m)) expected.
    package func process(_ slots: [StepSlot]) throws {
        guard !slots.isEmpty else { return }
        for (a, b) in zip(slots, slots.dropFirst()) {
            precondition(Self.joinsNext(a) && b.step == a.step + 1, "steps \(a.step) and \(b.step) cannot be processed together")
        }
        for slot in slots {
            preparer.prepare(slot)
            if let failure = slot.prepared.failure {
                slot.prepared.isReady = false
                throw failure
            }
        }
        try accumulators.addBatchChunked(updates: slots.map(\.updateBuffer), gradients: slots.map(\.gradientBuffer),
                                         chunk: StepGradientPass.chunk) { _, _ in }
        for slot in slots {
            try finish(slot)
            // The slot goes back to the pool: whoever refills it must not find this step's results.
            slot.prepared.isReady = false
        }
    }

    /// Everything of a step after the P-sized passes, in step order.
    private func finish(_ slot: StepSlot) throws {
        let b = slot.batch
        let prepared = slot.prepared
        for l in layout.layers.indices {
            try sink.neuronMasses(step: slot.step, epoch: slot.epoch, layer: l, sampleIDs: slot.sampleIDs[0..<b], masses: prepared.masses[l])
        }
        let record = StepRecord(
            step: slot.step, epoch: slot.epoch, batch: b, learningRate: slot.learningRate, loss: slot.loss,
            accuracy: slot.accuracy, sampleIDs: Array(slot.sampleIDs[0..<b]), sampleLoss: Array(slot.sampleLoss[0..<b]),
            sampleCorrect: Array(slot.sampleCorrect[0..<b]), sampleGradientNorm: prepared.normsSquared.map { $0.squareRoot() },
            gradientNorm: slot.gradientNorm, updateNorm: slot.updateNorm,
            aboveCounts: prepared.aboveCounts, histogram: prepared.histogram!,
            t1Values: slot.t1Values, t1Updates: t1Ids.map { slot.updateBuffer[$0] }, t1State: slot.t1State,
            t1Contributions: prepared.t1Contributions, sampled: prepared.sampled, tau: prepared.tau)
        try sink.record(record, slot: slot)
        if slot.endsEpoch {
            try sink.epochEnded(epoch: slot.epoch, lastStep: slot.step, accumulators: accumulators)
            accumulators.reset()
        }
    }
}
