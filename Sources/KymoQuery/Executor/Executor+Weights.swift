import KymoCore
import KymoEngine

/// Question 2: the weights that changed most, from the exact per-epoch sums (T0), grouped by
/// layer or neuron, or labelled with clusters of similar trajectories.
extension Executor {
    enum EpochMeasure { case sumAbs, sum, sumSquares, maxAbs }

    static func epochMeasure(_ m: Located<Measure>) throws -> EpochMeasure {
        switch m.value {
        case .aggregate(.sum, .absDelta), .quantity(.absDelta): return .sumAbs
        case .aggregate(.sum, .delta), .quantity(.delta): return .sum
        case .aggregate(.sum, .squaredGradient), .quantity(.squaredGradient): return .sumSquares
        case .aggregate(.max, .absGradient), .aggregate(.max, .gradient): return .maxAbs
        default:
            throw QueryError.invalid(location: m.range, message: "weights rank by SUM ABS DELTA, NET DELTA, SUM SQUARED GRADIENT or MAX ABS GRADIENT (the exact epoch sums)")
        }
    }

    /// The first `k` of `items` in the order `before` (a strict total order), in that order: a
    /// bounded insertion buffer instead of sorting all n.
    /// - Complexity: O(n·log k + k·(insertions)); O(n) when few items enter the buffer.
    static func topK(_ items: [(key: Int, value: Double)], _ k: Int, by before: ((key: Int, value: Double), (key: Int, value: Double)) -> Bool) -> [(key: Int, value: Double)] {
        guard k > 0 else { return [] }
        var top: [(key: Int, value: Double)] = []
        top.reserveCapacity(k + 1)
        for item in items {
            if top.count == k, !before(item, top[k - 1]) { continue }
            var lo = 0, hi = top.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if before(top[mid], item) { lo = mid + 1 } else { hi = mid }
            }
            top.insert(item, at: lo)
            if top.count > k { top.removeLast() }
        }
        return top
    }

    /// The measure per parameter over whole epochs (Double sums of the recorded Float sums).
    func epochTotals(_ measure: EpochMeasure, epochs: ClosedRange<Int>, data: any RunData) throws -> [Double] {
        var total = [Double](repeating: 0, count: data.catalog.layout.count)
        for e in epochs {
            let path: KeyPath<EpochSums, [Float]> = measure == .sumAbs ? \.sumAbs : measure == .sum ? \.sum : measure == .sumSquares ? \.sumSquares : \.maxAbs
            guard let values = try data.epochSum(path, epoch: e) else {
                throw QueryError.outOfRange(location: nil, message: "epoch \(e) is not complete in run '\(data.catalog.name)' (per-epoch sums are written at its last step)")
            }
            switch measure {
            case .sumAbs, .sum, .sumSquares: for i in total.indices { total[i] += Double(values[i]) }
            case .maxAbs: for i in total.indices { total[i] = max(total[i], Double(values[i])) }
            }
        }
        return total
    }

    func epochRange(_ span: Span?, _ catalog: RunCatalog, location: SourceRange?) throws -> ClosedRange<Int> {
        switch span {
        case nil:
            guard catalog.completeEpochs >= 1 else { throw QueryError.outOfRange(location: location, message: "no epoch of run '\(catalog.name)' is complete yet") }
            return 1...catalog.completeEpochs
        case .epoch(let e)?: return e...e
        case .epochs(let a, let b)?: return a...b
        case .atEpoch(let e)?: return 1...e
        default:
            throw QueryError.invalid(location: location, message: "weight totals are recorded per epoch: use IN EPOCH(S) (step spans need replay)")
        }
    }

    func topWeights(_ q: TopWeights, text: String) throws -> Execution {
        let data = try run(q.clauses)
        let catalog = data.catalog
        let layout = catalog.layout
        let measure = try Self.epochMeasure(q.ranking.measure)
        let epochs = try epochRange(q.clauses.span?.value, catalog, location: q.clauses.locations[.span])
        let ids = try q.selection.map { try Self.ids($0.value, layout) } ?? Array(0..<layout.count)
        let plan = Plan(query: text, accuracy: q.clauses.accuracy, candidates: [
            Candidate(source: .exact, detail: "T0 epoch sums, epochs \(epochs.lowerBound)..\(epochs.upperBound)", expectedError: .absolute(0),
                      cost: Self.readCost(bytes: epochs.count * layout.count * 4), meetsTolerance: true),
        ], chosen: 0, reason: "exact per-epoch sums cover every weight")
        let totals = try epochTotals(measure, epochs: epochs, data: data)
        let top = q.ranking.direction == .top
        func before(_ a: (key: Int, value: Double), _ b: (key: Int, value: Double)) -> Bool {
            a.value != b.value ? (top ? a.value > b.value : a.value < b.value) : a.key < b.key
        }
        let measureName = QueryPrinter.measure(q.ranking.measure.value).lowercased()
        let k = q.ranking.count.value
        switch q.clauses.grouping {
        case .group(let unit)?:
            var groups: [(key: Int, value: Double)] = []
            for id in ids {
                let key = unit == .layer ? layout.layerIndex(of: id) : Self.neuron(of: id, layout)
                let x = totals[id]
                if let last = groups.last, last.key == key {
                    groups[groups.count - 1].value = measure == .maxAbs ? max(last.value, x) : last.value + x
                } else { groups.append((key, x)) }
            }
            let rows: [[Cell]] = groups.sorted(by: before).prefix(k).map { g in
                [.text(unit == .layer ? layout.layers[g.key].name : Self.neuronName(g.key, layout)), .estimate(.exact(g.value))]
            }
            return Execution(answer: Answer(columns: [Column(unit == .layer ? "layer" : "neuron", .text), Column(measureName, .estimate)], rows: rows), plans: [plan])
        case .clusters(let n)?:
            let ranked = Self.topK(ids.map { (key: $0, value: totals[$0]) }, k, by: before)
            let (labels, note) = try clusterTrajectories(ranked.map(\.key), clusters: n.value, epochs: epochs, data: data)
            let rows: [[Cell]] = ranked.enumerated().map { i, w in
                [.text(layout.name(of: w.key)), .estimate(.exact(w.value)), labels.map { .integer($0[i]) } ?? .missing]
            }
            return Execution(answer: Answer(columns: [Column("weight", .text), Column(measureName, .estimate), Column("cluster", .integer)],
                                            rows: rows, notes: [note]), plans: [plan])
        case nil:
            let rows: [[Cell]] = Self.topK(ids.map { (key: $0, value: totals[$0]) }, k, by: before).map {
                [.text(layout.name(of: $0.key)), .estimate(.exact($0.value))]
            }
            return Execution(answer: Answer(columns: [Column("weight", .text), Column(measureName, .estimate)], rows: rows), plans: [plan])
        }
    }

    /// k-means (Lloyd, 50 rounds at most) on the decoded trajectories of `ids` over the epochs,
    /// each centred on its first recorded value; initial centres by farthest-point from the first
    /// weight (deterministic). Returns one label per id (nil when no trajectory is recorded).
    func clusterTrajectories(_ ids: [Int], clusters: Int, epochs: ClosedRange<Int>, data: any RunData) throws -> ([Int]?, String) {
        let catalog = data.catalog
        let first = (epochs.lowerBound - 1) * catalog.stepsPerEpoch, last = epochs.upperBound * catalog.stepsPerEpoch
        let rows = catalog.trajectorySteps.indices.filter { catalog.trajectorySteps[$0] >= first && catalog.trajectorySteps[$0] <= last }
        guard rows.count >= 2, !ids.isEmpty else { return (nil, "no trajectory recorded for these epochs: clusters not computed") }
        var series = [[Double]](repeating: [], count: ids.count)
        var maxBound: Float = 0
        for r in rows {
            guard let row = try data.trajectory(index: r) else { continue }
            for (i, id) in ids.enumerated() { series[i].append(Double(row.values[id])); maxBound = max(maxBound, row.bounds[id]) }
        }
        for i in series.indices { let x0 = series[i][0]; series[i] = series[i].map { $0 - x0 } }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        let k = min(clusters, ids.count)
        var centres = [series[0]]
        while centres.count < k {
            var best = 0, bestD = -1.0
            for (i, s) in series.enumerated() {
                let d = centres.map { distance(s, $0) }.min()!
                if d > bestD { bestD = d; best = i }
            }
            centres.append(series[best])
        }
        var labels = [Int](repeating: 0, count: ids.count)
        for _ in 0..<50 {
            var changed = false
            for (i, s) in series.enumerated() {
                var best = 0, bestD = Double.infinity
                for (c, centre) in centres.enumerated() { let d = distance(s, centre); if d < bestD { bestD = d; best = c } }
                if labels[i] != best { labels[i] = best; changed = true }
            }
            for c in centres.indices {
                let members = series.indices.filter { labels[$0] == c }
                guard !members.isEmpty else { continue }
                centres[c] = (0..<series[0].count).map { j in members.reduce(0) { $0 + series[$1][j] } / Double(members.count) }
            }
            if !changed { break }
        }
        return (labels, "clusters: k-means on \(rows.count) trajectory rows per weight (values within ±\(NumberFormat.significant(Double(maxBound), digits: 3)) of the truth)")
    }
}
