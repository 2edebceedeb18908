/// The part of a step's recording that depends on its slot alone — the |g| histogram and threshold
/// counts, per-sample gradient norms, (sample, neuron) masses, T1 contributions and the weighted
/// contribution sample — computed by `StepPreparer` on either thread, before the recorder thread
/// feeds the results, in step order, to the epoch accumulators, the sketches and the store.
///
/// Owned by its `StepSlot` and reused; `isReady` is cleared whenever the slot is refilled.
package final class PreparedStep: @unchecked Sendable {
    /// Whether the fields below hold this slot's current step.
    package var isReady = false
    /// The first error preparing the step (the recorder thread rethrows it).
    package var failure: (any Error)?
    /// The step's |g| histogram (the preparer's configuration; nil before the first step) and the
    /// exact counts of |g| > θ_k.
    package var histogram: MagnitudeHistogram?
    package var aboveCounts: [Int] = []
    /// Σ_l ‖g_s,l‖² per sample (B valid).
    package var normsSquared: [Float] = []
    /// Per layer, the (sample, neuron) contribution masses, B × out row-major (exactly B rows).
    package var masses: [[Float]]
    /// T1 contributions, t1Count × B, weight-major.
    package var t1Contributions: [Float] = []
    /// The weighted sample and its τ.
    package var sampled: [SampledContribution] = []
    package var tau: Float = 0

    /// - Complexity: O(maxBatch · Σ out) to allocate.
    package init(layout: DenseLayout, maxBatch: Int) {
        masses = layout.layers.map { [Float](repeating: 0, count: maxBatch * $0.outputs) }
    }
}
