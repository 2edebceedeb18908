// The typed AST of a query. Every node is a value type and Equatable; source ranges ride along in
// `Located` wrappers, which compare by value only, so `parse(print(ast)) == ast` is checkable.

/// One query: five statement kinds, each with its required parts and its optional clauses.
package enum Query: Equatable, Sendable {
    /// `TOP|BOTTOM k SAMPLES BY measure [FOR target] clauses` — questions 1 and 5.
    case topSamples(TopSamples)
    /// `TOP|BOTTOM k WEIGHTS [IN selector] BY measure clauses` — question 2.
    case topWeights(TopWeights)
    /// `LAST k SAMPLES BEFORE event clauses` — question 4.
    case lastSamples(LastSamples)
    /// `COMPARE RUNS a, b … SHOW measures` — question 3.
    case compare(CompareRuns)
    /// `SELECT measures [FOR target] clauses` — aggregates over steps, epochs, samples, weights, runs.
    case select(Select)

    /// The optional clauses of whichever statement this is.
    package var clauses: Clauses {
        get {
            switch self {
            case .topSamples(let q): return q.clauses
            case .topWeights(let q): return q.clauses
            case .lastSamples(let q): return q.clauses
            case .compare(let q): return q.clauses
            case .select(let q): return q.clauses
            }
        }
        set {
            switch self {
            case .topSamples(var q): q.clauses = newValue; self = .topSamples(q)
            case .topWeights(var q): q.clauses = newValue; self = .topWeights(q)
            case .lastSamples(var q): q.clauses = newValue; self = .lastSamples(q)
            case .compare(var q): q.clauses = newValue; self = .compare(q)
            case .select(var q): q.clauses = newValue; self = .select(q)
            }
        }
    }
}

/// Which end of a ranking: `TOP` keeps the largest values, `BOTTOM` the smallest (most negative).
package enum RankDirection: String, Equatable, Sendable, CaseIterable {
    case top = "TOP", bottom = "BOTTOM"
}

/// `TOP 10 … BY measure`.
package struct Ranking: Equatable, Sendable {
    package var direction: RankDirection
    package var count: Located<Int>
    package var measure: Located<Measure>

    package init(_ direction: RankDirection, _ count: Int, by measure: Measure,
                 countRange: SourceRange? = nil, measureRange: SourceRange? = nil) {
        self.direction = direction
        self.count = Located(count, range: countRange)
        self.measure = Located(measure, range: measureRange)
    }
}

package struct TopSamples: Equatable, Sendable {
    package var ranking: Ranking
    /// Whose contributions: nil for per-sample quantities such as `LOSS`.
    package var target: Target?
    package var clauses: Clauses

    package init(ranking: Ranking, target: Target?, clauses: Clauses = Clauses()) {
        self.ranking = ranking
        self.target = target
        self.clauses = clauses
    }
}

package struct TopWeights: Equatable, Sendable {
    package var ranking: Ranking
    /// The weights to rank; nil for every weight of the model.
    package var selection: Located<WeightSelector>?
    package var clauses: Clauses

    package init(ranking: Ranking, selection: Located<WeightSelector>? = nil, clauses: Clauses = Clauses()) {
        self.ranking = ranking
        self.selection = selection
        self.clauses = clauses
    }
}

package struct LastSamples: Equatable, Sendable {
    package var count: Located<Int>
    package var event: Event
    package var clauses: Clauses

    package init(count: Int, event: Event, clauses: Clauses = Clauses(), countRange: SourceRange? = nil) {
        self.count = Located(count, range: countRange)
        self.event = event
        self.clauses = clauses
    }
}

package struct CompareRuns: Equatable, Sendable {
    package var runs: [Located<String>]
    package var measures: [Located<Measure>]
    package var clauses: Clauses

    package init(runs: [Located<String>], measures: [Measure], clauses: Clauses = Clauses()) {
        self.runs = runs
        self.measures = measures.map { Located($0) }
        self.clauses = clauses
    }
}

package struct Select: Equatable, Sendable {
    package var measures: [Located<Measure>]
    package var target: Target?
    package var clauses: Clauses

    package init(measures: [Measure], target: Target? = nil, clauses: Clauses = Clauses()) {
        self.measures = measures.map { Located($0) }
        self.target = target
        self.clauses = clauses
    }
}

