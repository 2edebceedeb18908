/// When to write a checkpoint, the way Flor's adaptive checkpointing decides (Garcia et al.,
/// "Hindsight logging for model training", VLDB 2021): write one as soon as its estimated cost is
/// at most a share ε (default 5 %) of the compute spent since the previous one. The cost of the
/// checkpoints thus stays near ε of the training compute, and segments — the unit of replay —
/// are as short as that budget allows.
///
/// The schedule depends on measured times, so it is not deterministic; that is fine because the
/// checkpoint steps are recorded (store checkpoints + manifest) and replay reads them.
package struct CheckpointSchedule: Equatable, Sendable {
    /// ε, the share of compute that checkpoints may cost.
    package let overheadShare: Double
    /// The current estimate of one checkpoint's cost in seconds (mean of the last measurements,
    /// weighted ½ to the newest).
    package private(set) var estimatedCheckpointSeconds: Double
    /// Compute since the last checkpoint, in seconds.
    package private(set) var computeSinceLast: Double = 0

    /// - Parameters:
    ///   - initialCheckpointSeconds: the first estimate (e.g. state bytes / 400 MB/s).
    /// - Throws: `RecorderError.invalidConfiguration` unless 0 < ε < 1 and the estimate is ≥ 0.
    /// - Complexity: O(1).
    package init(overheadShare: Double = 0.05, initialCheckpointSeconds: Double) throws {
        guard overheadShare > 0, overheadShare < 1 else {
            throw RecorderError.invalidConfiguration(field: "checkpoint-share", message: "\(overheadShare) is not in (0, 1)")
        }
        guard initialCheckpointSeconds >= 0, initialCheckpointSeconds.isFinite else {
            throw RecorderError.invalidConfiguration(field: "checkpoint-cost", message: "\(initialCheckpointSeconds) is not a duration")
        }
        self.overheadShare = overheadShare
        estimatedCheckpointSeconds = initialCheckpointSeconds
    }

    /// Call after each step with the step's compute time; returns true when a checkpoint should be
    /// written now (then call `checkpointWritten(seconds:)`).
    /// - Complexity: O(1).
    package mutating func stepFinished(computeSeconds: Double) -> Bool {
        computeSinceLast += max(0, computeSeconds)
        return estimatedCheckpointSeconds <= overheadShare * computeSinceLast
    }

    /// Records a written checkpoint and its measured cost.
    /// - Complexity: O(1).
    package mutating func checkpointWritten(seconds: Double) {
        computeSinceLast = 0
        if seconds.isFinite && seconds >= 0 {
            estimatedCheckpointSeconds = 0.5 * estimatedCheckpointSeconds + 0.5 * seconds
        }
    }
}
