/// Everything that can go wrong between query text and an answer. Each case names where in the
/// query the problem is, so `rendered(in:)` can print the query with a caret under it.
package enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Text that is not a token: a stray character, an unterminated string, a number too large.
    case lexical(location: SourceRange, message: String)
    /// Tokens that do not form a query; `message` says what was expected.
    case syntax(location: SourceRange, message: String)
    /// A run the catalog does not know.
    case unknownRun(name: String, location: SourceRange?, suggestion: String?)
    /// A layer the catalog does not know.
    case unknownLayer(name: String, location: SourceRange?, suggestion: String?)
    /// A weight index outside its layer's shape, or the wrong number of indices.
    case badWeight(selector: String, location: SourceRange?, message: String)
    /// A step or epoch outside the run, or a range whose end is before its start.
    case outOfRange(location: SourceRange?, message: String)
    /// A query that parses but asks for something meaningless (TOP 0, WITHIN -1, …).
    case invalid(location: SourceRange?, message: String)

    /// Where the problem is, when known.
    package var location: SourceRange? {
        switch self {
        case .lexical(let l, _), .syntax(let l, _): return l
        case .unknownRun(_, let l, _), .unknownLayer(_, let l, _), .badWeight(_, let l, _),
             .outOfRange(let l, _), .invalid(let l, _):
            return l
        }
    }

    /// The message without the location.
    package var message: String {
        switch self {
        case .lexical(_, let m), .syntax(_, let m), .outOfRange(_, let m), .invalid(_, let m):
            return m
        case .unknownRun(let name, _, let suggestion):
            return "unknown run '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .unknownLayer(let name, _, let suggestion):
            return "unknown layer '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .badWeight(let selector, _, let m):
            return "weight \(selector): \(m)"
        }
    }

    package var description: String {
        let kind: String
        switch self {
        case .lexical: kind = "lexical error"
        case .syntax: kind = "syntax error"
        default: kind = "error"
        }
        if let location { return "\(kind) at \(location.start): \(message)" }
        return "\(kind): \(message)"
    }

    /// The message followed by the offending line of `source` with a caret under the problem:
    ///
    ///     error: expected a number after TOP, found name 'ten'
    ///       TOP ten SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[1,2]
    ///           ^~~
    ///
    /// - Complexity: O(|source|).
    package func rendered(in source: String) -> String {
        var out = "error: \(message)"
        guard let location else { return out }
        let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        let lineIndex = min(max(location.start.line - 1, 0), max(lines.count - 1, 0))
        let lineScalars = lines.isEmpty ? [] : Array(lines[lineIndex])
        let lineText = String(String.UnicodeScalarView(lineScalars.map { $0 == "\t" ? " " : $0 }))
        let column = max(location.start.column - 1, 0)
        var width = 1
        if location.end.line == location.start.line {
            width = max(location.end.column - location.start.column, 1)
        } else {
            width = max(lineScalars.count - column, 1)
        }
        out += "\n  " + lineText
        out += "\n  " + String(repeating: " ", count: column) + "^" + String(repeating: "~", count: width - 1)
        return out
    }
}

/// The closest of `candidates` to `word` (case-insensitive edit distance, a swap of two
/// neighbouring letters counting as one edit), if it is close enough to be a plausible typo: at
/// most 1 edit for words of up to 4 letters, 2 for longer ones. Ties go to the earlier candidate,
/// so the result does not depend on any hash order.
/// - Complexity: O(Σ |word|·|candidate|).
package func closestMatch(to word: String, among candidates: [String]) -> String? {
    let w = Array(word.uppercased().unicodeScalars)
    let limit = w.count <= 4 ? 1 : 2
    var best: (String, Int)?
    for candidate in candidates {
        let c = Array(candidate.uppercased().unicodeScalars)
        if abs(c.count - w.count) > limit { continue }
        let distance = editDistance(w, c)
        if distance <= limit, distance > 0 || candidate != word, best == nil || distance < best!.1 {
            best = (candidate, distance)
        }
    }
    return best?.0
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps.
/// - Complexity: O(|a|·|b|).
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
