import KymoEngine

/// Question 4: the last K samples before the first step at which an event happened.
extension Executor {
    func lastSamples(_ q: LastSamples, text: String) throws -> Execution {
        let data = try run(q.clauses)
        let catalog = data.catalog
        let window = try self.window(q.clauses.span?.value, catalog)
        let columns = [Column("sample", .integer), Column("label", .integer), Column("step", .integer), Column("loss", .estimate)]
        var notes: [String] = []
        var eventStep: Int?
        var plan: Plan
        switch q.event {
        case .condition(let c):
            plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: [
                Candidate(source: .exact, detail: "T0 step scalars", expectedError: .absolute(0), cost: Self.readCost(bytes: window.count * 20), meetsTolerance: true),
            ], chosen: 0, reason: "exact from the run log")
            let scalars = try data.scalars(steps: window)
            for (i, s) in scalars.enumerated() {
                let x: Float
                switch c.quantity {
                case .loss: x = s.loss
                case .accuracy: x = s.accuracy
                case .gradientNorm: x = s.gradientNorm
                case .updateNorm: x = s.updateNorm
                case .learningRate: x = s.learningRate
                default: throw QueryError.invalid(location: c.range, message: "BEFORE takes LOSS, ACCURACY, GRADIENT NORM, UPDATE NORM or LEARNING RATE")
                }
                if Self.compareValues(Double(x), c.op, c.value.fraction) { eventStep = window.lowerBound + i; break }
            }
            if let t = eventStep { notes.append("event at step \(t) (exact)") }
        case .fraction(let c, let of, let exceeds):
            guard c.quantity == .absGradient, c.op == .greater || c.op == .greaterOrEqual else {
                throw QueryError.invalid(location: c.range, message: "FRACTION counts ABS GRADIENT > T or >= T")
            }
            let p = exceeds.fraction
            let theta = Float(c.value.fraction)
            // |g| ≥ T is |g| > the float just below T.
            let strict = c.op == .greater ? theta : theta.nextDown
            let exactIndex = catalog.thresholds.firstIndex(of: strict)
            let wholeModel = of == nil
            let haveSketch = try data.gradientQuantiles(step: window.lowerBound) != nil
            var candidates = [
                Candidate(source: .exact, detail: exactIndex != nil && wholeModel ? "t0/above at θ = \(strict)" : "t0/above: T is not a record-time threshold",
                          expectedError: exactIndex != nil && wholeModel ? .absolute(0) : .unknown,
                          cost: Self.readCost(bytes: window.count * 4 * max(1, catalog.thresholds.count)), meetsTolerance: false),
                Candidate(source: .sketch("ddsketch"), detail: !wholeModel ? "|g| sketch covers the whole model only" : haveSketch ? "|g| sketch per step, \(window.count) steps" : "|g| sketch: not recorded",
                          expectedError: wholeModel && haveSketch ? .absolute(bucketSlack(data, window: window, theta: strict)) : .unknown,
                          cost: Self.readCost(bytes: window.count * 2_000), meetsTolerance: false),
                Planner.replayCandidate(run: catalog, steps: window, provider: replay),
            ]
            candidates[1].expectedError = candidates[1].expectedError
            plan = Planner.plan(query: text, accuracy: q.clauses.accuracy, candidates: candidates, scale: p)
            if let chosen = plan.chosen, plan.candidates[chosen].source == .replay, let replay {
                let ids = try of.map { try Self.ids($0.value, catalog.layout) }
                let fractions = try replay.gradientFractions(run: data, steps: window, threshold: strict, weights: ids)
                if let i = fractions.firstIndex(where: { $0 > p }) {
                    eventStep = window.lowerBound + i
                    notes.append("event at step \(window.lowerBound + i): fraction \(NumberFormat.significant(fractions[i] * 100))% (replay, exact)")
                }
            } else if let chosen = plan.chosen, plan.candidates[chosen].source != .replay {
                let scan = try Self.fractionScan(data, window: window, theta: strict, exceeds: p,
                                                 exactThreshold: plan.candidates[chosen].source == .exact ? exactIndex : nil)
                let firstPossible = scan.firstPossible, firstCertain = scan.firstCertain
                let atPossible = scan.atPossible
                if let t = firstPossible, let f = atPossible {
                    eventStep = t
                    let fraction = "fraction \(NumberFormat.significant(f.0 * 100))% [\(NumberFormat.significant(f.1 * 100)), \(NumberFormat.significant(f.2 * 100))]%"
                    if firstCertain == t {
                        notes.append("event at step \(t): \(fraction) (\(plan.candidates[chosen].source))")
                    } else {
                        notes.append("ambiguous within the sketch bounds: the first step is between \(t) and \(firstCertain.map(String.init) ?? "the end of the window (never certain)"); listed before the earliest possible step \(t) (\(fraction))")
                    }
                }
            } else {
                return Self.replayNeeded(plan, columns: columns, why: "no recorded source counts |g| over \(of.map { QueryPrinter.selector($0.value) } ?? "the model") at T = \(theta) to the tolerance")
            }
        }
        guard let t = eventStep else {
            notes.append("the event does not happen in steps \(window.lowerBound)..\(window.upperBound)")
            return Execution(answer: Answer(columns: columns, rows: [], notes: notes), plans: [plan])
        }
        // The K samples seen last up to and including step t's batch (whose gradient it is), most recent first.
        var rows: [[Cell]] = []
        var step = t
        while rows.count < q.count.value, step >= 1 {
            let s = try data.samples(step: step)
            for i in s.ids.indices.reversed() where rows.count < q.count.value {
                let id = s.ids[i]
                if let filter = q.clauses.filter, try !Self.holds(filter, sample: id, label: data.label(ofSample: id)) { continue }
                rows.append([.integer(id), data.label(ofSample: id).map { .integer($0) } ?? .missing, .integer(step), .estimate(.exact(Double(s.loss[i])))])
            }
            step -= 1
        }
        return Execution(answer: Answer(columns: columns, rows: rows, notes: notes), plans: [plan])
    }

    /// The result of scanning steps for the first one where the fraction of |g| > θ exceeds p.
    struct FractionScan {
        /// First step whose upper bound exceeds p (the event may be here), and its interval.
        var firstPossible: Int?
        var atPossible: (Double, Double, Double)?
        /// First step whose lower bound exceeds p (the event has certainly happened by here).
        var firstCertain: Int?
    }

    /// Scans `window` for the first step where the fraction of weights with |g| > θ exceeds p:
    /// exact from `t0/above` when θ is record-time threshold `exactThreshold`, else bracketed by
    /// the |g| sketch's deterministic bounds.
    /// - Complexity: O(steps · buckets).
    static func fractionScan(_ data: any RunData, window: ClosedRange<Int>, theta: Float, exceeds p: Double,
                             exactThreshold: Int?) throws -> FractionScan {
        let count = Double(data.catalog.layout.count)
        var scan = FractionScan()
        for t in window {
            let f: (Double, Double, Double)
            if let k = exactThreshold, let counts = try data.aboveCounts(step: t) {
                let x = Double(counts[k]) / count
                f = (x, x, x)
            } else if let sketch = try data.gradientQuantiles(step: t) {
                let r = sketch.fractionAbove(theta)
                f = (r.estimate, r.lowerBound, r.upperBound)
            } else { break }
            if f.2 > p && scan.firstPossible == nil { scan.firstPossible = t; scan.atPossible = f }
            if f.1 > p { scan.firstCertain = t; break }
        }
        return scan
    }

    /// The expected error of the |g| sketch at θ: the widest fraction half-interval on up to 8
    /// evenly spaced steps of the window (an estimate for planning; the answer states each step's
    /// own bounds).
    /// - Complexity: O(8 · buckets).
    func bucketSlack(_ data: any RunData, window: ClosedRange<Int>, theta: Float) -> Double {
        var worst = 0.0
        let n = min(8, window.count)
        for i in 0..<n {
            let t = window.lowerBound + (n == 1 ? 0 : i * (window.count - 1) / (n - 1))
            guard let s = try? data.gradientQuantiles(step: t) else { return .infinity }
            let r = s.fractionAbove(theta)
            worst = max(worst, (r.upperBound - r.lowerBound) / 2)
        }
        return worst
    }
}
