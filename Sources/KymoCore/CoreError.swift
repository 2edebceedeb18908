/// Errors of KymoCore: decoding bytes and reading files.
package enum CoreError: Error, CustomStringConvertible, Equatable {
    /// The input ended before `field` could be read.
    case truncated(source: String, field: String, offset: Int, needed: Int, available: Int)
    /// A field holds a value that cannot be right.
    case invalid(source: String, field: String, offset: Int, message: String)
    /// The bytes are damaged (checksum, compressed stream).
    case corrupt(source: String, offset: Int, message: String)
    /// A file could not be read or written.
    case io(path: String, message: String)

    package var description: String {
        switch self {
        case let .truncated(source, field, offset, needed, available):
            "possible corruption: \(source) at offset \(offset): field '\(field)' needs \(needed) bytes, only \(available) remain"
        case let .invalid(source, field, offset, message):
            "possible corruption: \(source) at offset \(offset): field '\(field)': \(message)"
        case let .corrupt(source, offset, message):
            "possible corruption: \(source) at offset \(offset): \(message)"
        case let .io(path, message):
            "\(path): \(message)"
        }
    }
}
