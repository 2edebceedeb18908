import KymoCore

/// Errors of KymoSketches: bad parameters, incompatible merges, damaged serialized bytes.
///
/// Every decoding error names the sketch, the field and the byte offset where it was found.
public enum SketchError: Error, CustomStringConvertible, Equatable {
    /// A constructor or query argument is out of range.
    case invalidArgument(sketch: String, message: String)
    /// Two sketches cannot be merged (different width, depth, seeds, capacity, ...).
    case incompatible(sketch: String, message: String)
    /// A field of a serialized sketch is missing (truncated input) or holds an impossible value.
    case malformed(sketch: String, field: String, offset: Int, message: String)
    /// The XXH3 checksum at `offset` does not match the bytes before it.
    case checksumMismatch(sketch: String, offset: Int, stored: UInt64, computed: UInt64)

    /// - Complexity: O(1).
    public var description: String {
        switch self {
        case let .invalidArgument(sketch, message):
            "\(sketch): invalid argument: \(message)"
        case let .incompatible(sketch, message):
            "\(sketch): cannot merge: \(message)"
        case let .malformed(sketch, field, offset, message):
            "possible corruption: \(sketch) at offset \(offset): field '\(field)': \(message)"
        case let .checksumMismatch(sketch, offset, stored, computed):
            "possible corruption: \(sketch) at offset \(offset): field 'checksum' is "
                + "0x\(String(stored, radix: 16)), the bytes before it hash to 0x\(String(computed, radix: 16))"
        }
    }
}

extension SketchError {
    /// KymoCore's decoding error as a `SketchError` with the same field and offset.
    init(_ error: CoreError) {
        switch error {
        case let .truncated(source, field, offset, needed, available):
            self = .malformed(sketch: source, field: field, offset: offset,
                              message: "needs \(needed) bytes, only \(available) remain (truncated)")
        case let .invalid(source, field, offset, message):
            self = .malformed(sketch: source, field: field, offset: offset, message: message)
        case let .corrupt(source, offset, message):
            self = .malformed(sketch: source, field: "", offset: offset, message: message)
        case let .io(path, message):
            self = .malformed(sketch: path, field: "", offset: 0, message: message)
        }
    }
}
