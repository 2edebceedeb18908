import KymoEngine

/// SELECT: the general aggregates. Implemented: per-step scalars (LOSS, ACCURACY, GRADIENT NORM,
/// UPDATE NORM, LEARNING RATE) aggregated per step, per epoch or over the window (exact, T0);
/// VALUE / ABS VALUE of one weight per step (T1 exact, else the trajectory with its bound);
/// the epoch sums (SUM ABS DELTA, SUM DELTA, SUM SQUARED GRADIENT) for a weight selection,
/// per weight or neuron (exact).
extension Executor {
    func select(_ q: Select, text: String) throws -> Execution {
        let data = try run(q.clauses)
        let catalog = data.catalog
        if let target = q.target, q.measures.allSatisfy({ (try? Self.epochMeasure($0)) != nil }) {
            return try selectEpochSums(q, target: target, data: data, text: text)
        }
        if case .weights(let selector)? = q.target, q.measures.allSatisfy({ [.value, .absValue].contains($0.value.quantity) }) {
            return try selectValues(q, selector: selector, data: data, text: text)
        }
        let perSample = q.clauses.over == .sample || q.measures.contains { if case .count(.sample) = $0.value { return true } else { return false } }
            || (q.clauses.filter.map(Self.mentionsSampleQuantity) ?? false)
        if perSample { return try selectOverSamples(q, data: data, text: text) }
        let window = try self.window(q.clauses.span?.value, catalog)
        let scalars = try data.scalars(steps: window)
        func value(_ quantity: Quantity?, _ s: StepScalars, _ m: Located<Measure>) throws -> Double {
            switch quantity {
            case .loss?: return Double(s.loss)
            case .accuracy?: return Double(s.accuracy)
            case .gradientNorm?: return Double(s.gradientNorm)
            case .updateNorm?: return Double(s.updateNorm)
            case .learningRate?: return Double(s.learningRate)
            default: throw QueryError.invalid(location: m.range, message: "SELECT supports per-step LOSS, ACCURACY, GRADIENT NORM, UPDATE NORM, LEARNING RATE, a weight's VALUE, and the epoch sums for now")
            }
        }
        var groups: [(key: Int, steps: [Int])] = []
        for t in window {
            let key = q.clauses.per == .step ? t : q.clauses.per == .epoch ? catalog.epoch(ofStep: t) : 0
            if groups.last?.key == key { groups[groups.count - 1].steps.append(t) } else { groups.append((key, [t])) }
        }
        var columns: [Column] = []
        if let per = q.clauses.per { columns.append(Column(per.rawValue.lowercased(), .integer)) }
        for m in q.measures { columns.append(Column(QueryPrinter.measure(m.value).lowercased(), .estimate)) }
        var rows: [[Cell]] = []
        for g in groups {
            var row: [Cell] = q.clauses.per == nil ? [] : [.integer(g.key)]
            for m in q.measures {
                let xs = try g.steps.map { try value(m.value.quantity, scalars[$0 - window.lowerBound], m) }
                let x: Double
                switch m.value {
                case .aggregate(.sum, _): x = xs.reduce(0, +)
                case .aggregate(.min, _): x = xs.min() ?? 0
                case .aggregate(.max, _): x = xs.max() ?? 0
                case .count: x = Double(xs.count)
                default: x = xs.reduce(0, +) / Double(max(1, xs.count))
                }
                row.append(.estimate(.exact(x)))
            }
            rows.append(row)
        }
        let plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: [
            Candidate(source: .exact, detail: "T0 step scalars, steps \(window.lowerBound)..\(window.upperBound)", expectedError: .absolute(0),
                      cost: Self.readCost(bytes: window.count * 20), meetsTolerance: true),
        ], chosen: 0, reason: "exact from the run log")
        return Execution(answer: Answer(columns: columns, rows: rows), plans: [plan])
    }

    func selectEpochSums(_ q: Select, target: Target, data: any RunData, text: String) throws -> Execution {
        let layout = data.catalog.layout
        let epochs = try epochRange(q.clauses.span?.value, data.catalog, location: q.clauses.locations[.span])
        let (selector, unit): (Located<WeightSelector>, Unit?) = switch target {
        case .weights(let s): (s, nil)
        case .each(let u, let s): (s, u)
        }
        let ids = try Self.ids(selector.value, layout)
        var columns = [Column(unit == .neuron ? "neuron" : "weight", .text)]
        var perMeasure: [[Double]] = []
        for m in q.measures {
            columns.append(Column(QueryPrinter.measure(m.value).lowercased(), .estimate))
            perMeasure.append(try epochTotals(Self.epochMeasure(m), epochs: epochs, data: data))
        }
        var keys: [(String, [Int])] = []
        for id in ids {
            let key = unit == .neuron ? Self.neuronName(Self.neuron(of: id, layout), layout) : unit == nil ? QueryPrinter.selector(selector.value) : layout.name(of: id)
            if keys.last?.0 == key { keys[keys.count - 1].1.append(id) } else { keys.append((key, [id])) }
        }
        let rows: [[Cell]] = keys.map { key, members in
            [.text(key)] + perMeasure.map { totals in .estimate(.exact(members.reduce(0) { $0 + totals[$1] })) }
        }
        let plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: [
            Candidate(source: .exact, detail: "T0 epoch sums", expectedError: .absolute(0), cost: Self.readCost(bytes: epochs.count * layout.count * 4), meetsTolerance: true),
        ], chosen: 0, reason: "exact per-epoch sums")
        return Execution(answer: Answer(columns: columns, rows: rows), plans: [plan])
    }

    func selectValues(_ q: Select, selector: Located<WeightSelector>, data: any RunData, text: String) throws -> Execution {
        let catalog = data.catalog
        let ids = try Self.ids(selector.value, catalog.layout)
        guard ids.count == 1 else { throw QueryError.invalid(location: selector.range, message: "VALUE is selected for one weight (FOR WEIGHT fc1[3,7])") }
        let id = ids[0]
        let window = try self.window(q.clauses.span?.value, catalog)
        let t1 = catalog.t1Index(of: id)
        var maxBound: Float = 0
        let trajRows = catalog.trajectorySteps.indices.filter { window.contains(catalog.trajectorySteps[$0]) }
        for r in trajRows { if let row = try data.trajectoryValues(index: r, ids: [id]) { maxBound = max(maxBound, row.bounds[0]) } }
        let candidates = [
            Candidate(source: .exact, detail: t1 != nil ? "T1 values" : "T1: weight not sampled", expectedError: t1 != nil ? .absolute(0) : .unknown,
                      cost: Self.readCost(bytes: window.count * catalog.t1Ids.count * 8), meetsTolerance: false),
            Candidate(source: .trajectory, detail: trajRows.isEmpty ? "trajectory: no rows in the window" : "\(trajRows.count) trajectory rows",
                      expectedError: trajRows.isEmpty ? .unknown : .absolute(Double(maxBound)), cost: Self.readCost(bytes: trajRows.count * catalog.layout.count), meetsTolerance: false),
            Planner.replayCandidate(run: catalog, steps: window, provider: replay),
        ]
        let plan = Planner.plan(query: text, accuracy: q.clauses.accuracy, candidates: candidates, scale: nil)
        var columns = [Column("step", .integer)]
        for m in q.measures { columns.append(Column(QueryPrinter.measure(m.value).lowercased(), .estimate)) }
        guard let chosen = plan.chosen, plan.candidates[chosen].source != .replay else {
            return Self.replayNeeded(plan, columns: columns, why: "no recorded source gives \(catalog.layout.name(of: id)) to the tolerance")
        }
        var rows: [[Cell]] = []
        func cells(_ v: Double, _ b: Double, _ source: Source) -> [Cell] {
            q.measures.map { m in
                if m.value.quantity == .absValue {
                    let lo = abs(v) <= b ? 0 : abs(v) - b
                    return .estimate(b == 0 ? .exact(abs(v), source: source) : Estimate(value: abs(v), lower: lo, upper: abs(v) + b, source: source))
                }
                return .estimate(b == 0 ? .exact(v, source: source) : Estimate(value: v, lower: v - b, upper: v + b, source: source))
            }
        }
        if plan.candidates[chosen].source == .exact, let i = t1 {
            for t in window {
                guard let s = try data.t1(step: t) else { break }
                rows.append([.integer(t)] + cells(Double(s.value[i] + s.update[i]), 0, .exact))
            }
        } else {
            for r in trajRows {
                guard let row = try data.trajectoryValues(index: r, ids: [id]) else { break }
                rows.append([.integer(catalog.trajectorySteps[r])] + cells(Double(row.values[0]), Double(row.bounds[0]), .trajectory))
            }
        }
        return Execution(answer: Answer(columns: columns, rows: rows, notes: ["values after each step"]), plans: [plan])
    }

    /// Whether a WHERE clause looks at per-sample values (then SELECT aggregates over samples).
    static func mentionsSampleQuantity(_ p: Predicate) -> Bool {
        switch p {
        case .not(let q): return mentionsSampleQuantity(q)
        case .and(let a, let b), .or(let a, let b): return mentionsSampleQuantity(a) || mentionsSampleQuantity(b)
        case .comparison(let c): return [.loss, .correct, .label, .sample, .gradientNorm].contains(c.quantity)
        }
    }

    /// One sample's appearance in a batch, with what the run log records about it.
    struct Occurrence {
        var sample: Int, label: Int?, loss: Float, correct: UInt8, gradientNorm: Float, step: Int, epoch: Int

        func value(_ q: Quantity) -> Double? {
            switch q {
            case .loss: return Double(loss)
            case .correct: return Double(correct)
            case .gradientNorm: return Double(gradientNorm)
            case .sample: return Double(sample)
            case .label: return label.map(Double.init)
            case .step: return Double(step)
            case .epoch: return Double(epoch)
            default: return nil
            }
        }

        func holds(_ p: Predicate) throws -> Bool {
            switch p {
            case .not(let q): return try !holds(q)
            case .and(let a, let b): return try holds(a) && holds(b)
            case .or(let a, let b): return try holds(a) || holds(b)
            case .comparison(let c):
                guard let x = value(c.quantity) else {
                    throw QueryError.invalid(location: c.range, message: c.quantity == .label
                        ? "LABEL is not known: the data set is not at hand"
                        : "samples are filtered by LOSS, CORRECT, GRADIENT NORM, LABEL, SAMPLE, STEP or EPOCH; not \(c.quantity.spelling)")
                }
                return Executor.compareValues(x, c.op, c.value.fraction)
            }
        }
    }

    /// SELECT over sample appearances (exact, T0 per-sample values): COUNT SAMPLES and
    /// SUM/MEAN/MIN/MAX of LOSS, CORRECT, GRADIENT NORM, per step, per epoch or over the window.
    func selectOverSamples(_ q: Select, data: any RunData, text: String) throws -> Execution {
        let catalog = data.catalog
        let window = try self.window(q.clauses.span?.value, catalog)
        guard q.clauses.per == nil || q.clauses.per == .step || q.clauses.per == .epoch else {
            throw QueryError.invalid(location: q.clauses.locations[.per], message: "aggregates over samples go PER STEP, PER EPOCH or over the whole window")
        }
        for m in q.measures {
            switch m.value {
            case .count(.sample): continue
            case .quantity(let x), .aggregate(_, let x):
                if [.loss, .correct, .gradientNorm].contains(x) { continue }
            default: break
            }
            throw QueryError.invalid(location: m.range, message: "over samples, SELECT takes COUNT SAMPLES or an aggregate of LOSS, CORRECT or GRADIENT NORM")
        }
        var groups: [(key: Int, values: [[Double]])] = []
        for t in window {
            let key = q.clauses.per == .step ? t : q.clauses.per == .epoch ? catalog.epoch(ofStep: t) : 0
            if groups.last?.key != key { groups.append((key, Array(repeating: [], count: q.measures.count))) }
            let s = try data.samples(step: t)
            for i in s.ids.indices {
                let o = Occurrence(sample: s.ids[i], label: data.label(ofSample: s.ids[i]), loss: s.loss[i],
                                   correct: i < s.correct.count ? s.correct[i] : 0, gradientNorm: i < s.gradientNorm.count ? s.gradientNorm[i] : 0,
                                   step: t, epoch: catalog.epoch(ofStep: t))
                if let filter = q.clauses.filter, try !o.holds(filter) { continue }
                for (j, m) in q.measures.enumerated() { groups[groups.count - 1].values[j].append(m.value.quantity.flatMap(o.value) ?? 1) }
            }
        }
        var columns: [Column] = []
        if let per = q.clauses.per { columns.append(Column(per.rawValue.lowercased(), .integer)) }
        for m in q.measures { columns.append(Column(QueryPrinter.measure(m.value).lowercased(), .estimate)) }
        let rows: [[Cell]] = groups.map { g in
            (q.clauses.per == nil ? [] : [Cell.integer(g.key)]) + zip(q.measures, g.values).map { m, xs in
                let x: Double
                switch m.value {
                case .count: x = Double(xs.count)
                case .aggregate(.sum, _): x = xs.reduce(0, +)
                case .aggregate(.min, _): x = xs.min() ?? .nan
                case .aggregate(.max, _): x = xs.max() ?? .nan
                default: x = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
                }
                return x.isNaN ? Cell.missing : .estimate(.exact(x))
            }
        }
        let plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: [
            Candidate(source: .exact, detail: "T0 per-sample values, steps \(window.lowerBound)..\(window.upperBound)", expectedError: .absolute(0),
                      cost: Self.readCost(bytes: window.count * catalog.batchSize * 13), meetsTolerance: true),
        ], chosen: 0, reason: "exact from the run log")
        return Execution(answer: Answer(columns: columns, rows: rows), plans: [plan])
    }
}
