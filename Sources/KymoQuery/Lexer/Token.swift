/// The reserved words of the query language. Matching is case-insensitive; a name that collides with
/// one (a run called `loss`) is written in quotes: `FROM RUN "loss"`.
package enum Keyword: String, CaseIterable, Sendable {
    // statements
    case top = "TOP", bottom = "BOTTOM", last = "LAST", compare = "COMPARE", select = "SELECT"
    // nouns
    case samples = "SAMPLES", sample = "SAMPLE", weights = "WEIGHTS", weight = "WEIGHT"
    case runs = "RUNS", run = "RUN", layers = "LAYERS", layer = "LAYER", neurons = "NEURONS"
    case neuron = "NEURON", bias = "BIAS"
    case steps = "STEPS", step = "STEP", epochs = "EPOCHS", epoch = "EPOCH"
    // clauses
    case by = "BY", `for` = "FOR", each = "EACH", `in` = "IN", at = "AT", until = "UNTIL"
    case zero = "ZERO", before = "BEFORE", fraction = "FRACTION", exceeds = "EXCEEDS"
    case show = "SHOW", every = "EVERY", over = "OVER", per = "PER", `where` = "WHERE"
    case and = "AND", or = "OR", not = "NOT", group = "GROUP", cluster = "CLUSTER"
    case trajectory = "TRAJECTORY", from = "FROM", within = "WITHIN", exact = "EXACT"
    case confidence = "CONFIDENCE"
    // aggregates
    case sum = "SUM", mean = "MEAN", min = "MIN", max = "MAX", count = "COUNT", net = "NET"
    // quantities
    case abs = "ABS", loss = "LOSS", accuracy = "ACCURACY", probe = "PROBE", gradient = "GRADIENT"
    case norm = "NORM", update = "UPDATE", learning = "LEARNING", rate = "RATE"
    case distance = "DISTANCE", value = "VALUE", delta = "DELTA", squared = "SQUARED"
    case contribution = "CONTRIBUTION", label = "LABEL", prediction = "PREDICTION"
    case correct = "CORRECT"

    /// Lookup only; never iterated, so its order cannot leak into any output.
    private static let byUpperCaseSpelling: [String: Keyword] =
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    /// The keyword spelled `word` in any case, or nil.
    /// - Complexity: O(|word|).
    package init?(word: String) {
        guard word.utf8.count <= 12, let match = Self.byUpperCaseSpelling[word.uppercased()] else { return nil }
        self = match
    }
}

/// Comparison operators of filters and conditions.
package enum ComparisonOperator: String, CaseIterable, Equatable, Sendable {
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=", notEqual = "!="
}

/// What kind of token, with its value.
package enum TokenKind: Equatable, Sendable {
    case keyword(Keyword)
    /// A bare name: letters, digits and `_`, not starting with a digit, not a keyword.
    case identifier(String)
    /// A quoted name, `"seed 2"` or `'seed 2'`, without its quotes.
    case string(String)
    /// Digits only: `12`.
    case integer(Int)
    /// A number with a fraction or an exponent: `0.5`, `1e-3`, `2.5E+4`.
    case decimal(Double)
    /// A number followed directly by `%`: `10%`, `2.5%` (the value is the number, 10 or 2.5).
    case percent(Double)
    case comparison(ComparisonOperator)
    case comma, dot, dotDot, leftBracket, rightBracket, leftParen, rightParen, star, semicolon, minus
    case end

    /// How the token is named in "expected …" messages.
    package var displayName: String {
        switch self {
        case .keyword(let k): return k.rawValue
        case .identifier(let s): return "name '\(s)'"
        case .string(let s): return "string \"\(s)\""
        case .integer(let i): return "number \(i)"
        case .decimal(let d): return "number \(d)"
        case .percent(let d): return "percentage \(d)%"
        case .comparison(let op): return "'\(op.rawValue)'"
        case .comma: return "','"
        case .dot: return "'.'"
        case .dotDot: return "'..'"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .star: return "'*'"
        case .semicolon: return "';'"
        case .minus: return "'-'"
        case .end: return "end of query"
        }
    }
}

/// One token and where it stands in the text.
package struct Token: Equatable, Sendable {
    package var kind: TokenKind
    package var range: SourceRange
    /// The exact source text of the token.
    package var text: String

    package init(kind: TokenKind, range: SourceRange, text: String) {
        self.kind = kind
        self.range = range
        self.text = text
    }
}