/// The optional clauses a statement may carry. Written in any order, each at most once; printed in
/// the order of the fields below. Which are allowed depends on the statement (`ClauseKind`).
package struct Clauses: Equatable, Sendable {
    /// `IN EPOCH 3`, `AT STEP 500`, …; nil for the whole run.
    package var span: Located<Span>?
    /// `EVERY 100` (steps; COMPARE only).
    package var every: Located<Int>?
    /// `UNTIL ZERO`, `UNTIL ABS VALUE <= 1e-4`: the window ends at the first step where it holds.
    package var until: Condition?
    /// `OVER SAMPLES`: the dimension an aggregate reduces.
    package var over: Unit?
    /// `PER EPOCH`: one row per epoch (per step, sample, weight, neuron, layer, run).
    package var per: Unit?
    /// `GROUP BY NEURON`, `CLUSTER 8 BY TRAJECTORY`.
    package var grouping: Grouping?
    /// `WHERE …`.
    package var filter: Predicate?
    /// `FROM RUN a`, `FROM RUNS a, b`; nil for the CLI's default run.
    package var runs: [Located<String>]?
    /// `WITHIN 0.01`, `WITHIN 5% CONFIDENCE 99%`, `EXACT`; nil for the planner's default.
    package var accuracy: Accuracy?
    /// Where each clause was written, for error carets; not part of equality.
    package var locations = ClauseLocations()

    package init(span: Located<Span>? = nil, every: Located<Int>? = nil, until: Condition? = nil,
                 over: Unit? = nil, per: Unit? = nil, grouping: Grouping? = nil, filter: Predicate? = nil,
                 runs: [Located<String>]? = nil, accuracy: Accuracy? = nil) {
        self.span = span
        self.every = every
        self.until = until
        self.over = over
        self.per = per
        self.grouping = grouping
        self.filter = filter
        self.runs = runs
        self.accuracy = accuracy
    }
}

/// The source range of each clause of a parsed query. Always equal to any other: like `Located`,
/// it annotates the AST without being part of its value.
package struct ClauseLocations: Equatable, Sendable {
    /// Lookup only; never iterated.
    private var ranges: [ClauseKind: SourceRange] = [:]

    package init() {}

    package subscript(kind: ClauseKind) -> SourceRange? {
        get { ranges[kind] }
        set { ranges[kind] = newValue }
    }

    package static func == (lhs: ClauseLocations, rhs: ClauseLocations) -> Bool { true }
}

/// The clause kinds, for "not allowed here" and "given twice" errors.
package enum ClauseKind: String, Hashable, Sendable, CaseIterable {
    case span = "IN/AT", every = "EVERY", until = "UNTIL", over = "OVER", per = "PER"
    case grouping = "GROUP BY/CLUSTER", filter = "WHERE", runs = "FROM", accuracy = "WITHIN/EXACT"
}

/// A stretch of training time.
package enum Span: Equatable, Sendable {
    /// `IN EPOCH e`: the steps of epoch e (epochs count from 1).
    case epoch(Int)
    /// `IN EPOCHS a..b`: epochs a through b inclusive.
    case epochs(Int, Int)
    /// `IN STEP t`: the one step t (steps count from 1).
    case step(Int)
    /// `IN STEPS a..b`: steps a through b inclusive.
    case steps(Int, Int)
    /// `AT STEP t`: the state after step t (cumulative from the start).
    case atStep(Int)
    /// `AT EPOCH e`: the state at the end of epoch e.
    case atEpoch(Int)
}

/// A unit of aggregation or grouping.
package enum Unit: String, Equatable, Sendable, CaseIterable {
    case step = "STEP", epoch = "EPOCH", sample = "SAMPLE", weight = "WEIGHT", neuron = "NEURON"
    case layer = "LAYER", run = "RUN"

    /// The plural keyword (`OVER SAMPLES`, `COUNT STEPS`).
    package var plural: String { rawValue + "S" }
}

