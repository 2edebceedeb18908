import KymoEngine

/// Questions 1 and 5: which samples moved a weight (or a group of weights), over a window that
/// may end where the weight reaches zero.
extension Executor {
    /// Per sample: the window's contribution interval.
    struct SampleInterval {
        var value: Double
        var lower: Double
        var upper: Double
    }

    /// How the window ends when `UNTIL` is given: the crossing lies in `first...last` (equal when
    /// known exactly); nil `last` when it is not certain to happen in the recorded steps.
    struct Crossing {
        var first: Int
        var last: Int?
        var source: Source
    }

    func topSamples(_ q: TopSamples, text: String) throws -> Execution {
        let data = try run(q.clauses)
        let catalog = data.catalog
        guard let quantity = q.ranking.measure.value.quantity, quantity == .contribution || quantity == .absContribution,
              let target = q.target else {
            return try topSamplesByStat(q, data: data, text: text)
        }
        let absolute = quantity == .absContribution
        var window = try self.window(q.clauses.span?.value, catalog)
        // Groups of parameters: one ranking each.
        var groups: [(name: String, ids: [Int])] = []
        switch target {
        case .weights(let selector):
            let ids = try Self.ids(selector.value, catalog.layout)
            groups = [(ids.count == 1 ? catalog.layout.name(of: ids[0]) : QueryPrinter.selector(selector.value), ids)]
        case .each(let unit, let selector):
            let ids = try Self.ids(selector.value, catalog.layout)
            if unit == .neuron {
                var byNeuron: [(Int, [Int])] = []
                for id in ids {
                    let n = Self.neuron(of: id, catalog.layout)
                    if byNeuron.last?.0 == n { byNeuron[byNeuron.count - 1].1.append(id) } else { byNeuron.append((n, [id])) }
                }
                groups = byNeuron.map { (Self.neuronName($0.0, catalog.layout), $0.1) }
            } else {
                groups = ids.map { (catalog.layout.name(of: $0), [$0]) }
            }
        }
        var notes: [String] = []
        var crossing: Crossing?
        var orientation: Double = 1
        if let until = q.clauses.until {
            guard groups.count == 1, groups[0].ids.count == 1 else {
                throw QueryError.invalid(location: q.clauses.locations[.until], message: "UNTIL needs a single weight (FOR WEIGHT fc1[3,7])")
            }
            let id = groups[0].ids[0]
            let (w0, c) = try self.crossing(of: id, until: until, window: window, data: data, needsStart: !absolute)
            if !absolute { orientation = w0 < 0 ? 1 : -1 }
            crossing = c
            let rows = data.catalog.trajectorySteps
            if !catalog.isT1(id), zip(rows, rows.dropFirst()).contains(where: { $1 - $0 > 1 }) {
                notes.append("trajectory rows are not every step: a crossing that reverts between two rows is not seen")
            }
            if let c {
                if let last = c.last {
                    notes.append(last == c.first ? "crossing at step \(last) (\(c.source))"
                                 : "crossing between steps \(c.first) and \(last) (\(c.source)); contributions bounded over both ends")
                    window = window.lowerBound...last
                } else {
                    window = window.lowerBound...window.upperBound
                    notes.append("no certain crossing in steps \(window.lowerBound)..\(window.upperBound); earliest possible step \(c.first) (\(c.source))")
                }
            } else {
                notes.append("the weight does not reach the condition in steps \(window.lowerBound)..\(window.upperBound): the whole window is used")
            }
        }
        let k = q.ranking.count.value
        var columns = [Column("sample", .integer), Column("label", .integer), Column(absolute ? "abs contribution" : "contribution", .estimate)]
        if groups.count > 1 { columns.insert(Column(target.isNeuronGroups ? "neuron" : "weight", .text), at: 0) }
        var rows: [[Cell]] = []
        var plans: [Plan] = []
        for group in groups {
            let (plan, intervals, source) = try contributionIntervals(
                group.ids, window: window, crossing: crossing, absolute: absolute, orientation: orientation,
                data: data, text: text, accuracy: q.clauses.accuracy)
            plans.append(plan)
            guard let intervals, let source else {
                let why = "no recorded source bounds the contributions of \(group.name) in steps \(window.lowerBound)..\(window.upperBound) to the tolerance"
                let needed = Self.replayNeeded(plan, columns: columns, why: why)
                notes += needed.answer.notes
                continue
            }
            var candidates: [(sample: Int, SampleInterval)]
            if let filter = q.clauses.filter {
                candidates = []
                for (sample, interval) in intervals where try Self.holds(filter, sample: sample, label: data.label(ofSample: sample)) {
                    candidates.append((sample, interval))
                }
            } else {
                candidates = intervals.map { (sample: $0.0, $0.1) }
            }
            let top = q.ranking.direction == .top
            // The k first in (value, then sample id) order; the others' extreme bound.
            let chosen = Self.selectFirst(k, of: candidates) { a, b in
                a.1.value != b.1.value ? (top ? a.1.value > b.1.value : a.1.value < b.1.value) : a.sample < b.sample
            }
            let listed = chosen.map { candidates[$0] }
            for (sample, interval) in listed {
                var row: [Cell] = [.integer(sample), data.label(ofSample: sample).map { .integer($0) } ?? .missing,
                                   .estimate(Estimate(value: interval.value, lower: interval.lower, upper: interval.upper,
                                                      confidence: 1, source: source))]
                if groups.count > 1 { row.insert(.text(group.name), at: 0) }
                rows.append(row)
            }
            if source != .exact && source != .replay && candidates.count > k {
                // The listed set is certain when every listed lower bound clears every other upper bound.
                var isListed = [Bool](repeating: false, count: candidates.count)
                for i in chosen { isListed[i] = true }
                var outsideUpper = -Double.infinity, outsideLower = Double.infinity
                for (i, c) in candidates.enumerated() where !isListed[i] {
                    outsideUpper = max(outsideUpper, c.1.upper)
                    outsideLower = min(outsideLower, c.1.lower)
                }
                let certain = top ? (listed.map(\.1.lower).min() ?? 0) >= outsideUpper
                                  : (listed.map(\.1.upper).max() ?? 0) <= outsideLower
                if !certain { notes.append("\(group.name): the \(top ? "top" : "bottom") \(k) set is not certain within the \(source) bounds") }
            }
        }
        return Execution(answer: Answer(columns: columns, rows: rows, notes: notes), plans: plans)
    }

