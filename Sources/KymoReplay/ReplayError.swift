import KymoEngine

/// Errors of replay: a checkpoint that is missing or damaged, a data set or config that is not the
/// run's, a replayed state that does not reproduce the recorded one. Each names the step, the
/// segment and the hashes a user needs to find the problem.
///
/// "Step t" in these messages is the 0-based index of a training step; "the state at step t" is the
/// state after t steps, i.e. the one step t starts from (a checkpoint at step t holds it).
package enum ReplayError: Error, CustomStringConvertible, Equatable {
    /// The request is malformed (empty or out-of-range steps, unknown parameter id, k < 1).
    case invalidRequest(String)
    /// No checkpoint at or before `step` exists.
    case noCheckpoint(atOrBefore: Int)
    /// The checkpoint could not be loaded, or its content hash is not the one its listing records.
    case corruptCheckpoint(step: Int, message: String)
    /// The data set given for replay is not the one the run was trained on.
    case datasetMismatch(expectedFingerprint: UInt64, expectedCount: Int, foundFingerprint: UInt64, foundCount: Int, name: String)
    /// A checkpoint's config (or random keys) differ from the run's.
    case configMismatch(checkpointStep: Int, message: String)
    /// The batch replayed at `step` is not the recorded one (the data order differs).
    case dataOrderMismatch(step: Int, segment: Range<Int>, message: String)
    /// The replayed state differs from the recorded one. `firstDivergentStep` is the earliest state
    /// known to differ (see the enum's doc); `message` says what was compared.
    case diverged(firstDivergentStep: Int, segment: Range<Int>, message: String)
    /// The engine failed (the loss became non-finite, the model does not fit the data).
    case engine(EngineError)
    /// The run's store could not be read.
    case store(String)

    package var description: String {
        switch self {
        case let .invalidRequest(message):
            "invalid replay request: \(message)"
        case let .noCheckpoint(step):
            "no checkpoint at or before step \(step): replay needs one to start from"
        case let .corruptCheckpoint(step, message):
            "checkpoint at step \(step): \(message)"
        case let .datasetMismatch(expectedFingerprint, expectedCount, foundFingerprint, foundCount, name):
            "the run was trained on a data set of \(expectedCount) samples (fingerprint \(hex(expectedFingerprint))); \(name) has \(foundCount) (fingerprint \(hex(foundFingerprint))): refusing to replay on a different data set"
        case let .configMismatch(step, message):
            "checkpoint at step \(step) does not belong to this run: \(message)"
        case let .dataOrderMismatch(step, segment, message):
            "replay of segment \(segment.lowerBound)..<\(segment.upperBound): the data order differs at step \(step): \(message)"
        case let .diverged(step, segment, message):
            "replay of segment \(segment.lowerBound)..<\(segment.upperBound) diverged: the first state that differs is the one at step \(step) (after \(step) steps): \(message)"
        case let .engine(error):
            "replay: \(error.description)"
        case let .store(message):
            "replay: \(message)"
        }
    }
}

/// "0x" and 16 hex digits.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
