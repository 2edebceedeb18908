import Synchronization

/// The measured cost of writing checkpoints into the store, shared between the thread that
/// writes them (the recorder thread, `StoreSink`) and the one that schedules them (the training
/// thread, `CheckpointSchedule` through `Recording`): the schedule then charges a checkpoint what
/// the last write really took on this machine's disk instead of an assumed bandwidth.
package final class CheckpointWriteCosts: Sendable {
    private let state = Mutex<(latest: Double?, total: Double, count: Int)>((nil, 0, 0))

    package init() {}

    /// Records one write's duration in seconds (ignored unless finite and ≥ 0).
    /// - Complexity: O(1).
    package func record(seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        state.withLock { $0 = (seconds, $0.total + seconds, $0.count + 1) }
    }

    /// The latest write's seconds, nil before the first.
    /// - Complexity: O(1).
    package var latest: Double? { state.withLock { $0.latest } }

    /// All writes so far: total seconds and how many.
    /// - Complexity: O(1).
    package var total: (seconds: Double, count: Int) { state.withLock { ($0.total, $0.count) } }
}
