/// Errors of the recorder: a budget that cannot hold the required tier, bad shapes handed in by the
/// wiring, the recorder thread failing, a run that diverged. Each names what a user needs to act.
package enum RecorderError: Error, CustomStringConvertible, Equatable {
    /// A configuration value is out of range (`field` names the flag or manifest key).
    case invalidConfiguration(field: String, message: String)
    /// A buffer handed to the recorder has the wrong length.
    case shapeMismatch(what: String, expected: Int, actual: Int)
    /// The budget cannot hold even the always-on exact tier T0.
    case budgetTooSmall(bytesPerEpoch: Int, requiredForT0: Int)
    /// The recorder pipeline was used after `finish()`.
    case pipelineClosed
    /// The recorder thread stopped with an error while processing step `sequence`.
    case workerFailed(sequence: Int, message: String)
    /// The loss (or gradient) became non-finite at `step`; steps before it are committed.
    case diverged(step: Int, message: String)
    /// Writing the run failed (a full disk, a lock held by another writer, …).
    case store(message: String)

    package var description: String {
        switch self {
        case let .invalidConfiguration(field, message):
            "invalid recorder configuration '\(field)': \(message)"
        case let .shapeMismatch(what, expected, actual):
            "recorder: \(what) has \(actual) elements, expected \(expected)"
        case let .budgetTooSmall(bytes, required):
            "recording budget of \(bytes) bytes per epoch is below the \(required) bytes the exact tier T0 needs"
        case .pipelineClosed:
            "recorder: the pipeline is already finished"
        case let .workerFailed(sequence, message):
            "recorder thread failed at step buffer \(sequence): \(message)"
        case let .diverged(step, message):
            "training diverged at step \(step): \(message); steps 0..<\(step) are committed and readable"
        case let .store(message):
            "recording stopped: \(message)"
        }
    }
}
