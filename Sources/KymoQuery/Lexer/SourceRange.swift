/// A position in query text: an offset in Unicode scalars from the start, and the 1-based line and
/// column of that scalar.
package struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Unicode scalars before this position.
    package var offset: Int
    /// 1-based line.
    package var line: Int
    /// 1-based column, in Unicode scalars.
    package var column: Int

    package init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    package var description: String { "\(line):\(column)" }
}

/// The half-open stretch of query text `[start, end)` a token or AST node came from.
package struct SourceRange: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var start: SourceLocation
    package var end: SourceLocation

    package init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }

    /// The range that covers both `self` and `other`.
    /// - Complexity: O(1).
    package func joined(_ other: SourceRange) -> SourceRange {
        SourceRange(start: start.offset <= other.start.offset ? start : other.start,
                    end: end.offset >= other.end.offset ? end : other.end)
    }

    package var description: String { "\(start)" }
}

/// A value with the text it came from. Two located values are equal when their values are equal:
/// the range is a note for error messages, not part of the value, so a parsed AST equals one built
/// by hand or re-parsed from printed text.
package struct Located<Value: Equatable & Sendable>: Equatable, Sendable {
    package var value: Value
    package var range: SourceRange?

    package init(_ value: Value, range: SourceRange? = nil) {
        self.value = value
        self.range = range
    }

    package static func == (lhs: Located, rhs: Located) -> Bool { lhs.value == rhs.value }
}
