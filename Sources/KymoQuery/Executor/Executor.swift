import KymoEngine

/// An answer with the plan that produced it (`--explain` prints the plan; one plan per decision,
/// several when a query makes several, such as one per weight).
package struct Execution: Sendable {
    package var answer: Answer
    package var plans: [Plan]
}

/// Runs a checked query against a set of runs. Every numeric cell is an `Estimate` whose bounds
/// are sound for the source it came from (docs/QUERY.md, "Planner and sources").
package struct Executor {
    package let runs: RunSet
    package var replay: (any ReplayProvider)?
    /// Skip reading what cannot change the answer: a source that cannot be chosen (Space-Saving
    /// sketches whose smallest possible error loses), trajectory epochs whose envelope rules a
    /// crossing out. Off only to test that the shortcuts answer as the full reads do.
    package var prunes = true

    package init(runs: RunSet, replay: (any ReplayProvider)? = nil) {
        self.runs = runs
        self.replay = replay
    }

    /// Parses nothing: checks `query` against the runs, plans and executes it.
    /// - Throws: `QueryError` for problems with the query (unknown run, unsupported combination);
    ///   the data layer's errors as they come.
    /// - Complexity: depends on the query and the chosen source; see each question.
    package func execute(_ query: Query) throws -> Execution {
        try QueryChecker.check(query, catalog: runs)
        let text = QueryPrinter.print(query)
        var execution: Execution
        switch query {
        case .topSamples(let q): execution = try topSamples(q, text: text)
        case .topWeights(let q): execution = try topWeights(q, text: text)
        case .lastSamples(let q): execution = try lastSamples(q, text: text)
        case .compare(let q): execution = try compare(q, text: text)
        case .select(let q): execution = try select(q, text: text)
        }
        execution.answer.query = text
        return execution
    }

    // MARK: - Shared pieces

    /// The single run a query is about (`FROM RUN x` or the default).
    func run(_ clauses: Clauses) throws -> any RunData {
        let name = clauses.runs?.first?.value ?? runs.defaultRun
        guard let name, let data = runs.run(name) else {
            throw QueryError.unknownRun(name: name ?? "(none)", location: clauses.runs?.first?.range, suggestion: nil)
        }
        return data
    }

    /// The steps a span selects (no span: the whole recorded run; `AT STEP t`: 1...t).
    func window(_ span: Span?, _ catalog: RunCatalog) throws -> ClosedRange<Int> {
        let last = catalog.steps
        let range: ClosedRange<Int>
        switch span {
        case nil: range = 1...max(1, last)
        case .epoch(let e)?: range = catalog.steps(ofEpoch: e).lowerBound...((e) * catalog.stepsPerEpoch)
        case .epochs(let a, let b)?: range = ((a - 1) * catalog.stepsPerEpoch + 1)...(b * catalog.stepsPerEpoch)
        case .step(let t)?: range = t...t
        case .steps(let a, let b)?: range = a...b
        case .atStep(let t)?: range = 1...max(1, t)
        case .atEpoch(let e)?: range = 1...(e * catalog.stepsPerEpoch)
        }
        guard last >= 1, range.lowerBound >= 1, range.lowerBound <= last else {
            throw QueryError.outOfRange(location: nil, message: "steps \(range.lowerBound)..\(range.upperBound) are not recorded (run '\(catalog.name)' has \(last) steps)")
        }
        return range.lowerBound...min(range.upperBound, last)
    }

    /// The global parameter ids a selector names, in layout order.
    static func ids(_ selector: WeightSelector, _ layout: ParameterLayout) throws -> [Int] {
        guard let layer = layout.layers.first(where: { $0.name == selector.layer }) else {
            throw QueryError.unknownLayer(name: selector.layer, location: nil, suggestion: nil)
        }
        func expand(_ index: WeightSelector.Index, _ count: Int) -> [Int] {
            switch index {
            case .at(let i): return [i]
            case .range(let a, let b): return Array(a...b)
            case .all: return Array(0..<count)
            }
        }
        switch selector.parameter {
        case nil: return Array(layer.range)
        case .bias?:
            let rows = selector.indices.map { expand($0.first ?? .all, layer.outFeatures) } ?? Array(0..<layer.outFeatures)
            return rows.map { layer.biasOffset + $0 }
        case .weight?:
            guard let indices = selector.indices else { return Array(layer.weightRange) }
            let rows = expand(indices.first ?? .all, layer.outFeatures)
            let columns = expand(indices.count > 1 ? indices[1] : .all, layer.inFeatures)
            return rows.flatMap { r in columns.map { layer.weightOffset + r * layer.inFeatures + $0 } }
        }
    }

    /// The neuron (row of a layer, numbered across layers) a parameter feeds.
    static func neuron(of id: Int, _ layout: ParameterLayout) -> Int {
        var base = 0
        for layer in layout.layers {
            if layer.weightRange.contains(id) { return base + (id - layer.weightOffset) / layer.inFeatures }
            if layer.biasRange.contains(id) { return base + id - layer.biasOffset }
            base += layer.outFeatures
        }
        return base
    }

    /// `fc1[3,7]`-style name of a neuron number.
    static func neuronName(_ n: Int, _ layout: ParameterLayout) -> String {
        var base = 0
        for layer in layout.layers {
            if n < base + layer.outFeatures { return "\(layer.name)[\(n - base),*]" }
            base += layer.outFeatures
        }
        return "neuron \(n)"
    }

    /// A cost model for reading `bytes` of columns: 0.1 ms fixed plus 500 MB/s.
    static func readCost(bytes: Int) -> Cost { Cost(seconds: 1e-4 + Double(bytes) / 5e8, bytesRead: bytes) }

    /// Evaluates a WHERE predicate on one sample; nil for quantities it cannot judge per sample.
    static func holds(_ p: Predicate, sample: Int, label: Int?) throws -> Bool {
        switch p {
        case .not(let q): return try !holds(q, sample: sample, label: label)
        case .and(let a, let b): return try holds(a, sample: sample, label: label) && holds(b, sample: sample, label: label)
        case .or(let a, let b): return try holds(a, sample: sample, label: label) || holds(b, sample: sample, label: label)
        case .comparison(let c):
            let x: Double
            switch c.quantity {
            case .sample: x = Double(sample)
            case .label:
                guard let label else { throw QueryError.invalid(location: c.range, message: "LABEL is not known: the data set is not at hand") }
                x = Double(label)
            default:
                throw QueryError.invalid(location: c.range, message: "this query filters samples by LABEL or SAMPLE; \(c.quantity.spelling) is not supported here")
            }
            return compareValues(x, c.op, c.value.fraction)
        }
    }

    static func compareValues(_ x: Double, _ op: ComparisonOperator, _ y: Double) -> Bool {
        switch op {
        case .less: return x < y
        case .lessOrEqual: return x <= y
        case .greater: return x > y
        case .greaterOrEqual: return x >= y
        case .equal: return x == y
        case .notEqual: return x != y
        }
    }

    /// An answer saying which replay would answer and what it costs (until replay is attached).
    static func replayNeeded(_ plan: Plan, columns: [Column], why: String) -> Execution {
        let replay = plan.candidates.first { $0.source == .replay }
        var notes = ["replay needed: " + why]
        if let replay { notes.append("replay of \(replay.detail) would answer exactly: ≈ \(replay.cost.text)") }
        return Execution(answer: Answer(columns: columns, rows: [], notes: notes), plans: [plan])
    }
}
