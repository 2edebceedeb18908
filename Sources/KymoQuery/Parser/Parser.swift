/// A recursive-descent parser: one `parseX()` per production of the grammar in docs/QUERY.md, the
/// production in its doc comment. It never crashes: every failure is a `QueryError` that points at
/// the token where the query went wrong and says what was expected there.
package struct Parser {
    private let tokens: [Token]
    private var position = 0
    private var depth = 0
    /// Parentheses and NOTs deeper than this are refused, so hostile input cannot exhaust the stack.
    package static let maximumNesting = 64

    /// Parses one query.
    /// - Complexity: O(|text|).
    package static func parse(_ text: String) throws(QueryError) -> Query {
        var parser = Parser(tokens: try Lexer.tokenize(text))
        return try parser.parseQuery()
    }

    /// A parser over tokens that end with `.end` (as `Lexer.tokenize` returns them).
    package init(tokens: [Token]) {
        if tokens.last?.kind == .end {
            self.tokens = tokens
        } else {
            let end = tokens.last?.range.end ?? SourceLocation(offset: 0, line: 1, column: 1)
            self.tokens = tokens + [Token(kind: .end, range: SourceRange(start: end, end: end), text: "")]
        }
    }

    // MARK: - Token helpers

    private var current: Token { tokens[position] }

    private func peek(_ ahead: Int) -> Token { tokens[min(position + ahead, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isKeyword(_ keyword: Keyword, _ ahead: Int = 0) -> Bool {
        peek(ahead).kind == .keyword(keyword)
    }

    private mutating func accept(_ keyword: Keyword) -> Token? {
        isKeyword(keyword) ? advance() : nil
    }

    private mutating func expect(_ keyword: Keyword, _ context: String) throws(QueryError) -> Token {
        if let token = accept(keyword) { return token }
        throw unexpected("\(keyword.rawValue) \(context)", keywords: [keyword])
    }

    private mutating func expect(_ kind: TokenKind, _ what: String) throws(QueryError) -> Token {
        if current.kind == kind { return advance() }
        throw unexpected(what)
    }

    /// "expected …, found …", with a did-you-mean when the token is a name close to a keyword.
    private func unexpected(_ expected: String, keywords: [Keyword] = []) -> QueryError {
        var message = "expected \(expected), found \(current.kind.displayName)"
        if case .identifier(let word) = current.kind {
            let candidates = (keywords.isEmpty ? Keyword.allCases : keywords).map(\.rawValue)
            if let suggestion = closestMatch(to: word, among: candidates) {
                message += "; did you mean \(suggestion)?"
            }
        }
        return .syntax(location: current.range, message: message)
    }

    private func range(from start: Token) -> SourceRange {
        let last = tokens[max(position - 1, 0)]
        return start.range.joined(last.range)
    }

    // MARK: - Statements

    /// `query = statement [ ";" ] EOF`
    /// - Complexity: O(tokens).
    package mutating func parseQuery() throws(QueryError) -> Query {
        let query = try parseStatement()
        if current.kind == .semicolon { advance() }
        guard current.kind == .end else {
            let allowed = Self.allowedClauses(for: query)
            let starts = ClauseKind.allCases.filter { allowed.contains($0) && query.clauses.isEmpty($0) }
                .flatMap(\.startingKeywords)
            throw unexpected((starts.map(\.rawValue) + ["end of query"]).joinedAsAlternatives(), keywords: starts)
        }
        return query
    }

    /// `statement = topQuery | lastQuery | compareQuery | selectQuery`
    /// - Complexity: O(tokens consumed).
    mutating func parseStatement() throws(QueryError) -> Query {
        switch current.kind {
        case .keyword(.top), .keyword(.bottom): return try parseTopQuery()
        case .keyword(.last): return try parseLastQuery()
        case .keyword(.compare): return try parseCompareQuery()
        case .keyword(.select): return try parseSelectQuery()
        default:
            throw unexpected("TOP, BOTTOM, LAST, COMPARE or SELECT at the start of a query",
                             keywords: [.top, .bottom, .last, .compare, .select])
        }
    }

    /// ```
    /// topQuery = ( "TOP" | "BOTTOM" ) integer
    ///            ( "SAMPLES" "BY" measure [ "FOR" target ]
    ///            | "WEIGHTS" [ "IN" selector ] "BY" measure ) clauses
    /// ```
    /// - Complexity: O(tokens consumed).
    mutating func parseTopQuery() throws(QueryError) -> Query {
        let head = advance()
        let direction: RankDirection = head.kind == .keyword(.top) ? .top : .bottom
        let countToken = current
        let count = try parseInteger(after: direction.rawValue)
        if accept(.samples) != nil {
            _ = try expect(.by, "after SAMPLES")
            let measureToken = current
            let measure = try parseMeasure()
            let measureRange = range(from: measureToken)
            var target: Target?
            if accept(.for) != nil { target = try parseTarget() }
            var query = TopSamples(ranking: Ranking(direction, count, by: measure, countRange: countToken.range,
                                                    measureRange: measureRange),
                                   target: target)
            try parseClauses(into: &query.clauses, allowed: Self.topSamplesClauses, statement: "TOP … SAMPLES")
            return .topSamples(query)
        }
        if accept(.weights) != nil {
            var selection: Located<WeightSelector>?
            if accept(.in) != nil { selection = try parseSelector() }
            _ = try expect(.by, selection == nil ? "or IN after WEIGHTS" : "after the weight selector")
            let measureToken = current
            let measure = try parseMeasure()
            var query = TopWeights(ranking: Ranking(direction, count, by: measure, countRange: countToken.range,
                                                    measureRange: range(from: measureToken)),
                                   selection: selection)
            try parseClauses(into: &query.clauses, allowed: Self.topWeightsClauses, statement: "TOP … WEIGHTS")
            return .topWeights(query)
        }
        throw unexpected("SAMPLES or WEIGHTS after \(direction.rawValue) \(count)", keywords: [.samples, .weights])
    }

    /// `lastQuery = "LAST" integer "SAMPLES" "BEFORE" event clauses`
    /// - Complexity: O(tokens consumed).
    mutating func parseLastQuery() throws(QueryError) -> Query {
        advance()
        let countToken = current
        let count = try parseInteger(after: "LAST")
        _ = try expect(.samples, "after LAST \(count)")
        _ = try expect(.before, "after LAST \(count) SAMPLES")
        let event = try parseEvent()
        var query = LastSamples(count: count, event: event, countRange: countToken.range)
        try parseClauses(into: &query.clauses, allowed: Self.lastSamplesClauses, statement: "LAST … SAMPLES")
        return .lastSamples(query)
    }

    /// `compareQuery = "COMPARE" "RUNS" nameList clauses "SHOW" measureList clauses`
    /// - Complexity: O(tokens consumed).
    mutating func parseCompareQuery() throws(QueryError) -> Query {
        advance()
        _ = try expect(.runs, "after COMPARE")
        let runs = try parseNameList(what: "a run name")
        var clauses = Clauses()
        try parseClauses(into: &clauses, allowed: Self.compareClauses, statement: "COMPARE")
        guard accept(.show) != nil else {
            let starts = ClauseKind.allCases.filter { Self.compareClauses.contains($0) && clauses.isEmpty($0) }
                .flatMap(\.startingKeywords).map(\.rawValue)
            throw unexpected((starts + ["SHOW"]).joinedAsAlternatives(), keywords: [.show])
        }
        let measures = try parseMeasureList()
        try parseClauses(into: &clauses, allowed: Self.compareClauses, statement: "COMPARE")
        var query = CompareRuns(runs: runs, measures: [], clauses: clauses)
        query.measures = measures
        return .compare(query)
    }

    /// `selectQuery = "SELECT" measureList [ "FOR" target ] clauses`
    /// - Complexity: O(tokens consumed).
    mutating func parseSelectQuery() throws(QueryError) -> Query {
        advance()
        let measures = try parseMeasureList()
        var target: Target?
        if accept(.for) != nil { target = try parseTarget() }
        var query = Select(measures: [], target: target)
        query.measures = measures
        try parseClauses(into: &query.clauses, allowed: Self.selectClauses, statement: "SELECT")
        return .select(query)
    }

    // MARK: - Clauses

    static let topSamplesClauses: Set<ClauseKind> = [.span, .until, .filter, .runs, .accuracy]
    static let topWeightsClauses: Set<ClauseKind> = [.span, .grouping, .filter, .runs, .accuracy]
    static let lastSamplesClauses: Set<ClauseKind> = [.span, .filter, .runs, .accuracy]
    static let compareClauses: Set<ClauseKind> = [.span, .every, .accuracy]
    static let selectClauses: Set<ClauseKind> = [.span, .until, .over, .per, .filter, .runs, .accuracy]

    /// The clauses `query`'s statement kind accepts.
    /// - Complexity: O(1).
    package static func allowedClauses(for query: Query) -> Set<ClauseKind> {
        switch query {
        case .topSamples: return topSamplesClauses
        case .topWeights: return topWeightsClauses
        case .lastSamples: return lastSamplesClauses
        case .compare: return compareClauses
        case .select: return selectClauses
        }
    }

    /// ```
    /// clauses = { span | "EVERY" integer | "UNTIL" condition | "OVER" unit | "PER" unit
    ///           | grouping | "WHERE" predicate | "FROM" runs | accuracy }
    /// ```
    /// Each clause at most once, in any order; which ones a statement takes is in `allowed`.
    /// - Complexity: O(tokens consumed).
    mutating func parseClauses(into clauses: inout Clauses, allowed: Set<ClauseKind>,
                                       statement: String) throws(QueryError) {
        while true {
            let start = current
            guard case .keyword(let keyword) = start.kind,
                  let kind = ClauseKind.allCases.first(where: { $0.startingKeywords.contains(keyword) })
            else { return }
            guard allowed.contains(kind) else {
                throw .syntax(location: start.range, message: "\(kind.rawValue) is not allowed in a \(statement) query")
            }
            guard clauses.isEmpty(kind) else {
                throw .syntax(location: start.range, message: "\(kind.rawValue) is given twice")
            }
            switch kind {
            case .span: clauses.span = try parseSpan()
            case .every:
                advance()
                let token = current
                clauses.every = Located(try parseInteger(after: "EVERY"), range: token.range)
            case .until:
                advance()
                clauses.until = try parseCondition()
            case .over:
                advance()
                clauses.over = try parseUnit(after: "OVER")
            case .per:
                advance()
                clauses.per = try parseUnit(after: "PER")
            case .grouping: clauses.grouping = try parseGrouping()
            case .filter:
                advance()
                clauses.filter = try parsePredicate()
            case .runs: clauses.runs = try parseRuns()
            case .accuracy: clauses.accuracy = try parseAccuracy()
            }
            clauses.locations[kind] = range(from: start)
        }
    }

    /// ```
    /// span = "IN" ( "EPOCH" | "EPOCHS" ) integer [ ".." integer ]
    ///      | "IN" ( "STEP" | "STEPS" ) integer [ ".." integer ]
    ///      | "AT" ( "STEP" | "EPOCH" ) integer
    /// ```
    /// - Complexity: O(tokens consumed).
    mutating func parseSpan() throws(QueryError) -> Located<Span> {
        let start = advance()
        if start.kind == .keyword(.at) {
            if accept(.step) != nil { return Located(.atStep(try parseInteger(after: "AT STEP")), range: range(from: start)) }
            if accept(.epoch) != nil { return Located(.atEpoch(try parseInteger(after: "AT EPOCH")), range: range(from: start)) }
            throw unexpected("STEP or EPOCH after AT", keywords: [.step, .epoch])
        }
        let isEpoch: Bool
        if accept(.epoch) != nil || accept(.epochs) != nil {
            isEpoch = true
        } else if accept(.step) != nil || accept(.steps) != nil {
            isEpoch = false
        } else if case .identifier(let word) = current.kind,
                  closestMatch(to: word, among: ["EPOCH", "EPOCHS", "STEP", "STEPS"]) == nil {
            throw .syntax(location: current.range,
                          message: "expected EPOCH, EPOCHS, STEP or STEPS after IN, found name '\(word)'; weights are "
                              + "chosen with FOR WEIGHT …, FOR EACH WEIGHT IN …, or TOP k WEIGHTS IN … BY …")
        } else {
            throw unexpected("EPOCH, EPOCHS, STEP or STEPS after IN", keywords: [.epoch, .epochs, .step, .steps])
        }
        let unit = isEpoch ? "EPOCH" : "STEP"
        let first = try parseInteger(after: "IN \(unit)")
        if current.kind == .dotDot {
            advance()
            let last = try parseInteger(after: "'..'")
            return Located(isEpoch ? .epochs(first, last) : .steps(first, last), range: range(from: start))
        }
        return Located(isEpoch ? .epoch(first) : .step(first), range: range(from: start))
    }

    /// `grouping = "GROUP" "BY" unit | "CLUSTER" integer "BY" "TRAJECTORY"`
    /// - Complexity: O(tokens consumed).
    mutating func parseGrouping() throws(QueryError) -> Grouping {
        if accept(.group) != nil {
            _ = try expect(.by, "after GROUP")
            return .group(try parseUnit(after: "GROUP BY"))
        }
        advance()
        let token = current
        let count = try parseInteger(after: "CLUSTER")
        _ = try expect(.by, "after CLUSTER \(count)")
        _ = try expect(.trajectory, "after CLUSTER \(count) BY")
        return .clusters(Located(count, range: token.range))
    }

    /// `runs = ( "RUN" | "RUNS" ) nameList`, after `FROM`.
    /// - Complexity: O(tokens consumed).
    mutating func parseRuns() throws(QueryError) -> [Located<String>] {
        advance()
        guard accept(.run) != nil || accept(.runs) != nil else {
            throw unexpected("RUN or RUNS after FROM", keywords: [.run, .runs])
        }
        return try parseNameList(what: "a run name")
    }

    /// `accuracy = "EXACT" | "WITHIN" literal [ "CONFIDENCE" literal ]`
    /// - Complexity: O(tokens consumed).
    mutating func parseAccuracy() throws(QueryError) -> Accuracy {
        if accept(.exact) != nil { return .exact }
        advance()
        let tolerance = try parseLiteral(after: "WITHIN")
        var confidence: Literal?
        if accept(.confidence) != nil { confidence = try parseLiteral(after: "CONFIDENCE") }
        return .within(tolerance, confidence: confidence)
    }

    // MARK: - Targets and selectors

    /// `target = "WEIGHT" selector | "WEIGHTS" selector | "EACH" unit "IN" selector`
    /// - Complexity: O(tokens consumed).
    mutating func parseTarget() throws(QueryError) -> Target {
        if accept(.weight) != nil || accept(.weights) != nil { return .weights(try parseSelector()) }
        if accept(.each) != nil {
            let unit = try parseUnit(after: "EACH")
            _ = try expect(.in, "after EACH \(unit.rawValue)")
            return .each(unit, try parseSelector())
        }
        if case .identifier(let word) = current.kind,
           closestMatch(to: word, among: ["WEIGHT", "WEIGHTS", "EACH"]) == nil {
            throw .syntax(location: current.range,
                          message: "expected WEIGHT, WEIGHTS or EACH after FOR, found name '\(word)'; "
                              + "write FOR WEIGHT \(current.text)… or FOR EACH WEIGHT IN \(current.text)…")
        }
        throw unexpected("WEIGHT, WEIGHTS or EACH after FOR", keywords: [.weight, .weights, .each])
    }

    /// ```
    /// selector = name [ "." ( "WEIGHT" | "BIAS" ) ] [ "[" index { "," index } "]" ]
    /// ```
    /// - Complexity: O(tokens consumed).
    mutating func parseSelector() throws(QueryError) -> Located<WeightSelector> {
        let start = current
        let layer = try parseName(what: "a layer name")
        var parameter: WeightSelector.Parameter?
        if current.kind == .dot {
            advance()
            if accept(.weight) != nil {
                parameter = .weight
            } else if accept(.bias) != nil {
                parameter = .bias
            } else {
                throw unexpected("weight or bias after '\(layer).'", keywords: [.weight, .bias])
            }
        }
        var indices: [WeightSelector.Index]?
        if current.kind == .leftBracket {
            advance()
            var list = [try parseIndex()]
            while current.kind == .comma {
                advance()
                list.append(try parseIndex())
            }
            _ = try expect(.rightBracket, "',' or ']' in the weight index")
            indices = list
            if parameter == nil { parameter = .weight }
        }
        return Located(WeightSelector(layer: layer, parameter: parameter, indices: indices), range: range(from: start))
    }

    /// `index = "*" | integer [ ".." integer ]`
    /// - Complexity: O(tokens consumed).
    mutating func parseIndex() throws(QueryError) -> WeightSelector.Index {
        if current.kind == .star {
            advance()
            return .all
        }
        guard case .integer = current.kind else { throw unexpected("an index (a number, a range a..b, or *)") }
        let first = try parseInteger(after: "'['")
        if current.kind == .dotDot {
            advance()
            return .range(first, try parseInteger(after: "'..'"))
        }
        return .at(first)
    }

    /// `nameList = name { "," name }`
    /// - Complexity: O(tokens consumed).
    mutating func parseNameList(what: String) throws(QueryError) -> [Located<String>] {
        var names: [Located<String>] = []
        repeat {
            if !names.isEmpty { advance() }
            let token = current
            names.append(Located(try parseName(what: what), range: token.range))
        } while current.kind == .comma
        return names
    }

    /// `name = identifier | string`
    /// - Complexity: O(tokens consumed).
    mutating func parseName(what: String) throws(QueryError) -> String {
        switch current.kind {
        case .identifier(let name), .string(let name):
            advance()
            return name
        case .keyword(let keyword):
            throw .syntax(location: current.range,
                          message: "expected \(what), found keyword \(keyword.rawValue) (quote a name that is a keyword: \"\(current.text)\")")
        default:
            throw unexpected(what)
        }
    }

    // MARK: - Measures and quantities

    /// `measureList = measure { "," measure }`
    /// - Complexity: O(tokens consumed).
    mutating func parseMeasureList() throws(QueryError) -> [Located<Measure>] {
        var measures: [Located<Measure>] = []
        repeat {
            if !measures.isEmpty { advance() }
            let start = current
            let measure = try parseMeasure()
            measures.append(Located(measure, range: range(from: start)))
        } while current.kind == .comma
        return measures
    }

    /// ```
    /// measure = "COUNT" unit | "NET" "DELTA" | [ aggregate ] quantity
    /// aggregate = "SUM" | "MEAN" | "MIN" | "MAX"
    /// ```
    /// `NET DELTA` is another spelling of `SUM DELTA`.
    /// - Complexity: O(tokens consumed).
    mutating func parseMeasure() throws(QueryError) -> Measure {
        if accept(.count) != nil { return .count(try parseUnit(after: "COUNT")) }
        if accept(.net) != nil {
            _ = try expect(.delta, "after NET")
            return .aggregate(.sum, .delta)
        }
        if case .keyword(let keyword) = current.kind,
           let function = AggregateFunction(rawValue: keyword.rawValue) {
            advance()
            return .aggregate(function, try parseQuantity(after: function.rawValue))
        }
        return .quantity(try parseQuantity(after: nil))
    }

    private static let quantitiesLongestFirst: [Quantity] =
        Quantity.allCases.sorted { $0.words.count > $1.words.count }

    /// ```
    /// quantity = "LOSS" | "ACCURACY" | "PROBE" "LOSS" | "PROBE" "ACCURACY" | "GRADIENT" "NORM"
    ///          | "UPDATE" "NORM" | "LEARNING" "RATE" | "WEIGHT" "DISTANCE" | [ "ABS" ] "VALUE"
    ///          | [ "ABS" ] "DELTA" | [ "ABS" ] "GRADIENT" | "SQUARED" "GRADIENT"
    ///          | [ "ABS" ] "CONTRIBUTION" | "LABEL" | "PREDICTION" | "CORRECT"
    ///          | "STEP" | "EPOCH" | "SAMPLE"
    /// ```
    /// - Complexity: O(tokens consumed).
    mutating func parseQuantity(after context: String?) throws(QueryError) -> Quantity {
        for quantity in Self.quantitiesLongestFirst {
            let words = quantity.words
            if words.indices.allSatisfy({ isKeyword(words[$0], $0) }) {
                for _ in words { advance() }
                return quantity
            }
        }
        throw unexpected("a quantity (LOSS, CONTRIBUTION, ABS DELTA, …)" + (context.map { " after \($0)" } ?? ""),
                         keywords: Self.quantityKeywords)
    }

    private static let quantityKeywords: [Keyword] = Keyword.allCases.filter { keyword in
        Quantity.allCases.contains { $0.words.contains(keyword) }
    }

    /// `unit = "STEP" | "STEPS" | "EPOCH" | "EPOCHS" | "SAMPLE" | "SAMPLES" | "WEIGHT" | "WEIGHTS"
    ///       | "NEURON" | "NEURONS" | "LAYER" | "LAYERS" | "RUN" | "RUNS"`
    /// - Complexity: O(tokens consumed).
    mutating func parseUnit(after context: String) throws(QueryError) -> Unit {
        if case .keyword(let keyword) = current.kind,
           let unit = Unit(rawValue: keyword.rawValue) ?? Unit.allCases.first(where: { $0.plural == keyword.rawValue }) {
            advance()
            return unit
        }
        throw unexpected("STEP, EPOCH, SAMPLE, WEIGHT, NEURON, LAYER or RUN after \(context)",
                         keywords: [.step, .steps, .epoch, .epochs, .sample, .samples, .weight, .weights,
                                    .neuron, .neurons, .layer, .layers, .run, .runs])
    }

    // MARK: - Conditions and filters

    /// `condition = "ZERO" | comparison`
    /// - Complexity: O(tokens consumed).
    mutating func parseCondition() throws(QueryError) -> Condition {
        if accept(.zero) != nil { return .zero }
        if case .keyword = current.kind {
            return .comparison(try parseComparison())
        }
        throw unexpected("ZERO or a comparison such as ABS VALUE <= 1e-4 after UNTIL", keywords: [.zero])
    }

    /// `event = "FRACTION" comparison [ "IN" selector ] "EXCEEDS" literal | comparison`
    /// - Complexity: O(tokens consumed).
    mutating func parseEvent() throws(QueryError) -> Event {
        if accept(.fraction) != nil {
            let comparison = try parseComparison()
            var selection: Located<WeightSelector>?
            if accept(.in) != nil { selection = try parseSelector() }
            _ = try expect(.exceeds, selection == nil ? "or IN after the comparison" : "after the weight selector")
            return .fraction(comparison, of: selection, exceeds: try parseLiteral(after: "EXCEEDS"))
        }
        return .condition(try parseComparison())
    }

    /// `comparison = quantity ( "<" | "<=" | ">" | ">=" | "=" | "!=" | "<>" ) literal`
    /// - Complexity: O(tokens consumed).
    mutating func parseComparison() throws(QueryError) -> Comparison {
        let start = current
        let quantity = try parseQuantity(after: nil)
        guard case .comparison(let op) = current.kind else {
            throw unexpected("a comparison operator (<, <=, >, >=, =, !=) after \(quantity.spelling)")
        }
        advance()
        let value = try parseLiteral(after: op.rawValue)
        return Comparison(quantity, op, value, range: range(from: start))
    }

    /// `predicate = conjunction { "OR" conjunction }`
    /// - Complexity: O(tokens consumed).
    mutating func parsePredicate() throws(QueryError) -> Predicate {
        var result = try parseConjunction()
        while accept(.or) != nil { result = .or(result, try parseConjunction()) }
        return result
    }

    /// `conjunction = negation { "AND" negation }`
    /// - Complexity: O(tokens consumed).
    mutating func parseConjunction() throws(QueryError) -> Predicate {
        var result = try parseNegation()
        while accept(.and) != nil { result = .and(result, try parseNegation()) }
        return result
    }

    /// `negation = "NOT" negation | "(" predicate ")" | comparison`
    /// - Complexity: O(tokens consumed).
    mutating func parseNegation() throws(QueryError) -> Predicate {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumNesting else {
            throw .syntax(location: current.range, message: "filter nested more than \(Self.maximumNesting) deep")
        }
        if accept(.not) != nil { return .not(try parseNegation()) }
        if current.kind == .leftParen {
            advance()
            let inner = try parsePredicate()
            _ = try expect(.rightParen, "')' to close the '('")
            return inner
        }
        return .comparison(try parseComparison())
    }

    // MARK: - Numbers

    /// `literal = [ "-" ] ( integer | decimal | percentage )`
    /// - Complexity: O(tokens consumed).
    mutating func parseLiteral(after context: String) throws(QueryError) -> Literal {
        let negative = current.kind == .minus
        if negative { advance() }
        let sign: Double = negative ? -1 : 1
        switch current.kind {
        case .integer(let i):
            advance()
            return .number(sign * Double(i))
        case .decimal(let d):
            advance()
            return .number(sign * d)
        case .percent(let p):
            advance()
            return .percent(sign * p)
        default:
            throw unexpected("a number after \(negative ? "'-'" : context)")
        }
    }

    /// `integer = digit { digit }`
    /// - Complexity: O(tokens consumed).
    mutating func parseInteger(after context: String) throws(QueryError) -> Int {
        if case .integer(let i) = current.kind {
            advance()
            return i
        }
        if case .decimal = current.kind {
            throw .syntax(location: current.range, message: "expected a whole number after \(context), found \(current.text)")
        }
        throw unexpected("a number after \(context)")
    }
}

extension ClauseKind {
    /// The keywords a clause of this kind begins with.
    package var startingKeywords: [Keyword] {
        switch self {
        case .span: return [.in, .at]
        case .every: return [.every]
        case .until: return [.until]
        case .over: return [.over]
        case .per: return [.per]
        case .grouping: return [.group, .cluster]
        case .filter: return [.where]
        case .runs: return [.from]
        case .accuracy: return [.within, .exact]
        }
    }
}

extension Clauses {
    /// True when the clause of this kind has not been given.
    /// - Complexity: O(1).
    package func isEmpty(_ kind: ClauseKind) -> Bool {
        switch kind {
        case .span: return span == nil
        case .every: return every == nil
        case .until: return until == nil
        case .over: return over == nil
        case .per: return per == nil
        case .grouping: return grouping == nil
        case .filter: return filter == nil
        case .runs: return runs == nil
        case .accuracy: return accuracy == nil
        }
    }
}

extension Array where Element == String {
    /// "A, B or C".
    func joinedAsAlternatives() -> String {
        guard count > 1 else { return first ?? "" }
        return dropLast().joined(separator: ", ") + " or " + last!
    }
}
