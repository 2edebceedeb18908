/// Prints an AST as canonical query text: upper-case keywords, single spaces, clauses in a fixed
/// order, names quoted only when they must be. `Parser.parse(QueryPrinter.print(q)) == q` for every
/// AST the parser can produce (and every AST whose names contain no newline and not both quote kinds).
package enum QueryPrinter {
    /// - Complexity: O(size of the AST).
    package static func print(_ query: Query) -> String {
        var parts: [String] = []
        switch query {
        case .topSamples(let q):
            parts.append(ranking(q.ranking, noun: "SAMPLES"))
            if let target = q.target { parts.append("FOR " + self.target(target)) }
            parts.append(clauses(q.clauses))
        case .topWeights(let q):
            parts.append("\(q.ranking.direction.rawValue) \(q.ranking.count.value) WEIGHTS")
            if let selection = q.selection { parts.append("IN " + selector(selection.value)) }
            parts.append("BY " + measure(q.ranking.measure.value))
            parts.append(clauses(q.clauses))
        case .lastSamples(let q):
            parts.append("LAST \(q.count.value) SAMPLES BEFORE " + event(q.event))
            parts.append(clauses(q.clauses))
        case .compare(let q):
            parts.append("COMPARE RUNS " + q.runs.map { name($0.value) }.joined(separator: ", "))
            var before = Clauses()
            before.span = q.clauses.span
            before.every = q.clauses.every
            var after = q.clauses
            after.span = nil
            after.every = nil
            parts.append(clauses(before))
            parts.append("SHOW " + q.measures.map { measure($0.value) }.joined(separator: ", "))
            parts.append(clauses(after))
        case .select(let q):
            parts.append("SELECT " + q.measures.map { measure($0.value) }.joined(separator: ", "))
            if let target = q.target { parts.append("FOR " + self.target(target)) }
            parts.append(clauses(q.clauses))
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func ranking(_ r: Ranking, noun: String) -> String {
        "\(r.direction.rawValue) \(r.count.value) \(noun) BY \(measure(r.measure.value))"
    }

    static func clauses(_ c: Clauses) -> String {
        var parts: [String] = []
        if let span = c.span { parts.append(self.span(span.value)) }
        if let every = c.every { parts.append("EVERY \(every.value)") }
        if let until = c.until { parts.append("UNTIL " + condition(until)) }
        if let over = c.over { parts.append("OVER " + over.plural) }
        if let per = c.per { parts.append("PER " + per.rawValue) }
        if let grouping = c.grouping {
            switch grouping {
            case .group(let unit): parts.append("GROUP BY " + unit.rawValue)
            case .clusters(let n): parts.append("CLUSTER \(n.value) BY TRAJECTORY")
            }
        }
        if let filter = c.filter { parts.append("WHERE " + predicate(filter)) }
        if let runs = c.runs {
            parts.append((runs.count == 1 ? "FROM RUN " : "FROM RUNS ")
                         + runs.map { name($0.value) }.joined(separator: ", "))
        }
        if let accuracy = c.accuracy {
            switch accuracy {
            case .exact: parts.append("EXACT")
            case .within(let tolerance, let confidence):
                parts.append("WITHIN " + literal(tolerance)
                             + (confidence.map { " CONFIDENCE " + literal($0) } ?? ""))
            }
        }
        return parts.joined(separator: " ")
    }

    /// - Complexity: O(1).
    package static func span(_ s: Span) -> String {
        switch s {
        case .epoch(let e): return "IN EPOCH \(e)"
        case .epochs(let a, let b): return "IN EPOCHS \(a)..\(b)"
        case .step(let t): return "IN STEP \(t)"
        case .steps(let a, let b): return "IN STEPS \(a)..\(b)"
        case .atStep(let t): return "AT STEP \(t)"
        case .atEpoch(let e): return "AT EPOCH \(e)"
        }
    }

    static func target(_ t: Target) -> String {
        switch t {
        case .weights(let s): return (s.value.isSingleWeight ? "WEIGHT " : "WEIGHTS ") + selector(s.value)
        case .each(let unit, let s): return "EACH \(unit.rawValue) IN " + selector(s.value)
        }
    }

    /// `fc1[12,40]`, `fc1.bias[3]`, `fc1.weight`, `fc1`.
    /// - Complexity: O(number of indices).
    package static func selector(_ s: WeightSelector) -> String {
        var out = name(s.layer)
        switch s.parameter {
        case .bias: out += ".bias"
        case .weight: if s.indices == nil { out += ".weight" }
        case nil: break
        }
        if let indices = s.indices {
            out += "[" + indices.map { index in
                switch index {
                case .at(let i): return "\(i)"
                case .range(let a, let b): return "\(a)..\(b)"
                case .all: return "*"
                }
            }.joined(separator: ",") + "]"
        }
        return out
    }

    /// - Complexity: O(1).
    package static func measure(_ m: Measure) -> String {
        switch m {
        case .quantity(let q): return q.spelling
        case .aggregate(let f, let q): return f.rawValue + " " + q.spelling
        case .count(let unit): return "COUNT " + unit.plural
        }
    }

    static func comparison(_ c: Comparison) -> String {
        "\(c.quantity.spelling) \(c.op.rawValue) \(literal(c.value))"
    }

    static func condition(_ c: Condition) -> String {
        switch c {
        case .zero: return "ZERO"
        case .comparison(let comparison): return self.comparison(comparison)
        }
    }

    static func event(_ e: Event) -> String {
        switch e {
        case .fraction(let comparison, let of, let exceeds):
            return "FRACTION " + self.comparison(comparison)
                + (of.map { " IN " + selector($0.value) } ?? "") + " EXCEEDS " + literal(exceeds)
        case .condition(let comparison):
            return self.comparison(comparison)
        }
    }

    /// OR binds loosest, then AND, then NOT; both binary operators associate to the left, so a
    /// right operand of the same operator needs parentheses.
    static func predicate(_ p: Predicate, context: Int = 0) -> String {
        func wrap(_ text: String, _ level: Int) -> String { level < context ? "(" + text + ")" : text }
        switch p {
        case .comparison(let c): return comparison(c)
        case .not(let inner): return wrap("NOT " + predicate(inner, context: 3), 3)
        case .and(let l, let r): return wrap(predicate(l, context: 2) + " AND " + predicate(r, context: 3), 2)
        case .or(let l, let r): return wrap(predicate(l, context: 1) + " OR " + predicate(r, context: 2), 1)
        }
    }

    /// - Complexity: O(1).
    package static func literal(_ l: Literal) -> String {
        switch l {
        case .number(let x): return number(x)
        case .percent(let p): return number(p) + "%"
        }
    }

    /// Integral values print without a fraction; others in Swift's shortest round-trip form.
    /// - Complexity: O(1).
    package static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return x.description
    }

    /// A name as written: bare when it lexes back as the same identifier, else quoted.
    /// - Complexity: O(|name|).
    package static func name(_ n: String) -> String {
        let scalars = Array(n.unicodeScalars)
        func isLetter(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
        }
        let bare = !scalars.isEmpty && isLetter(scalars[0])
            && scalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") }
            && Keyword(word: n) == nil
        if bare { return n }
        return n.contains("\"") ? "'" + n + "'" : "\"" + n + "\""
    }
}

extension Query: CustomStringConvertible {
    /// The canonical text (`QueryPrinter.print`).
    package var description: String { QueryPrinter.print(self) }
}
