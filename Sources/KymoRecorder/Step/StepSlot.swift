import CStreaming
import KymoEngine

/// One step's buffer in the recorder pipeline: everything the recorder thread needs, copied in by
/// the training thread, allocated once at the run's maximum batch size and reused.
///
/// Shapes: P = layout.parameterCount; per layer l: `activations[l]` (B, in_l) row-major,
/// `deltas[l]` (B, out_l); B = `batch` ≤ `maxBatch` (the last batch of an epoch may be short:
/// only the first B rows are valid). T1 arrays follow `t1Ids` order.
package final class StepSlot: @unchecked Sendable {
    package let layout: DenseLayout
    package let maxBatch: Int
    package let t1Count: Int
    package let stateFloats: Int

    package var step = 0
    package var epoch = 0
    package var batch = 0
    /// True for the last step of an epoch: the recorder closes the epoch's accumulators after it.
    package var endsEpoch = false
    package var learningRate: Float = 0
    package var loss: Float = 0
    package var accuracy: Float = 0
    /// ‖g‖₂ and ‖Δw‖₂ of the step, as the engine computed them (`StepSummary`); T0 records these
    /// rather than summing P squares a second time.
    package var gradientNorm: Float = 0
    package var updateNorm: Float = 0
    /// The contribution scale k of the step (SGD/momentum: −η/B; Nesterov −η(1+μ)/B).
    package var contributionScale: Float = 0
    /// Adam/AdamW: k_w for every parameter (P, layout order), which then replaces
    /// `contributionScale`; nil when the scale is uniform. Allocate with `usePerParameterScales()`.
    package var perParameterScales: [Float]?
    /// Data-set ids of the batch, `maxBatch` capacity.
    package var sampleIDs: [UInt32]
    package var sampleLoss: [Float]
    package var sampleCorrect: [UInt8]
    /// The batch gradient and the applied update, P each, in memory the slot owns and lends to
    /// the trainer (`StepObserver.buffersForNextStep`), so the training thread writes them once
    /// and copies nothing.
    package let stepBuffers: LentStepBuffers
    /// The batch gradient (P), read-only view.
    package var gradientBuffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(stepBuffers.gradient) }
    /// The applied update (P), read-only view.
    package var updateBuffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(stepBuffers.update) }
    /// The batch gradient as an array (a copy; setting copies in P floats).
    package var gradient: [Float] {
        get { Array(gradientBuffer) }
        set { Self.fill(stepBuffers.gradient, newValue) }
    }
    /// The applied update as an array (a copy; setting copies in P floats).
    package var update: [Float] {
        get { Array(updateBuffer) }
        set { Self.fill(stepBuffers.update, newValue) }
    }

    private static func fill(_ target: UnsafeMutableBufferPointer<Float>, _ values: [Float]) {
        precondition(values.count == target.count, "expected \(target.count) floats, got \(values.count)")
        values.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
    }
    package var activations: [[Float]]
    package var deltas: [[Float]]
    /// T1: w_{t−1}, and the optimizer state after the step (`stateFloats` per weight, weight-major).
    package var t1Values: [Float]
    package var t1State: [Float]
    /// T2 trajectories: w_t after the step (P floats), valid when `hasSnapshot` (every `stride` steps).
    package var weightsAfter: [Float] = []
    package var hasSnapshot = false
    /// A checkpoint taken after the step (key = the state's completedSteps), written by the
    /// recorder thread in step order; nil on most steps.
    package var checkpoint: (key: Int, bytes: [UInt8], hash: UInt64)?
    /// Held-out (loss, accuracy) evaluated after the step, every `probeEvery` steps.
    package var probe: (loss: Float, accuracy: Float)?
    /// The slot-only part of recording the step (`StepPreparer`), on whichever thread got to it.
    package let prepared: PreparedStep

    /// - Complexity: O(P + maxBatch·Σ(in + out)) to allocate.
    package init(layout: DenseLayout, maxBatch: Int, t1Count: Int, stateFloats: Int) {
        prepared = PreparedStep(layout: layout, maxBatch: maxBatch)
        self.layout = layout
        self.maxBatch = maxBatch
        self.t1Count = t1Count
        self.stateFloats = stateFloats
        sampleIDs = Array(repeating: 0, count: maxBatch)
        sampleLoss = Array(repeating: 0, count: maxBatch)
        sampleCorrect = Array(repeating: 0, count: maxBatch)
        stepBuffers = LentStepBuffers(count: layout.parameterCount)
        activations = layout.layers.map { Array(repeating: 0, count: maxBatch * $0.inputs) }
        deltas = layout.layers.map { Array(repeating: 0, count: maxBatch * $0.outputs) }
        t1Values = Array(repeating: 0, count: t1Count)
        t1State = Array(repeating: 0, count: t1Count * stateFloats)
    }

    /// Allocates `perParameterScales` (P floats) for an optimizer whose scale is per parameter.
    /// - Complexity: O(P).
    package func usePerParameterScales() {
        if perParameterScales == nil { perParameterScales = Array(repeating: 0, count: layout.parameterCount) }
    }

    /// Copies layer l's factors for a batch of `batch` samples into the slot.
    /// - Throws: `RecorderError.shapeMismatch` when the batch exceeds `maxBatch` or a buffer is
    ///   not `batch × in` / `batch × out`.
    /// The copies use streaming stores (`kymo_stream_copy`, then a fence): the slot's memory is
    /// cold by the time it comes round again, and a normal store would fetch every line first.
    /// - Complexity: O(B·(in + out)), a copy.
    package func copyFactors(layer l: Int, batch: Int, activations a: UnsafeBufferPointer<Float>,
                             deltas d: UnsafeBufferPointer<Float>) throws {
        let dense = layout.layers[l]
        guard batch <= maxBatch else { throw RecorderError.shapeMismatch(what: "batch", expected: maxBatch, actual: batch) }
        guard a.count == batch * dense.inputs else {
            throw RecorderError.shapeMismatch(what: "layer \(l) activations", expected: batch * dense.inputs, actual: a.count)
        }
        guard d.count == batch * dense.outputs else {
            throw RecorderError.shapeMismatch(what: "layer \(l) deltas", expected: batch * dense.outputs, actual: d.count)
        }
        activations[l].withUnsafeMutableBufferPointer { kymo_stream_copy($0.baseAddress!, a.baseAddress!, a.count) }
        deltas[l].withUnsafeMutableBufferPointer { kymo_stream_copy($0.baseAddress!, d.baseAddress!, d.count) }
        kymo_stream_fence()
    }

    /// Runs `body` with layer l's factors for the slot's batch.
    /// - Complexity: O(1) plus the body.
    package func withFactors<R>(layer l: Int, _ body: (LayerFactors) throws -> R) throws -> R {
        let dense = layout.layers[l]
        return try activations[l].withUnsafeBufferPointer { a in
            try deltas[l].withUnsafeBufferPointer { d in
                try body(LayerFactors(batch: batch, inputs: dense.inputs, outputs: dense.outputs,
                                      activations: UnsafeBufferPointer(rebasing: a[0..<(batch * dense.inputs)]),
                                      deltas: UnsafeBufferPointer(rebasing: d[0..<(batch * dense.outputs)])))
            }
        }
    }
}
