/// Errors of the training engine: bad data, a model that does not fit, a diverging run,
/// a damaged checkpoint. Each names the file, field or step a user needs to find the problem.
package enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A data file is malformed: wrong magic, truncated, label out of range, ragged row.
    case malformedData(source: String, field: String, offset: Int, message: String)
    /// A file could not be read.
    case io(path: String, message: String)
    /// The model spec, optimizer or schedule is invalid, or does not fit the data.
    case invalidSpec(String)
    /// The loss became NaN or infinite; nothing of this step was applied.
    case nonFiniteLoss(step: Int, epoch: Int, loss: Float)
    /// A checkpoint failed to decode or its content hash does not match.
    case corruptCheckpoint(source: String, message: String)

    package var description: String {
        switch self {
        case let .malformedData(source, field, offset, message):
            "\(source): malformed data at offset \(offset), field '\(field)': \(message)"
        case let .io(path, message):
            "\(path): \(message)"
        case let .invalidSpec(message):
            "invalid model or training spec: \(message)"
        case let .nonFiniteLoss(step, epoch, loss):
            "training diverged: loss is \(loss) at step \(step) (epoch \(epoch)); the step was not applied"
        case let .corruptCheckpoint(source, message):
            "\(source): corrupt checkpoint: \(message)"
        }
    }
}
