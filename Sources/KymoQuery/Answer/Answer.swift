/// One cell of an answer.
package enum Cell: Equatable, Sendable {
    /// A measured value with its bounds and source.
    case estimate(Estimate)
    /// An identifier or count: a sample index, a step, a cluster number.
    case integer(Int)
    /// A name: a run, a weight (`fc1[12,40]`), a layer.
    case text(String)
    /// No value (a run that has not reached the step yet).
    case missing
}

/// A column: its name and what its cells hold.
package struct Column: Equatable, Sendable {
    package enum Kind: String, Equatable, Sendable {
        case estimate, integer, text
    }

    package var name: String
    package var kind: Kind

    package init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// The answer to a query: a table whose numeric cells carry their error, plus notes
/// ("replay of steps 1201–1400 would make this exact: ≈ 3.2 s").
package struct Answer: Equatable, Sendable {
    /// The canonical text of the query answered, if known.
    package var query: String?
    package var columns: [Column]
    package var rows: [[Cell]]
    package var notes: [String]

    package init(query: String? = nil, columns: [Column], rows: [[Cell]] = [], notes: [String] = []) {
        self.query = query
        self.columns = columns
        self.rows = rows
        self.notes = notes
    }
}
