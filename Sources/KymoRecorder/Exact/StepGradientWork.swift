/// What a step's P-sized pass found (`StepGradientWork.run`), owned by its `StepSlot` and reused.
/// Written by whichever thread ran the pass; read by the recorder thread after `isDone` was set
/// under the ring's lock (`GradientRing`) or on the same thread (direct use).
package final class StepGradientResult: @unchecked Sendable {
    /// Whether the fields below hold this slot's current step.
    package var isDone = false
    /// The first error of the pass (the recorder thread rethrows it).
    package var failure: (any Error)?
    /// The step's |g| histogram (the run's configuration; nil before the first step) and the
    /// exact counts of |g| > θ_k.
    package var histogram: MagnitudeHistogram?
    package var aboveCounts: [Int] = []
    /// T1's Δw values, in `t1Ids` order.
    package var t1Updates: [Float] = []
    /// At an epoch's last step: the epoch's closed accumulators, to be written by the recorder
    /// thread in step order and then handed back (`StepGradientWork.recycle`).
    package var closedEpoch: EpochAccumulators?

    package init() {}
}

/// The P-sized part of recording steps, in step order: each step's |g| histogram and threshold
/// counts, T1's Δw values, and the epoch accumulators Σ|Δw|, ΣΔw, Σg², max|g| (one pass for up to
/// four consecutive steps). It is the only work that reads a step's g and Δw, so once it has run
/// the step's buffers can go back to the trainer (`GradientRing`) while the rest of the step waits
/// in the deep queue.
///
/// Exclusive: one thread at a time, steps in order (the caller guarantees both: `GradientRing`
/// runs it under its `running` claim; `StepRecorder.process` on its own thread). The results do
/// not depend on which thread runs it. At an epoch's last step the accumulators move into the
/// slot (`closedEpoch`) and a recycled — or, if none is back yet, new — set takes their place, so
/// the next epoch can start before the recorder has written the last one.
///
/// - Complexity: O(P · steps) per call (ns/param in docs/RECORDING.md, "Speed").
package final class StepGradientWork: @unchecked Sendable {
    package let t1Ids: [Int]
    private let pass: StepGradientPass
    /// The run's |g| histogram configuration (the thresholds were snapped to its boundaries).
    private let histogram: MagnitudeHistogram
    private var accumulators: EpochAccumulators
    /// Closed accumulators handed back by the recorder thread, reset; guarded by `lock`.
    private var spares: [EpochAccumulators] = []
    private let lock = ConditionLock()

    /// - Throws: `RecorderError.invalidConfiguration` for bad thresholds.
    /// - Complexity: O(P) to allocate.
    package init(parameterCount: Int, t1Ids: [Int], thresholds: [Float], histogram: MagnitudeHistogram) throws {
        pass = try StepGradientPass(thresholds: thresholds, histogram: histogram)
        self.histogram = histogram
        self.t1Ids = t1Ids
        accumulators = EpochAccumulators(parameterCount: parameterCount)
    }

    /// Whether a slot may share a pass with the next step's: any step but an epoch's last.
    /// - Complexity: O(1).
    package static func joinsNext(_ slot: StepSlot) -> Bool { !slot.endsEpoch }

    /// Runs the pass for consecutive slots (every one but the last joining the next) that hold
    /// their g and Δw, keeping an error in the first slot's result. The caller marks them done
    /// (`StepGradientResult.isDone`), under its lock when another thread reads the flag.
    /// - Complexity: O(P · slots).
    package func run(_ slots: ArraySlice<StepSlot>) {
        guard let first = slots.first else { return }
        do {
            for slot in slots {
                let out = slot.gradientResult
                out.failure = nil
                out.closedEpoch = nil
                // The slot's histogram takes this run's configuration (a slot may have served another).
                var h = out.histogram ?? histogram
                out.histogram = nil
                if h.mantissaBits != histogram.mantissaBits || h.minExponent != histogram.minExponent
                    || h.maxExponent != histogram.maxExponent {
                    h = histogram
                }
                out.aboveCounts = pass.summarize(gradient: slot.gradientBuffer, histogram: &h).aboveCounts
                out.histogram = h
                let update = slot.updateBuffer
                out.t1Updates.removeAll(keepingCapacity: true)
                for id in t1Ids { out.t1Updates.append(update[id]) }
            }
            try accumulators.addBatchChunked(updates: slots.map(\.updateBuffer), gradients: slots.map(\.gradientBuffer),
                                             chunk: StepGradientPass.chunk) { _, _ in }
            if let last = slots.last, last.endsEpoch {
                let fresh = lock.withLock { spares.popLast() } ?? EpochAccumulators(parameterCount: accumulators.parameterCount)
                last.gradientResult.closedEpoch = accumulators
                accumulators = fresh
            }
        } catch {
            first.gradientResult.failure = error
        }
    }

    /// Takes back an epoch's accumulators after they were written (any thread).
    /// - Complexity: O(P) (the reset).
    package func recycle(_ closed: consuming EpochAccumulators) {
        var spare = closed
        spare.reset()
        lock.withLock { spares.append(spare) }
    }
}
