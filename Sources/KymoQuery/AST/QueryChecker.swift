/// The shape of one dense layer: weight (rows = out, columns = in), bias (rows) when present.
package struct LayerShape: Equatable, Sendable {
    package var rows: Int
    package var columns: Int
    package var hasBias: Bool

    package init(rows: Int, columns: Int, hasBias: Bool = true) {
        self.rows = rows
        self.columns = columns
        self.hasBias = hasBias
    }
}

/// What the semantic check needs to know about a lab: its runs, their lengths, and the model's
/// layers. The executor supplies one backed by the store; tests supply a fake.
package protocol QueryCatalog {
    /// Run names, in a stable order (used for did-you-mean).
    var runNames: [String] { get }
    /// The run a query without `FROM` is about, if any.
    var defaultRun: String? { get }
    /// Layer names in model order.
    var layerNames: [String] { get }
    /// The shape of `layer`, or nil when there is no such layer.
    func shape(ofLayer layer: String) -> LayerShape?
    /// Steps recorded so far in `run` (steps count from 1), or nil for an unknown run.
    func stepCount(ofRun run: String) -> Int?
    /// Epochs recorded so far in `run` (epochs count from 1), or nil for an unknown run.
    func epochCount(ofRun run: String) -> Int?
}

/// Semantic checks on a parsed query: the things grammar cannot say (`TOP 0`, `STEPS 9..3`,
/// `WITHIN -1`) and, given a catalog, unknown runs and layers and weights outside their layer.
package enum QueryChecker {
    /// Every problem found, in the order of the query's text (stable: no hash order).
    /// - Complexity: O(size of the query · (layers + runs)) with a catalog.
    package static func problems(in query: Query, catalog: (any QueryCatalog)? = nil) -> [QueryError] {
        var checker = Walker(catalog: catalog)
        checker.walk(query)
        return checker.problems.sorted { ($0.location?.start.offset ?? Int.max) < ($1.location?.start.offset ?? Int.max) }
    }

    /// Throws the first problem, if any.
    /// - Complexity: as `problems(in:catalog:)`.
    package static func check(_ query: Query, catalog: (any QueryCatalog)? = nil) throws(QueryError) {
        if let first = problems(in: query, catalog: catalog).first { throw first }
    }

    private struct Walker {
        let catalog: (any QueryCatalog)?
        var problems: [QueryError] = []

        mutating func walk(_ query: Query) {
            let clauses = query.clauses
            var runs = clauses.runs ?? []
            switch query {
            case .topSamples(let q):
                positive(q.ranking.count, "TOP needs at least 1 sample")
                let measure = q.ranking.measure
                require(measure, \.isPerSample, "samples are ranked by a per-sample quantity (CONTRIBUTION, LOSS, GRADIENT NORM, …)")
                if let quantity = measure.value.quantity, quantity == .contribution || quantity == .absContribution,
                   q.target == nil {
                    problems.append(.invalid(location: measure.range,
                                             message: "ranking samples by contribution needs FOR WEIGHT … or FOR EACH WEIGHT IN …"))
                }
                if let target = q.target { check(target) }
                if case .comparison(let c) = clauses.until {
                    require(c.quantity, \.isPerWeight, \.isPerStep, "UNTIL", location: c.range)
                }
            case .topWeights(let q):
                positive(q.ranking.count, "TOP needs at least 1 weight")
                require(q.ranking.measure, \.isPerWeight,
                        "weights are ranked by a per-weight quantity (SUM ABS DELTA, SUM DELTA, SUM SQUARED GRADIENT, …)")
                if let selection = q.selection { check(selection) }
                if case .clusters(let n) = clauses.grouping { positive(n, "CLUSTER needs at least 1 cluster") }
                if case .group(let unit) = clauses.grouping, unit != .layer, unit != .neuron {
                    problems.append(.invalid(location: clauses.locations[.grouping], message: "weights group BY LAYER or BY NEURON, not BY \(unit.rawValue)"))
                }
            case .lastSamples(let q):
                positive(q.count, "LAST needs at least 1 sample")
                switch q.event {
                case .fraction(let c, let of, let exceeds):
                    require(c.quantity, \.isPerWeight, nil, "FRACTION", location: c.range)
                    if let of { check(of) }
                    let f = exceeds.fraction
                    if !(f >= 0 && f <= 1) {
                        problems.append(.invalid(location: c.range, message: "EXCEEDS takes a fraction between 0% and 100%"))
                    }
                case .condition(let c):
                    require(c.quantity, \.isPerStep, nil, "BEFORE", location: c.range)
                }
            case .compare(let q):
                runs = q.runs
                if q.runs.count < 2 {
                    problems.append(.invalid(location: q.runs.first?.range, message: "COMPARE needs at least two runs"))
                }
                if let every = clauses.every { positive(every, "EVERY needs at least 1 step") }
                for measure in q.measures {
                    require(measure, \.isPerStep, "COMPARE shows per-step quantities of each run (LOSS, PROBE ACCURACY, WEIGHT DISTANCE, …)")
                }
            case .select(let q):
                if let target = q.target { check(target) }
                if case .comparison(let c) = clauses.until {
                    require(c.quantity, \.isPerWeight, \.isPerStep, "UNTIL", location: c.range)
                }
            }
            checkRuns(runs)
            if let span = clauses.span { check(span, runs: runs) }
            if let accuracy = clauses.accuracy { check(accuracy, location: clauses.locations[.accuracy]) }
        }

        /// The measure's quantity must have `property`; COUNT never qualifies.
        mutating func require(_ measure: Located<Measure>, _ property: KeyPath<Quantity, Bool>, _ message: String) {
            let text = QueryPrinter.measure(measure.value)
            guard let quantity = measure.value.quantity, quantity[keyPath: property] else {
                problems.append(.invalid(location: measure.range, message: message + "; \(text) is not one"))
                return
            }
        }

        /// A condition's quantity must have one of two properties.
        mutating func require(_ quantity: Quantity, _ first: KeyPath<Quantity, Bool>, _ second: KeyPath<Quantity, Bool>?,
                              _ clause: String, location: SourceRange?) {
            if quantity[keyPath: first] || second.map({ quantity[keyPath: $0] }) == true { return }
            let kinds = second == nil
                ? (first == \Quantity.isPerWeight ? "a per-weight quantity" : "a per-step quantity")
                : "a per-weight or per-step quantity"
            problems.append(.invalid(location: location,
                                     message: "\(clause) needs \(kinds); \(quantity.spelling) is not one"))
        }

        mutating func positive(_ value: Located<Int>, _ message: String) {
            if value.value < 1 { problems.append(.invalid(location: value.range, message: message)) }
        }

        mutating func check(_ target: Target) {
            switch target {
            case .weights(let selector):
                check(selector)
            case .each(let unit, let selector):
                if unit != .weight && unit != .neuron && unit != .layer {
                    problems.append(.invalid(location: selector.range,
                                             message: "FOR EACH takes WEIGHT, NEURON or LAYER, not \(unit.rawValue)"))
                }
                check(selector)
            }
        }

        mutating func check(_ located: Located<WeightSelector>) {
            let selector = located.value
            let text = QueryPrinter.selector(selector)
            func bad(_ message: String) {
                problems.append(.badWeight(selector: text, location: located.range, message: message))
            }
            if let indices = selector.indices {
                for case .range(let a, let b) in indices where a > b {
                    bad("range \(a)..\(b) ends before it starts")
                }
            }
            guard let catalog else { return }
            guard let shape = catalog.shape(ofLayer: selector.layer) else {
                problems.append(.unknownLayer(name: selector.layer, location: located.range,
                                              suggestion: closestMatch(to: selector.layer, among: catalog.layerNames)))
                return
            }
            guard let parameter = selector.parameter else { return }
            if parameter == .bias, !shape.hasBias {
                bad("layer \(selector.layer) has no bias")
                return
            }
            let dimensions = parameter == .bias ? [shape.rows] : [shape.rows, shape.columns]
            let names = parameter == .bias ? ["row"] : ["row", "column"]
            guard let indices = selector.indices else { return }
            guard indices.count == dimensions.count else {
                let shapeText = dimensions.map(String.init).joined(separator: "×")
                bad("\(parameter == .bias ? "a bias takes 1 index" : "a weight takes 2 indices [row,column]"), "
                    + "got \(indices.count) (shape \(shapeText))")
                return
            }
            for (i, index) in indices.enumerated() {
                let bound = dimensions[i]
                switch index {
                case .all: break
                case .at(let k) where k >= bound:
                    bad("\(names[i]) \(k) is out of range: \(selector.layer) has \(bound) \(names[i])s (0..\(bound - 1))")
                case .range(let a, let b) where b >= bound && a <= b:
                    bad("\(names[i]) range \(a)..\(b) is out of range: \(selector.layer) has \(bound) \(names[i])s (0..\(bound - 1))")
                default: break
                }
            }
        }

        mutating func checkRuns(_ runs: [Located<String>]) {
            var seen: [String] = []
            for run in runs {
                if seen.contains(run.value) {
                    problems.append(.invalid(location: run.range, message: "run '\(run.value)' is named twice"))
                }
                seen.append(run.value)
                guard let catalog else { continue }
                if !catalog.runNames.contains(run.value) {
                    problems.append(.unknownRun(name: run.value, location: run.range,
                                                suggestion: closestMatch(to: run.value, among: catalog.runNames)))
                }
            }
        }

        mutating func check(_ span: Located<Span>, runs: [Located<String>]) {
            func bad(_ message: String) { problems.append(.outOfRange(location: span.range, message: message)) }
            let (isEpoch, first, last, minimum): (Bool, Int, Int, Int)
            switch span.value {
            case .epoch(let e): (isEpoch, first, last, minimum) = (true, e, e, 1)
            case .epochs(let a, let b): (isEpoch, first, last, minimum) = (true, a, b, 1)
            case .step(let t): (isEpoch, first, last, minimum) = (false, t, t, 1)
            case .steps(let a, let b): (isEpoch, first, last, minimum) = (false, a, b, 1)
            case .atStep(let t): (isEpoch, first, last, minimum) = (false, t, t, 0)
            case .atEpoch(let e): (isEpoch, first, last, minimum) = (true, e, e, 0)
            }
            let unit = isEpoch ? "epoch" : "step"
            if first > last {
                bad("\(unit) range \(first)..\(last) ends before it starts")
                return
            }
            if first < minimum {
                bad("\(unit)s count from \(minimum)")
                return
            }
            guard let catalog else { return }
            let names = runs.isEmpty ? (catalog.defaultRun.map { [$0] } ?? []) : runs.map(\.value)
            for name in names {
                guard let count = isEpoch ? catalog.epochCount(ofRun: name) : catalog.stepCount(ofRun: name) else { continue }
                if last > count {
                    bad("run '\(name)' has \(count) \(unit)s; \(unit) \(last) is past its end")
                }
            }
        }

        mutating func check(_ accuracy: Accuracy, location: SourceRange?) {
            guard case .within(let tolerance, let confidence) = accuracy else { return }
            if !(tolerance.fraction > 0) {
                problems.append(.invalid(location: location, message: "WITHIN needs a tolerance greater than 0"))
            }
            if let confidence, !(confidence.fraction > 0 && confidence.fraction < 1) {
                problems.append(.invalid(location: location, message: "CONFIDENCE must lie strictly between 0 and 1 (0% and 100%)"))
            }
        }
    }
}

extension Query {
    /// Parses `text` and checks it against `catalog`: the front end in one call, as `kymo query`
    /// uses it. Throws the first problem (a syntax error, or the first semantic problem in text order).
    /// - Complexity: O(|text|) plus the check's cost.
    package init(_ text: String, catalog: (any QueryCatalog)?) throws(QueryError) {
        let query = try Parser.parse(text)
        try QueryChecker.check(query, catalog: catalog)
        self = query
    }
}