/// How `TOP … WEIGHTS` rows are grouped.
package enum Grouping: Equatable, Sendable {
    /// `GROUP BY LAYER|NEURON`: rows are groups ranked by the measure summed over their weights.
    case group(Unit)
    /// `CLUSTER n BY TRAJECTORY`: the ranked weights, each labelled with one of n clusters of
    /// similar trajectories.
    case clusters(Located<Int>)
}

/// Whose contributions a sample query is about.
package enum Target: Equatable, Sendable {
    /// `FOR WEIGHT fc1[12,40]`, `FOR WEIGHTS fc1[12,*]`: the selection as a whole (contributions summed).
    case weights(Located<WeightSelector>)
    /// `FOR EACH WEIGHT IN fc1[12,*]`, `FOR EACH NEURON IN fc1`: one ranking per weight or neuron.
    case each(Unit, Located<WeightSelector>)
}

/// A weight or set of weights: `fc1[12,40]`, `fc1.bias[3]`, `fc1[12,*]`, `fc1[*,3]`, `fc1[0..9,*]`,
/// `fc1.bias`, `fc1.weight`, `fc1` (every parameter of the layer).
package struct WeightSelector: Equatable, Sendable {
    package enum Parameter: String, Equatable, Sendable, CaseIterable { case weight = "WEIGHT", bias = "BIAS" }

    package enum Index: Equatable, Sendable {
        case at(Int)
        case range(Int, Int)
        case all
    }

    package var layer: String
    /// nil: the whole layer (weights and bias), and then `indices` is nil too.
    package var parameter: Parameter?
    /// nil: every element of the parameter.
    package var indices: [Index]?

    package init(layer: String, parameter: Parameter? = .weight, indices: [Index]? = nil) {
        self.layer = layer
        self.parameter = parameter
        self.indices = indices
    }

    /// True when the selector names exactly one scalar.
    package var isSingleWeight: Bool {
        guard parameter != nil, let indices else { return false }
        return indices.allSatisfy { if case .at = $0 { return true } else { return false } }
    }
}

/// A quantity recorded per step, sample, weight or run. Spelled as one or more keywords.
package enum Quantity: Equatable, Sendable, CaseIterable {
    case loss, accuracy, probeLoss, probeAccuracy, gradientNorm, updateNorm, learningRate
    case weightDistance, value, absValue, delta, absDelta, gradient, absGradient, squaredGradient
    case contribution, absContribution, label, prediction, correct, step, epoch, sample

    /// The keywords that spell it.
    package var words: [Keyword] {
        switch self {
        case .loss: return [.loss]
        case .accuracy: return [.accuracy]
        case .probeLoss: return [.probe, .loss]
        case .probeAccuracy: return [.probe, .accuracy]
        case .gradientNorm: return [.gradient, .norm]
        case .updateNorm: return [.update, .norm]
        case .learningRate: return [.learning, .rate]
        case .weightDistance: return [.weight, .distance]
        case .value: return [.value]
        case .absValue: return [.abs, .value]
        case .delta: return [.delta]
        case .absDelta: return [.abs, .delta]
        case .gradient: return [.gradient]
        case .absGradient: return [.abs, .gradient]
        case .squaredGradient: return [.squared, .gradient]
        case .contribution: return [.contribution]
        case .absContribution: return [.abs, .contribution]
        case .label: return [.label]
        case .prediction: return [.prediction]
        case .correct: return [.correct]
        case .step: return [.step]
        case .epoch: return [.epoch]
        case .sample: return [.sample]
        }
    }

    package var spelling: String { words.map(\.rawValue).joined(separator: " ") }

    /// Recorded per weight (and step): what `TOP … WEIGHTS`, `FRACTION …` and `UNTIL` talk about.
    package var isPerWeight: Bool {
        switch self {
        case .value, .absValue, .delta, .absDelta, .gradient, .absGradient, .squaredGradient,
             .contribution, .absContribution:
            return true
        default:
            return false
        }
    }

    /// Recorded per sample (and step): what `TOP … SAMPLES` ranks by.
    package var isPerSample: Bool {
        switch self {
        case .loss, .correct, .label, .prediction, .gradientNorm, .contribution, .absContribution, .sample:
            return true
        default:
            return false
        }
    }

    /// Recorded per step of a run: what `COMPARE … SHOW` and `BEFORE <comparison>` talk about.
    package var isPerStep: Bool {
        switch self {
        case .loss, .accuracy, .probeLoss, .probeAccuracy, .gradientNorm, .updateNorm, .learningRate,
             .weightDistance, .step, .epoch:
            return true
        default:
            return false
        }
    }
}

