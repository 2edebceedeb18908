import CStreaming
import KymoEngine

/// The engine's `StepObserver` that copies each step into a pipeline slot (on the training
/// thread). `observe` cannot throw, so a pipeline error is kept in `failure` and the driver
/// (`Recording.step()`) checks it after each `trainer.step()`. The filled slot is held as
/// `pending` until the driver has attached the step's checkpoint and probe and submits it.
package final class RecorderObserver: StepObserver {
    package let pipeline: RecorderPipeline<StepSlot>
    package let t1Ids: [Int]
    package let stateFloats: Int
    package let trainingCount: Int
    /// Trajectory stride (0: no snapshots).
    package let stride: Int
    /// The first error of `acquire()` or a copy.
    package private(set) var failure: (any Error)?
    /// The slot of the step just observed, not yet submitted.
    package private(set) var pending: StepSlot?
    /// The slot acquired at the start of the current step, whose g/Δw buffers the trainer is
    /// writing into (kept if the step throws, and reused by the next one).
    private var lent: StepSlot?
    /// T1's ids: the only pre-update values the recorder reads.
    package let parametersBeforeIds: [Int]?
    /// Run on a submitted slot instead of waiting when every slot is in flight
    /// (`RecorderPipeline.acquire(helping:)`): the training thread's `StepPreparer`.
    package var help: ((StepSlot) -> Void)?

    /// - Complexity: O(1).
    package init(pipeline: RecorderPipeline<StepSlot>, t1Ids: [Int], stateFloats: Int, trainingCount: Int, stride: Int) {
        self.pipeline = pipeline
        self.t1Ids = t1Ids
        self.stateFloats = stateFloats
        self.trainingCount = trainingCount
        self.stride = stride
        parametersBeforeIds = t1Ids
    }

    /// Acquires the next step's slot before the step (waits while all slots are in flight) and
    /// lends the trainer its gradient/update buffers, so `observe` copies neither.
    /// - Complexity: O(1) plus the wait.
    package func buffersForNextStep(parameterCount: Int) -> LentStepBuffers? {
        guard failure == nil else { return nil }
        if lent == nil {
            do { lent = try pipeline.acquire(helping: help) } catch {
                failure = error
                return nil
            }
        }
        guard let slot = lent, slot.stepBuffers.count == parameterCount else { return nil }
        return slot.stepBuffers
    }

    /// Fills the step's slot: the one lent at the step's start (g and Δw are already in it), or
    /// a free one (waits while all slots are in flight) into which g and Δw are copied.
    /// - Complexity: O(B·Σ(in + out) + n₁·S) copies, plus O(P) when g and Δw were not lent and
    ///   on trajectory snapshot steps; Adam adds O(P) scale computations.
    package func observe(_ trace: StepTrace) {
        guard failure == nil else { return }
        do {
            let slot: StepSlot
            if let l = lent {
                slot = l
                lent = nil
            } else {
                slot = try pipeline.acquire(helping: help)
            }
            let handedOver = trace.gradient.baseAddress == UnsafePointer(slot.stepBuffers.gradient.baseAddress)
                && trace.update.baseAddress == UnsafePointer(slot.stepBuffers.update.baseAddress)
            let b = trace.batchSize
            slot.step = trace.step
            slot.epoch = trace.epoch
            slot.batch = b
            slot.endsEpoch = trace.positionInEpoch + b == trainingCount
            slot.learningRate = trace.summary.learningRate
            slot.loss = trace.summary.loss
            slot.accuracy = trace.summary.accuracy
            slot.gradientNorm = trace.summary.gradientNorm
            slot.updateNorm = trace.summary.updateNorm
            if let k = trace.uniformContributionScale {
                slot.contributionScale = k
                slot.perParameterScales = nil
            } else {
                slot.contributionScale = 0
                slot.usePerParameterScales()
                let p = trace.layout.count
                slot.perParameterScales!.withUnsafeMutableBufferPointer { k in
                    for id in 0..<p { k[id] = trace.contributionScale(of: id) }
                }
            }
            for s in 0..<b {
                slot.sampleIDs[s] = UInt32(truncatingIfNeeded: trace.sampleIDs[s])
                slot.sampleLoss[s] = trace.sampleLosses[s]
                slot.sampleCorrect[s] = trace.sampleCorrect[s]
            }
            if !handedOver {
                guard trace.gradient.count == slot.stepBuffers.count, trace.update.count == slot.stepBuffers.count else {
                    throw RecorderError.shapeMismatch(what: "gradient", expected: slot.stepBuffers.count, actual: trace.gradient.count)
                }
                slot.stepBuffers.gradient.baseAddress!.update(from: trace.gradient.baseAddress!, count: trace.gradient.count)
                slot.stepBuffers.update.baseAddress!.update(from: trace.update.baseAddress!, count: trace.update.count)
            }
            for layer in trace.layers {
                try slot.copyFactors(layer: layer.index, batch: b, activations: layer.inputs, deltas: layer.outputGradients)
            }
            for (i, id) in t1Ids.enumerated() {
                slot.t1Values[i] = trace.parametersBefore[id]
                for j in 0..<stateFloats { slot.t1State[i * stateFloats + j] = trace.optimizerState[j][id] }
            }
            slot.hasSnapshot = stride > 0 && trace.step % stride == 0
            if slot.hasSnapshot {
                if slot.weightsAfter.count != trace.parametersAfter.count {
                    slot.weightsAfter = [Float](repeating: 0, count: trace.parametersAfter.count)
                }
                // Streamed, like the factors: the slot's snapshot buffer is cold by now.
                slot.weightsAfter.withUnsafeMutableBufferPointer {
                    kymo_stream_copy($0.baseAddress!, trace.parametersAfter.baseAddress!, trace.parametersAfter.count)
                }
                kymo_stream_fence()
            }
            slot.checkpoint = nil
            slot.probe = nil
            slot.prepared.isReady = false
            pending = slot
        } catch {
            failure = error
        }
    }

    /// Hands the pending slot over (the driver attaches checkpoint/probe, then submits).
    /// - Complexity: O(1).
    package func takePending() -> StepSlot? {
        defer { pending = nil }
        return pending
    }
}