    /// The indices of the first `k` elements of `items` in `before` order (a strict total order),
    /// in that order — without sorting them all.
    /// - Complexity: O(n · log k + k log k) comparisons, plus O(n·k) moves in the worst case.
    static func selectFirst<T>(_ k: Int, of items: [T], by before: (T, T) -> Bool) -> [Int] {
        guard k > 0 else { return [] }
        guard k < items.count else { return items.indices.sorted { before(items[$0], items[$1]) } }
        // Indices of the best k so far, sorted by `before`.
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in items.indices {
            if best.count == k, !before(items[i], items[best[k - 1]]) { continue }
            var lo = 0, hi = best.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if before(items[best[mid]], items[i]) { lo = mid + 1 } else { hi = mid }
            }
            best.insert(i, at: lo)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// `TOP k SAMPLES BY LOSS` and other per-sample statistics: exact from T0, over the window
    /// (each sample's largest value in the window for TOP, smallest for BOTTOM).
    func topSamplesByStat(_ q: TopSamples, data: any RunData, text: String) throws -> Execution {
        let catalog = data.catalog
        let window = try self.window(q.clauses.span?.value, catalog)
        guard let quantity = q.ranking.measure.value.quantity, [.loss, .gradientNorm, .correct].contains(quantity) else {
            throw QueryError.invalid(location: q.ranking.measure.range, message: "samples rank by CONTRIBUTION, LOSS, GRADIENT NORM or CORRECT")
        }
        var best: [Int: (value: Double, step: Int)] = [:]
        let top = q.ranking.direction == .top
        for t in window {
            let s = try data.samples(step: t)
            for (i, id) in s.ids.enumerated() {
                let x: Double
                switch quantity {
                case .loss: x = Double(s.loss[i])
                case .gradientNorm: x = Double(s.gradientNorm[i])
                default: x = Double(s.correct[i])
                }
                if let old = best[id] {
                    let better = top ? x > old.value : x < old.value
                    if !better { continue }
                }
                best[id] = (x, t)
            }
        }
        var list: [(Int, (value: Double, step: Int))] = best.map { ($0.key, $0.value) }
        list.sort { (a: (Int, (value: Double, step: Int)), b: (Int, (value: Double, step: Int))) -> Bool in
            if a.1.value != b.1.value { return top ? a.1.value > b.1.value : a.1.value < b.1.value }
            return a.0 < b.0
        }
        if let filter = q.clauses.filter {
            list = try list.filter { try Self.holds(filter, sample: $0.0, label: data.label(ofSample: $0.0)) }
        }
        let rows: [[Cell]] = list.prefix(q.ranking.count.value).map {
            [.integer($0.0), data.label(ofSample: $0.0).map { .integer($0) } ?? .missing, .integer($0.1.step), .estimate(.exact($0.1.value))]
        }
        let plan = Plan(query: text, accuracy: q.clauses.accuracy,
                        candidates: [Candidate(source: .exact, detail: "T0 per-sample values, steps \(window.lowerBound)..\(window.upperBound)",
                                               expectedError: .absolute(0), cost: Self.readCost(bytes: window.count * catalog.batchSize * 13), meetsTolerance: true)],
                        chosen: 0, reason: "exact from the run log")
        return Execution(answer: Answer(columns: [Column("sample", .integer), Column("label", .integer), Column("step", .integer),
                                                  Column(quantity.spelling.lowercased(), .estimate)], rows: rows), plans: [plan])
    }

    /// Plans and computes every sample's contribution interval for `ids` over `window` (extended
    /// to `crossing.first…last` when the crossing is uncertain). nil intervals: replay is needed.
    func contributionIntervals(_ ids: [Int], window: ClosedRange<Int>, crossing: Crossing?, absolute: Bool,
                               orientation: Double, data: any RunData, text: String, accuracy: Accuracy?)
        throws -> (Plan, [(Int, SampleInterval)]?, Source?) {
        let catalog = data.catalog
        let allT1 = ids.allSatisfy(catalog.isT1)
        let b = catalog.batchSize
        var candidates: [Candidate] = []
        // The window ends anywhere in `ends`: at the crossing when known, over its interval when bounded.
        let ends: ClosedRange<Int> = crossing.map { c in max(window.lowerBound, min(c.first, c.last ?? window.upperBound))...(c.last ?? window.upperBound) }
            ?? window.upperBound...window.upperBound
        // Each sketch's expected error is the bound the answer will state: the widest deviation
        // from the stated value among all samples of the window (computed here, reused below).
        func deviation(_ intervals: [(Int, SampleInterval)]) -> Double {
            intervals.reduce(0) { max($0, $1.1.value - $1.1.lower, $1.1.upper - $1.1.value) }
        }
        // Exact T1.
        candidates.append(Candidate(
            source: .exact, detail: allT1 ? "T1: \(ids.count) weight(s), \(window.count) steps" : "T1: weight not sampled",
            expectedError: allT1 ? .absolute(0) : .unknown,
            cost: Self.readCost(bytes: allT1 ? window.count * (catalog.t1Ids.count * (b + 2) * 4) : 0), meetsTolerance: false))
        candidates.append(Self.factoredCandidate(ids, catalog: catalog, first: window.lowerBound, last: max(window.upperBound, ends.upperBound)))
        // Contribution sample: every pair not kept has |c| < τ_t.
        var haveSample = !window.isEmpty
        for t in window { if try data.contributionThreshold(step: t) == nil { haveSample = false; break } }
        candidates.append(Candidate(
            source: .sketch("contribution-sample"), detail: !haveSample ? "T2 sample: not recorded" : "T2 sample, τ per step, \(window.count) steps",
            expectedError: .unknown,
            cost: Self.readCost(bytes: window.count * 400 * 20), meetsTolerance: false))
        let sampleIndex = candidates.count - 1
        // Per-neuron mass (count-min, Space-Saving): an upper bound on |c| for whole epochs only.
        let epochs = catalog.epoch(ofStep: window.lowerBound)...catalog.epoch(ofStep: window.upperBound)
        let wholeEpochs = window.lowerBound == catalog.steps(ofEpoch: epochs.lowerBound).lowerBound
            && window.upperBound == epochs.upperBound * catalog.stepsPerEpoch && crossing == nil
        var massSketches: [NeuronMassSketches] = []
        if wholeEpochs { for e in epochs { if let m = try data.neuronMass(epoch: e) { massSketches.append(m) } } }
        let haveMass = wholeEpochs && massSketches.count == epochs.count
        let haveSS = haveMass && massSketches.allSatisfy { $0.spaceSaving != nil }
        let haveCM = haveMass && massSketches.allSatisfy { $0.countMin != nil }
        let cmIntervals = haveCM ? try massIntervals(ids, data: data, window: window, sketches: massSketches, countMin: true, absolute: absolute) : nil
        let cmError = cmIntervals.map(deviation)
        // The sample's intervals, intersected with the count-min mass bound when there is one
        // (both bounds hold, so their intersection does: it tightens samples whose pairs were
        // mostly not kept).
        var sampleIntervals: [(Int, SampleInterval)]?
        if haveSample {
            var intervals = try sampledIntervals(ids, data: data, from: window.lowerBound, ends: ends, absolute: absolute, orientation: orientation)
            if let mass = cmIntervals {
                // Both lists ascend by sample id: a merge join.
                var at = 0
                intervals = intervals.map { s, i in
                    while at < mass.count && mass[at].0 < s { at += 1 }
                    guard at < mass.count, mass[at].0 == s else { return (s, i) }
                    let m = mass[at].1
                    let lower = max(i.lower, m.lower), upper = min(i.upper, m.upper)
                    guard lower <= upper else { return (s, i) }
                    return (s, SampleInterval(value: min(max(i.value, lower), upper), lower: lower, upper: upper))
                }
            }
            sampleIntervals = intervals
            candidates[sampleIndex].expectedError = .absolute(deviation(intervals))
        }
        // Space-Saving: Σ over epochs and weights of the neuron's largest count bounds what it
        // states for any sample (O(ids)); its exact stated bound (O(samples · ids)) is computed
        // only when that cap could make it the most accurate source. The largest count alone
        // (one epoch, one weight: the top sample's own bound) is at most what it states for
        // that sample, so when it already reaches a source the planner prefers on a tie (the
        // signed sample or T1), or exceeds count-min's bound, Space-Saving cannot be chosen
        // without a tolerance (or under EXACT), and its sketches are not read.
        var ssIntervals: [(Int, SampleInterval)]?
        var ssError: Double?
        var ssCapped = false
        if haveSS {
            var cap = 0.0, floor = 0.0
            for m in massSketches {
                for id in ids {
                    let top = try m.spaceSaving!.largestUpperBound(Self.neuron(of: id, catalog.layout))
                    cap += top
                    floor = max(floor, Double(Float(top).nextDown))
                }
            }
            cap *= (1 + 1e-6) * (absolute ? 0.5 : 1)
            floor *= absolute ? 0.5 : 1
            let signedBest = min(allT1 ? 0 : .infinity, sampleIntervals.map(deviation) ?? .infinity)
            let cannotWin = !prunes ? false : accuracy == .exact || (accuracy == nil && (floor >= signedBest || floor > cmError ?? .infinity))
            if cap < cmError ?? .infinity && !cannotWin {
                ssIntervals = try massIntervals(ids, data: data, window: window, sketches: massSketches, countMin: false, absolute: absolute)
                ssError = ssIntervals.map(deviation)
            } else {
                ssError = cap
                ssCapped = true
            }
        }
        candidates.append(Candidate(source: .sketch("space-saving"), detail: haveMass ? "per-neuron mass, epochs \(epochs.lowerBound)..\(epochs.upperBound) (bounds |c| only\(ssCapped ? "; error at most" : ""))" : "per-neuron mass: whole epochs only",
                                    expectedError: ssError.map { .absolute($0) } ?? .unknown, cost: Self.readCost(bytes: epochs.count * 40_000), meetsTolerance: false,
                                    boundsMagnitudeOnly: true))
        candidates.append(Candidate(source: .sketch("count-min"), detail: haveMass ? "(sample, neuron) mass, epochs \(epochs.lowerBound)..\(epochs.upperBound) (bounds |c| only)" : "(sample, neuron) mass: whole epochs only",
                                    expectedError: cmError.map { .absolute($0) } ?? .unknown, cost: Self.readCost(bytes: epochs.count * 4_000_000), meetsTolerance: false,
                                    boundsMagnitudeOnly: true))
        let replayRange = window.lowerBound...max(window.upperBound, crossing?.last ?? window.upperBound)
        candidates.append(Planner.replayCandidate(run: catalog, steps: replayRange, provider: replay))
        let scale: Double? = sampleIntervals.map { i in 4 * i.reduce(0) { max($0, abs($1.1.value)) } }.flatMap { $0 > 0 ? $0 : nil }
        let plan = Planner.plan(query: text, accuracy: accuracy, candidates: candidates, scale: scale)
        guard let chosen = plan.chosen else { return (plan, nil, nil) }
        let source = plan.candidates[chosen].source
        switch source {
        case .exact:
            return (plan, try exactIntervals(ids, data: data, from: window.lowerBound, ends: ends, absolute: absolute, orientation: orientation), .exact)
        case .factored:
            return (plan, try factoredIntervals(ids, data: data, from: window.lowerBound, ends: ends, absolute: absolute, orientation: orientation), .factored)
        case .sketch("contribution-sample"):
            return (plan, sampleIntervals, source)
        case .sketch("space-saving"):
            if let ssIntervals { return (plan, ssIntervals, source) }
            return (plan, try massIntervals(ids, data: data, window: window, sketches: massSketches, countMin: false, absolute: absolute), source)
        case .sketch("count-min"):
            return (plan, cmIntervals, source)
        case .replay:
            guard let replay else { return (plan, nil, nil) }
            let exactData = try replay.replay(run: data, steps: replayRange, weights: ids)
            return (plan, try exactIntervals(ids, data: exactData, from: window.lowerBound, ends: ends, absolute: absolute, orientation: orientation), .replay)
        default:
            return (plan, nil, nil)
        }
    }

    /// Keeps, per sample, the union of its intervals over every possible window end: the crossing
    /// may lie anywhere in `ends`, so the window's sum is any of the running sums there. A sample
    /// that first appears after `ends.lowerBound` had sum exactly 0 at the earlier ends.
    /// Samples are data-set ids, kept in arrays indexed by id (grown on demand).
    struct EndUnion {
        let ends: ClosedRange<Int>
        var merged: [SampleInterval]
        var has: [Bool]

        /// - Parameter capacity: the expected largest sample id + 1 (arrays grow past it on demand).
        init(ends: ClosedRange<Int>, capacity: Int) {
            self.ends = ends
            merged = Array(repeating: SampleInterval(value: 0, lower: 0, upper: 0), count: capacity)
            has = Array(repeating: false, count: capacity)
        }

        /// Records the running sums at step `t`: `current(s)` for every sample seen so far
        /// (`seen`) at the first end, for the samples of the step's batch (`changed`) after it.
        mutating func record(step t: Int, seen: [Int], changed: [Int], current: (Int) -> SampleInterval?) {
            guard ends.contains(t) else { return }
            let keys = t == ends.lowerBound ? seen : changed
            for s in keys {
                guard let c = current(s) else { continue }
                if s >= has.count {
                    has += repeatElement(false, count: s + 1 - has.count)
                    merged += repeatElement(SampleInterval(value: 0, lower: 0, upper: 0), count: s + 1 - merged.count)
                }
                if has[s] {
                    let old = merged[s]
                    merged[s] = SampleInterval(value: c.value, lower: min(old.lower, c.lower), upper: max(old.upper, c.upper))
                } else if t == ends.lowerBound {
                    merged[s] = c
                } else {
                    merged[s] = SampleInterval(value: c.value, lower: min(0, c.lower), upper: max(0, c.upper))
                }
                has[s] = true
            }
        }

        /// Ascending by sample id.
        var result: [(Int, SampleInterval)] {
            var out: [(Int, SampleInterval)] = []
            out.reserveCapacity(has.reduce(0) { $0 + ($1 ? 1 : 0) })
            for s in has.indices where has[s] {
                let i = merged[s]
                out.append((s, ends.count == 1 ? i : SampleInterval(value: (i.lower + i.upper) / 2, lower: i.lower, upper: i.upper)))
            }
            return out
        }
    }

    /// Per-sample running state indexed by data-set id, with the ids seen in first-seen order.
    struct SampleTable<Value> {
        var values: [Value]
        var seen: [Int] = []
        var isSeen: [Bool]
        let zero: Value

        init(capacity: Int, zero: Value) {
            values = Array(repeating: zero, count: capacity)
            isSeen = Array(repeating: false, count: capacity)
            self.zero = zero
        }

        subscript(s: Int) -> Value {
            get { s < values.count ? values[s] : zero }
            set {
                if s >= values.count {
                    values += repeatElement(zero, count: s + 1 - values.count)
                    isSeen += repeatElement(false, count: s + 1 - isSeen.count)
                }
                if !isSeen[s] { isSeen[s] = true; seen.append(s) }
                values[s] = newValue
            }
        }

        func contains(_ s: Int) -> Bool { s < isSeen.count && isSeen[s] }
    }

    func exactIntervals(_ ids: [Int], data: any RunData, from start: Int, ends: ClosedRange<Int>, absolute: Bool, orientation: Double) throws -> [(Int, SampleInterval)] {
        let catalog = data.catalog
        let positions = ids.map { catalog.t1Index(of: $0)! }
        var union = EndUnion(ends: ends, capacity: data.catalog.sampleCount)
        var sums = SampleTable<Double>(capacity: catalog.sampleCount, zero: 0)
        for t in start...max(start, ends.upperBound) {
            guard let t1 = try data.t1(step: t) else { throw QueryError.invalid(location: nil, message: "T1 missing at step \(t)") }
            let batch = try data.batch(step: t)
            let b = batch.count
            for (s, sample) in batch.enumerated() {
                var c: Double = 0
                for p in positions { let x = Double(t1.contributions[p * b + s]); c += absolute ? abs(x) : x * orientation }
                sums[sample] = sums[sample] + c
            }
            union.record(step: t, seen: sums.seen, changed: batch) { s in
                sums.contains(s) ? SampleInterval(value: sums[s], lower: sums[s], upper: sums[s]) : nil
            }
        }
        return union.result
    }

    func sampledIntervals(_ ids: [Int], data: any RunData, from start: Int, ends: ClosedRange<Int>, absolute: Bool, orientation: Double) throws -> [(Int, SampleInterval)] {
        let sorted = Array(Set(ids)).sorted()
        // Per sample: the kept sum and the slack (the bound on what was not kept); `current` is
        // defined for the samples of the batches seen so far (a pure function of both).
        var sums = SampleTable<(kept: Double, slack: Double)>(capacity: data.catalog.sampleCount, zero: (0, 0))
        var union = EndUnion(ends: ends, capacity: data.catalog.sampleCount)
        func current(_ s: Int) -> SampleInterval? {
            guard sums.contains(s) else { return nil }
            let (v, e) = sums[s]
            // Widen by a relative margin for the Double sums of Float values.
            let margin = 1e-6 * (abs(v) + e)
            return absolute ? SampleInterval(value: v + e / 2, lower: v - margin, upper: v + e + margin)
                            : SampleInterval(value: v, lower: v - e - margin, upper: v + e + margin)
        }
        for t in start...max(start, ends.upperBound) {
            guard let step = try data.contributionSample(step: t, weights: sorted) else { throw QueryError.invalid(location: nil, message: "contribution sample missing at step \(t)") }
            let batch = try data.batch(step: t)
            for tuple in step.tuples {
                let x = Double(tuple.contribution)
                sums[tuple.sample].kept += absolute ? abs(x) : x * orientation
            }
            // Every (sample, weight) pair of the step not kept has |c| < τ_t. The step's kept
            // tuples of these weights are usually few: count a sample's by scanning them.
            let keptSamples = step.tuples.map(\.sample)
            var keptCount: [Int: Int] = [:]
            if keptSamples.count > 32 { for s in keptSamples { keptCount[s, default: 0] += 1 } }
            for sample in batch {
                var kept = 0
                if keptSamples.count > 32 { kept = keptCount[sample] ?? 0 } else { for s in keptSamples where s == sample { kept += 1 } }
                sums[sample].slack += Double(ids.count - kept) * Double(step.tau)
            }
            union.record(step: t, seen: sums.seen, changed: batch, current: current)
        }
        return union.result
    }

    func massIntervals(_ ids: [Int], data: any RunData, window: ClosedRange<Int>, sketches: [NeuronMassSketches], countMin: Bool, absolute: Bool) throws -> [(Int, SampleInterval)] {
        let layout = data.catalog.layout
        let neurons = ids.map { Self.neuron(of: $0, layout) }
        var samples = SampleTable<Bool>(capacity: data.catalog.sampleCount, zero: false)
        for t in window { for s in try data.batch(step: t) { samples[s] = true } }
        var result: [(Int, SampleInterval)] = []
        result.reserveCapacity(samples.seen.count)
        // The sketches each (epoch, neuron) term reads, looked up once.
        let countMins = countMin ? sketches.map { $0.countMin! } : []
        let spaceSavings = countMin ? [] : try sketches.map { m in try neurons.map { try m.spaceSaving![$0] } }
        let seen = samples.isSeen.indices.filter { samples.isSeen[$0] }
        // Epoch by epoch (one sketch in cache at a time); each sample's terms add in the same
        // order as sample by sample: epochs, then neurons.
        var bounds = [Double](repeating: 0, count: seen.count)
        for e in sketches.indices {
            for (i, sample) in seen.enumerated() {
                var bound = bounds[i]
                if countMin {
                    for n in neurons { bound += Double(countMins[e].upperBound(of: UInt64(sample * sketches[e].neurons + n))) }
                } else {
                    for ss in spaceSavings[e] { bound += ss.upperBound(of: UInt64(sample)) }
                }
                bounds[i] = bound
            }
        }
        for (i, sample) in seen.enumerated() {
            let bound = bounds[i] * (1 + 1e-6)
            result.append((sample, absolute ? SampleInterval(value: bound / 2, lower: 0, upper: bound)
                                            : SampleInterval(value: 0, lower: -bound, upper: bound)))
        }
        return result
    }

    /// Where `until` first holds for weight `id` after `window.lowerBound − 1`, and w₀ (the value
    /// before the window). Exact from T1; bounded from the trajectory. nil crossing: never.
    /// Without `needsStart`, a comparison's search from the trajectory does not read w₀ (only
    /// `UNTIL ZERO` needs it there) and returns NaN for it.
    func crossing(of id: Int, until: Condition, window: ClosedRange<Int>, data: any RunData, needsStart: Bool = true) throws -> (Double, Crossing?) {
        let catalog = data.catalog
        func condition(_ w: Double, _ w0: Double) -> Bool {
            switch until {
            case .zero: return w == 0 || (w0 > 0 && w < 0) || (w0 < 0 && w > 0)
            case .comparison(let c):
                let x = c.quantity == .absValue ? abs(w) : w
                return Self.compareValues(x, c.op, c.value.fraction)
            }
        }
        if let i = catalog.t1Index(of: id) {
            var w0: Double?
            for t in window {
                guard let t1 = try data.t1(step: t) else { break }
                let before = t1.value[i]
                if w0 == nil { w0 = Double(before) }
                let after = Double(before + t1.update[i])
                if condition(after, w0!) { return (w0!, Crossing(first: t, last: t, source: .exact)) }
            }
            if let w0 { return (w0, nil) }
        }
        // Trajectory: each recorded row gives ŵ ± b; the condition is certain when it holds on the
        // whole interval and possible when it holds somewhere in it (checked at its ends and at 0).
        let steps = catalog.trajectorySteps
        let uncovered = QueryError.invalid(location: nil, message: "weight \(catalog.layout.name(of: id)) is not in T1 and no trajectory covers step \(window.lowerBound - 1): replay is needed")
        guard let startIndex = steps.lastIndex(where: { $0 <= window.lowerBound - 1 }) else { throw uncovered }
        var w0 = Double.nan
        if needsStart || until == .zero {
            guard let startRow = try data.trajectoryValues(index: startIndex, ids: [id]) else { throw uncovered }
            w0 = Double(startRow.values[0])
        }
        var firstPossible: Int?
        // An epoch whose envelope (every snapshot's ŵ ± b inside [L, H]) admits no value meeting
        // the condition has no possible (hence no certain) row: its rows are skipped undecoded.
        // Skipping changes nothing else: `firstPossible` reads only the row steps.
        var envelopeAllows: [Int: Bool] = [:]
        func allows(epoch e: Int) throws -> Bool {
            if let known = envelopeAllows[e] { return known }
            var result = true
            if prunes, let (lower, upper) = try data.trajectoryEnvelope(epoch: e, id: id), !lower.isNaN, !upper.isNaN {
                result = Self.conditionPossible(until, in: Double(lower)...Double(max(lower, upper)), w0: w0)
            }
            envelopeAllows[e] = result
            return result
        }
        for index in (startIndex + 1)..<steps.count where steps[index] <= window.upperBound {
            if try !allows(epoch: catalog.epoch(ofStep: steps[index])) { continue }
            guard let row = try data.trajectoryValues(index: index, ids: [id]) else { break }
            let v = Double(row.values[0]), b = Double(row.bounds[0])
            let points = [v - b, v + b] + ((v - b) <= 0 && 0 <= (v + b) ? [0] : [])
            let possible = points.contains { condition($0, w0) }
            let certain: Bool
            switch until {
            case .zero: certain = (w0 > 0 && v + b < 0) || (w0 < 0 && v - b > 0)
            case .comparison: certain = condition(v - b, w0) && condition(v + b, w0) && (points.count == 2 || condition(0, w0))
            }
            if possible && firstPossible == nil { firstPossible = steps[index - 1] + 1 }
            if certain { return (w0, Crossing(first: firstPossible ?? steps[index - 1] + 1, last: steps[index], source: .trajectory)) }
        }
        return (w0, firstPossible.map { Crossing(first: $0, last: nil, source: .trajectory) })
    }
}

extension Executor {
    /// Whether some x in `range` can meet `until` (w₀ the value before the window) — checked on
    /// the extremes of x over the range, so true is only an "unknown" for = and ≠.
    /// - Complexity: O(1).
    static func conditionPossible(_ until: Condition, in range: ClosedRange<Double>, w0: Double) -> Bool {
        let (l, h) = (range.lowerBound, range.upperBound)
        let straddles = l <= 0 && h >= 0
        switch until {
        case .zero:
            return straddles || (w0 > 0 && l < 0) || (w0 < 0 && h > 0)
        case .comparison(let c):
            let lowest = c.quantity == .absValue ? (straddles ? 0 : min(abs(l), abs(h))) : l
            let highest = c.quantity == .absValue ? max(abs(l), abs(h)) : h
            switch c.op {
            case .less, .lessOrEqual: return compareValues(lowest, c.op, c.value.fraction)
            case .greater, .greaterOrEqual: return compareValues(highest, c.op, c.value.fraction)
            case .equal, .notEqual: return true
            }
        }
    }
}

extension Target {
    var isNeuronGroups: Bool { if case .each(.neuron, _) = self { return true } else { return false } }
}