extension Measure {
    /// The quantity measured, nil for `COUNT`.
    package var quantity: Quantity? {
        switch self {
        case .quantity(let q), .aggregate(_, let q): return q
        case .count: return nil
        }
    }
}

package enum AggregateFunction: String, Equatable, Sendable, CaseIterable {
    case sum = "SUM", mean = "MEAN", min = "MIN", max = "MAX"
}

/// What a ranking or a SELECT/SHOW column computes.
package enum Measure: Equatable, Sendable {
    /// `LOSS`, `CONTRIBUTION`: the quantity itself (summed over the window for contributions).
    case quantity(Quantity)
    /// `SUM ABS DELTA` (Σ|Δw|), `SUM DELTA` (net Δw; also written `NET DELTA`), `MEAN LOSS`.
    case aggregate(AggregateFunction, Quantity)
    /// `COUNT SAMPLES`.
    case count(Unit)
}

/// A number as written: plain, or a percentage (`10%` holds 10).
package enum Literal: Equatable, Sendable {
    case number(Double)
    case percent(Double)

    /// The value as a fraction for percentages (10% → 0.1), else the number.
    package var fraction: Double {
        switch self {
        case .number(let x): return x
        case .percent(let p): return p / 100
        }
    }
}

/// `quantity op literal`: `ABS GRADIENT > 1e-3`, `LOSS >= 2`, `LABEL = 7`.
package struct Comparison: Equatable, Sendable {
    package var quantity: Quantity
    package var op: ComparisonOperator
    package var value: Literal
    /// Where it was written; not part of equality (see `Located`).
    package var range: SourceRange?

    package init(_ quantity: Quantity, _ op: ComparisonOperator, _ value: Literal, range: SourceRange? = nil) {
        self.quantity = quantity
        self.op = op
        self.value = value
        self.range = range
    }

    package static func == (lhs: Comparison, rhs: Comparison) -> Bool {
        lhs.quantity == rhs.quantity && lhs.op == rhs.op && lhs.value == rhs.value
    }
}

/// A `WHERE` filter.
package indirect enum Predicate: Equatable, Sendable {
    case comparison(Comparison)
    case not(Predicate)
    case and(Predicate, Predicate)
    case or(Predicate, Predicate)
}

/// Where an `UNTIL` window ends. With `ZERO`, or a comparison on `VALUE` / `ABS VALUE`, signed
/// contributions are oriented towards zero — `c·(−sign w₀)`, `w₀` the weight at the window's start —
/// so `TOP … BY CONTRIBUTION` lists the samples that drove the weight there (docs/QUERY.md, question 5).
package enum Condition: Equatable, Sendable {
    /// `UNTIL ZERO`: the first step at which the weight's sign changes or it becomes exactly 0.
    case zero
    /// `UNTIL ABS VALUE <= 1e-4`: the first step at which the comparison holds.
    case comparison(Comparison)
}

/// What `LAST k SAMPLES BEFORE …` waits for.
package enum Event: Equatable, Sendable {
    /// `FRACTION ABS GRADIENT > 1e-3 [IN fc1] EXCEEDS 10%`: the first step at which more than the
    /// given fraction of weights (of the selection, or of the model) satisfy the comparison.
    case fraction(Comparison, of: Located<WeightSelector>?, exceeds: Literal)
    /// `LOSS > 5`: the first step at which a per-step quantity satisfies the comparison.
    case condition(Comparison)
}

/// How sure the answer must be.
package enum Accuracy: Equatable, Sendable {
    /// `EXACT`: exact sources or replay only.
    case exact
    /// `WITHIN 0.01` (absolute) or `WITHIN 5%` (relative), optionally `CONFIDENCE 99%`.
    case within(Literal, confidence: Literal?)
}
