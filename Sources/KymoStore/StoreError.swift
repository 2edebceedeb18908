/// Errors of KymoStore. Each names the file and, where bytes are at fault, the offset.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A system call failed (`ENOSPC` on a full disk, `EIO`, …).
    case io(file: String, offset: Int?, operation: String, message: String)
    /// Bytes that fail a check: a checksum, a magic number, a field out of range.
    case corrupt(file: String, offset: Int, message: String)
    /// Another writer holds the run's lock.
    case locked(run: String, holderPID: Int32?)
    /// The run, column or checkpoint asked for does not exist.
    case notFound(String)
    /// A run of that name exists already.
    case exists(run: String)
    /// The caller broke the API's contract (overlapping step ranges, a width that does not
    /// divide, a step prefix that goes backwards).
    case invalidArgument(String)
    /// A compression call failed (zstd's own message).
    case codec(String)
    /// An earlier I/O error left this writer unusable; reopen the run (which repairs it).
    case writerFailed(String)

    public var description: String {
        switch self {
        case let .io(file, offset, operation, message):
            "I/O error: \(file)\(offset.map { " at offset \($0)" } ?? ""): \(operation): \(message)"
        case let .corrupt(file, offset, message):
            "possible corruption: \(file) at offset \(offset): \(message)"
        case let .locked(run, pid):
            "run '\(run)' is locked by another writer" + (pid.map { " (pid \($0))" } ?? "")
        case let .notFound(what):
            "not found: \(what)"
        case let .exists(run):
            "run '\(run)' already exists"
        case let .invalidArgument(message):
            "invalid argument: \(message)"
        case let .codec(message):
            "zstd: \(message)"
        case let .writerFailed(message):
            "writer unusable after an earlier error (\(message)); reopen the run to repair it"
        }
    }
}
