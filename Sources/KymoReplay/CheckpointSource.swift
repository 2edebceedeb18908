import KymoEngine

/// One checkpoint as a run's listing records it: the step it was taken at (the state after that
/// many steps) and `TrainerState.contentHash` of the state written there.
package struct CheckpointInfo: Sendable, Equatable {
    package var step: Int
    package var contentHash: UInt64

    /// - Complexity: O(1).
    package init(step: Int, contentHash: UInt64) {
        self.step = step
        self.contentHash = contentHash
    }
}

/// What the run's exact log (T0) recorded about one step, when available: the batch's sample ids
/// in batch order and the batch loss, and optionally the `contentHash` of the state after the
/// step. Replay compares them bit for bit, which names the first divergent step between two
/// checkpoints (losses catch a differing state entering a step; a per-step hash catches one leaving
/// it, at O(P) per step to compute, so recorders keep it only when asked).
package struct RecordedStep: Sendable, Equatable {
    package var step: Int
    package var sampleIDs: [Int]
    package var loss: Float
    package var stateHash: UInt64?

    /// - Complexity: O(1).
    package init(step: Int, sampleIDs: [Int], loss: Float, stateHash: UInt64? = nil) {
        self.step = step
        self.sampleIDs = sampleIDs
        self.loss = loss
        self.stateHash = stateHash
    }
}

/// Where replay gets a run's checkpoints (the store-backed implementation reads a run directory;
/// `InMemoryCheckpointSource` holds them in memory for tests and benchmarks).
///
/// Implementations are read concurrently by parallel segment replays: `state(atOrBefore:)` must be
/// safe to call from several threads.
package protocol CheckpointSource: Sendable {
    /// The run's config as its manifest records it (`threads` is ignored).
    var runConfig: TrainingConfig { get }
    /// `Dataset.fingerprint` and count of the run's training set.
    var datasetFingerprint: UInt64 { get }
    var datasetCount: Int { get }
    /// Every checkpoint, ascending by step.
    var checkpoints: [CheckpointInfo] { get }
    /// The state of the newest checkpoint at or before `step`.
    /// - Throws: `ReplayError.noCheckpoint` or `.corruptCheckpoint`.
    func state(atOrBefore step: Int) throws(ReplayError) -> TrainerState
    /// The recorded batch and loss of `step`, or nil when the run did not record it.
    func recordedStep(_ step: Int) -> RecordedStep?
}

extension CheckpointSource {
    /// No recorded steps (the default).
    /// - Complexity: O(1).
    package func recordedStep(_ step: Int) -> RecordedStep? { nil }

    /// The newest checkpoint at or before `step`.
    /// - Complexity: O(log checkpoints).
    package func checkpoint(atOrBefore step: Int) -> CheckpointInfo? {
        let list = checkpoints
        var (low, high) = (0, list.count)
        while low < high {
            let mid = (low + high) / 2
            if list[mid].step <= step { low = mid + 1 } else { high = mid }
        }
        return low > 0 ? list[low - 1] : nil
    }
}

/// Checkpoints held in memory, as a test or benchmark takes them from a `Trainer` run.
package struct InMemoryCheckpointSource: CheckpointSource {
    package var runConfig: TrainingConfig
    package var datasetFingerprint: UInt64
    package var datasetCount: Int
    /// States ascending by `completedSteps`, and the hash listed for each (normally its
    /// `contentHash`; a test may alter one or the other).
    package var states: [TrainerState]
    package var listedHashes: [UInt64]
    /// Recorded steps by step index (empty when not recorded).
    package var steps: [RecordedStep]

    /// - Complexity: O(1).
    package init(runConfig: TrainingConfig, datasetFingerprint: UInt64, datasetCount: Int,
                 states: [TrainerState], listedHashes: [UInt64], steps: [RecordedStep] = []) {
        self.runConfig = runConfig
        self.datasetFingerprint = datasetFingerprint
        self.datasetCount = datasetCount
        self.states = states
        self.listedHashes = listedHashes
        self.steps = steps
    }

    /// - Complexity: O(checkpoints).
    package var checkpoints: [CheckpointInfo] {
        zip(states, listedHashes).map { CheckpointInfo(step: $0.completedSteps, contentHash: $1) }
    }

    /// - Complexity: O(checkpoints) to find it, O(P) to copy it.
    package func state(atOrBefore step: Int) throws(ReplayError) -> TrainerState {
        guard let state = states.last(where: { $0.completedSteps <= step }) else { throw .noCheckpoint(atOrBefore: step) }
        return state
    }

    /// - Complexity: O(1).
    package func recordedStep(_ step: Int) -> RecordedStep? {
        step >= 0 && step < steps.count ? steps[step] : nil
    }

    /// Trains a fresh run for `steps` steps (all of `config.epochs` when nil), taking a checkpoint
    /// at step 0, every `every` steps and at the end, and recording each step's batch and loss when
    /// `recordSteps`. `observer`, when given, sees every step of the original run.
    /// - Throws: `EngineError` from the trainer.
    /// - Complexity: O(steps · B · P) plus O(P) per checkpoint.
    /// With `stepHashes`, each recorded step also keeps the state hash after it (O(P) per step).
    package static func record(config: TrainingConfig, training: Dataset, steps: Int? = nil, every: Int,
                               recordSteps: Bool = true, stepHashes: Bool = false,
                               observer: (any StepObserver)? = nil) throws(EngineError) -> InMemoryCheckpointSource {
        precondition(every > 0, "checkpoint period must be positive")
        let trainer = try Trainer(config: config, training: training)
        let total = min(steps ?? trainer.totalSteps, trainer.totalSteps)
        let recorder = StepRecordingObserver(forwardingTo: observer, recording: recordSteps)
        trainer.observer = recordSteps || observer != nil ? recorder : nil
        var states = [trainer.state]
        while trainer.completedSteps < total {
            try trainer.step()
            if stepHashes, recordSteps { recorder.steps[recorder.steps.count - 1].stateHash = trainer.state.contentHash }
            if trainer.completedSteps % every == 0 || trainer.completedSteps == total { states.append(trainer.state) }
        }
        var runConfig = config
        runConfig.threads = 1
        return InMemoryCheckpointSource(
            runConfig: runConfig, datasetFingerprint: training.fingerprint, datasetCount: training.count,
            states: states, listedHashes: states.map(\.contentHash), steps: recorder.steps)
    }
}

/// Records each step's batch and loss and forwards the trace.
final class StepRecordingObserver: StepObserver {
    let inner: (any StepObserver)?
    let recording: Bool
    var steps: [RecordedStep] = []

    init(forwardingTo inner: (any StepObserver)?, recording: Bool) {
        self.inner = inner
        self.recording = recording
    }

    func observe(_ trace: StepTrace) {
        if recording { steps.append(RecordedStep(step: trace.step, sampleIDs: Array(trace.sampleIDs), loss: trace.summary.loss)) }
        inner?.observe(trace)
    }
}
