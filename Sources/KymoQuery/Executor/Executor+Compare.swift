import KymoEngine

/// Question 3: runs side by side at a step (or every k steps of a range).
extension Executor {
    func compare(_ q: CompareRuns, text: String) throws -> Execution {
        let data: [(String, any RunData)] = try q.runs.map { name in
            guard let d = runs.run(name.value) else { throw QueryError.unknownRun(name: name.value, location: name.range, suggestion: nil) }
            return (name.value, d)
        }
        let base = data[0].1.catalog
        var steps: [Int]
        switch q.clauses.span?.value {
        case .atStep(let t)?, .step(let t)?: steps = [t]
        case .atEpoch(let e)?, .epoch(let e)?: steps = [e * base.stepsPerEpoch]
        case .steps(let a, let b)?: steps = Array(stride(from: a, through: b, by: q.clauses.every?.value ?? (b - a + 1)))
        case .epochs(let a, let b)?: steps = Array(a...b).map { $0 * base.stepsPerEpoch }
        case nil: steps = [data.map { $0.1.catalog.steps }.min() ?? 0]
        }
        var columns = [Column("run", .text), Column("step", .integer)]
        for m in q.measures { columns.append(Column(QueryPrinter.measure(m.value).lowercased(), .estimate)) }
        var rows: [[Cell]] = []
        var notes: [String] = []
        var candidates: [Candidate] = []
        let exactOnly = q.clauses.accuracy == .exact
        for n in steps {
            // Weight distance to the first run: exact from checkpoints, else from trajectories.
            var reference: ([Float], [Float], Source)?
            for (r, (name, run)) in data.enumerated() {
                var row: [Cell] = [.text(name), .integer(n)]
                let reached = n >= 0 && n <= run.catalog.steps
                for m in q.measures {
                    guard reached else { row.append(.missing); continue }
                    switch m.value.quantity {
                    case .loss?, .accuracy?, .gradientNorm?, .updateNorm?, .learningRate?:
                        guard n >= 1 else { row.append(.missing); continue }
                        let s = try run.scalars(steps: n...n)[0]
                        let x: Float = switch m.value.quantity! {
                        case .loss: s.loss
                        case .accuracy: s.accuracy
                        case .gradientNorm: s.gradientNorm
                        case .updateNorm: s.updateNorm
                        default: s.learningRate
                        }
                        row.append(.estimate(.exact(Double(x))))
                    case .probeLoss?, .probeAccuracy?:
                        if let p = try run.probe(atOrBefore: n) {
                            row.append(.estimate(.exact(Double(m.value.quantity == .probeLoss ? p.loss : p.accuracy))))
                            if p.step != n { notes.append("\(name) step \(n): probe evaluated at step \(p.step) (the nearest at or before \(n))") }
                        } else { row.append(.missing); notes.append("\(name): no probe evaluation at or before step \(n)") }
                    case .weightDistance?:
                        let (values, bounds, source) = try weights(of: run, at: n, exactOnly: exactOnly)
                        guard let values else {
                            row.append(.missing)
                            notes.append("\(name) step \(n): no checkpoint\(exactOnly ? "" : " or trajectory row") at this step; replay needed (≈ \(Planner.replayCandidate(run: run.catalog, steps: max(1, n - run.catalog.stepsPerEpoch)...max(1, n), provider: replay).cost.text))")
                            continue
                        }
                        if r == 0 { reference = (values, bounds, source); row.append(.estimate(.exact(0, source: source))); continue }
                        guard let ref = reference else { row.append(.missing); continue }
                        var d2 = 0.0, e2 = 0.0
                        for i in values.indices {
                            let d = Double(values[i]) - Double(ref.0[i]); d2 += d * d
                            let e = Double(bounds[i]) + Double(ref.1[i]); e2 += e * e
                        }
                        let d = d2.squareRoot(), e = e2.squareRoot() * (1 + 1e-9) + 1e-12 * d
                        let src: Source = source == .exact && ref.2 == .exact ? .exact : .trajectory
                        row.append(.estimate(src == .exact ? .exact(d) : Estimate(value: d, lower: max(0, d - e), upper: d + e, source: .trajectory)))
                        candidates.append(Candidate(source: src, detail: "\(name) vs \(data[0].0) at step \(n)", expectedError: .absolute(src == .exact ? 0 : e),
                                                    cost: Self.readCost(bytes: values.count * 8), meetsTolerance: true))
                    default:
                        throw QueryError.invalid(location: m.range, message: "COMPARE shows LOSS, ACCURACY, PROBE LOSS, PROBE ACCURACY, GRADIENT NORM, UPDATE NORM, LEARNING RATE or WEIGHT DISTANCE")
                    }
                }
                if !reached { notes.append("\(name) has not reached step \(n) (\(run.catalog.steps) steps recorded)") }
                rows.append(row)
            }
        }
        if candidates.isEmpty {
            candidates.append(Candidate(source: .exact, detail: "T0 step scalars and probes", expectedError: .absolute(0), cost: Self.readCost(bytes: steps.count * data.count * 28), meetsTolerance: true))
        }
        let plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: candidates, chosen: 0,
                        reason: "checkpoints where the step has one, else trajectories (bound ‖q_a/2 + q_b/2‖)")
        var unique: [String] = []
        for n in notes where !unique.contains(n) { unique.append(n) }
        return Execution(answer: Answer(columns: columns, rows: rows, notes: unique), plans: [plan])
    }

    /// All weights of `run` after step `n`: exact from a checkpoint, else a trajectory row with its bounds.
    func weights(of run: any RunData, at n: Int, exactOnly: Bool) throws -> ([Float]?, [Float], Source) {
        if run.catalog.checkpointSteps.contains(n), let w = try run.checkpointWeights(step: n) {
            return (w, [Float](repeating: 0, count: w.count), .exact)
        }
        if !exactOnly, let i = run.catalog.trajectorySteps.firstIndex(of: n), let row = try run.trajectory(index: i) {
            return (row.values, row.bounds, .trajectory)
        }
        return (nil, [], .replay)
    }
}
