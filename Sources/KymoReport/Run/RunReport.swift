import KymoCore
import KymoSketches
import KymoStore

/// `kymo report`: reads one run (and optionally a second to compare) and assembles the report.
package enum RunReport {
    /// The whole report for `run`, with a comparison section when `compare` is given.
    /// - Complexity: O(run bytes + T1 size · steps + P · snapshots).
    package static func build(_ run: RunReportSource, compare: RunReportSource? = nil, mostChanged: Int = 6) throws -> ReportModel {
        let m = run.manifest
        var subtitle = ["run \(run.name): \(run.rows) steps (\(m.epochs) epochs × \(m.stepsPerEpoch)), batch \(m.batchSize), \(m.samples) samples, P = \(run.parameterCount), optimizer \(m.optimizer), status \(run.reader.manifest.status)"]
        if let compare { subtitle.append("compared with run \(compare.name)") }
        var model = ReportModel(title: "kymo report: \(run.name)", subtitle: subtitle)
        let curves = try trainingCurves(run)
        model.sections.append(.trainingCurves(curves))
        let items = recordedItems(run)
        var recordedSection = ReportSection.recorded(items)
        var tierTotals: [(tier: String, stored: Int, raw: Int)] = []
        for item in items {
            if let i = tierTotals.firstIndex(where: { $0.tier == item.tier }) {
                tierTotals[i].stored += item.storedBytes; tierTotals[i].raw += item.rawBytes
            } else { tierTotals.append((item.tier, item.storedBytes, item.rawBytes)) }
        }
        recordedSection.paragraph("Per tier (stored / raw): " + tierTotals.map {
            "\($0.tier) \(NumberFormat.bytes($0.stored)) / \(NumberFormat.bytes($0.raw))"
        }.joined(separator: "; ") + ".")
        recordedSection.paragraph("Budget \(m.budget) = \(m.budgetBytesPerEpoch) bytes per epoch; tiers \(m.tiers.joined(separator: ", ")). Sketch parameters: count-min \(m.countMinDepth) × \(m.countMinWidth) (seed \(m.countMinSeed)); Space-Saving k = \(m.spaceSavingPerNeuron) per neuron, \(m.weightHeavyHitters) weight heavy hitters (seed \(m.spaceSavingSeed)); contribution sample m = \(m.sampledContributionsPerStep) tuples per step; |g| histogram \(m.histogramMantissaBits) mantissa bits over 2^\(m.histogramMinExponent)…2^\(m.histogramMaxExponent + 1); trajectories \(m.trajectoryBits)-bit every \(m.trajectoryStride) steps in blocks of \(m.trajectoryBlockSize); T1 holds \(m.t1Count) weights.")
        model.sections.append(recordedSection)
        var bounds = ReportSection.errorBounds(try boundChecks(run))
        bounds.paragraph(Self.errorBoundNotes)
        model.sections.append(bounds)
        model.sections.append(.trajectories(try trajectories(run, count: mostChanged)))
        if let compare {
            model.sections.append(.comparison(try comparison(run, compare, curves: curves)))
        }
        return model
    }

    /// What each row of the error-bound table checks.
    static let errorBoundNotes = """
    Rows: t2/traj — the closed-loop quantized trajectory's ŵ_t ± its per-weight bound (≤ q/2) against T1's exact w_t at every snapshot. \
    t2/contrib sample — each (sample, T1 weight, step): a kept tuple carries c exactly, a dropped one states |c| < τ_t (kept with probability min(1, |c|/τ)); \
    for one weight in one epoch this is the interval the query executor answers per sample. \
    t2/contrib HT — the Horvitz–Thompson sum Σ sign(c)·max(|c|, τ) per T1 weight and epoch with ±1.96 σ̂, σ̂² = Σ τ(τ − |c|) over kept tuples below τ; \
    split by whether σ̂ > 0: with no kept tuple below τ the interval has width 0 and misses whatever the dropped tuples added. \
    t0/gradq — the |g| histogram's bracket of the fraction above each recorded θ_k against t0/above's exact count / P. \
    t2/hh — Space-Saving of weights by Σ|Δw| against the exact cumulative t0/epoch/sumabs. \
    t2/cm, t2/ss — one-sided: T1 sees only part of a (sample, neuron) mass (Σ|c| over the neuron's T1 weights, a lower bound on the true mass), \
    so these rows check that the stated upper bound is never below it; their errors are upper bound − that part, not errors against the full mass.
    """

    // MARK: - Training curves

    /// t0/loss, accuracy, gnorm, unorm per step and t0/probe accuracy.
    /// - Complexity: O(steps).
    package static func trainingCurves(_ run: RunReportSource) throws -> TrainingCurves {
        let loss = try run.floats("t0/loss").map(Double.init)
        let steps = (0..<loss.count).map { $0 + 1 }
        let probe = try run.floatRows("t0/probe")
        let epochStarts = (1..<max(1, run.manifest.epochs)).map { $0 * run.manifest.stepsPerEpoch + 1 }.filter { $0 <= steps.count }
        return TrainingCurves(steps: steps, loss: loss,
                              accuracy: try run.floats("t0/accuracy").map(Double.init),
                              gradientNorm: try run.floats("t0/gnorm").map(Double.init),
                              updateNorm: try run.floats("t0/unorm").map(Double.init),
                              probeSteps: probe.map { $0.row + 1 },
                              probeAccuracy: probe.compactMap { $0.values.count > 1 ? Double($0.values[1]) : nil },
                              epochStarts: epochStarts)
    }

    // MARK: - What was recorded

    /// One row per column (checkpoints included), sizes summed over its chunks, in name order.
    /// - Complexity: O(chunks).
    package static func recordedItems(_ run: RunReportSource) -> [RecordedItem] {
        let m = run.manifest
        var names = run.reader.columns().sorted()
        if !run.reader.chunks(column: RunWriter.checkpointColumn).isEmpty { names.append(RunWriter.checkpointColumn) }
        return names.map { column in
            let chunks = run.reader.chunks(column: column)
            let stored = chunks.reduce(0) { $0 + $1.storedSize }
            let raw = chunks.reduce(0) { $0 + $1.rawSize }
            var parameters = ""
            switch column {
            case "t0/gradq": parameters = "m = \(m.histogramMantissaBits) bits, α ≤ \(NumberFormat.significant(pow2(-m.histogramMantissaBits) / (2 + pow2(-m.histogramMantissaBits)), digits: 3))"
            case "t0/above": parameters = "θ = " + m.thresholds.map { NumberFormat.significant(Double($0), digits: 3) }.joined(separator: ", ")
            case "t2/cm": parameters = "\(m.countMinDepth) × \(m.countMinWidth), seed \(m.countMinSeed)"
            case "t2/ss": parameters = "k = \(m.spaceSavingPerNeuron) per neuron"
            case "t2/hh": parameters = "k = \(m.weightHeavyHitters)"
            case "t2/contrib": parameters = "m = \(m.sampledContributionsPerStep) per step"
            case RunWriter.checkpointColumn: parameters = "\(chunks.count) states at steps " + chunks.map { "\($0.steps.lowerBound)" }.joined(separator: ", ")
            default:
                if column.hasPrefix("t1/") { parameters = "n₁ = \(m.t1Count)" }
                if column.hasPrefix("t2/traj/"), let layer = m.layers.first(where: { "t2/traj/" + $0.name == column }) {
                    parameters = "\(m.trajectoryBits)-bit, stride \(m.trajectoryStride), q = \(NumberFormat.significant(Double(layer.trajectoryQuantum), digits: 3))"
                }
            }
            let tier = StoreInspection.tier(of: column)
            return RecordedItem(tier: ["t0", "t1", "t2", "t3"].contains(tier) ? tier.uppercased() : tier, content: column == RunWriter.checkpointColumn ? "trainer states" : column, storedBytes: stored, rawBytes: raw,
                                parameters: parameters)
        }
    }

    private static func pow2(_ e: Int) -> Double {
        var x = 1.0
        for _ in 0..<abs(e) { x *= 2 }
        return e < 0 ? 1 / x : x
    }

    // MARK: - Error bounds

    /// Every (source, question) check the run's tiers allow.
    /// - Complexity: O(n₁ · B · steps + snapshots · P + steps · thresholds).
    package static func boundChecks(_ run: RunReportSource) throws -> [BoundCheck] {
        var checks: [BoundCheck] = []
        let exact = try ExactT1(run)
        if let exact {
            if let c = try trajectoryCheck(run, exact) { checks.append(c) }
            checks += try contributionChecks(run, exact)
        }
        if let c = try gradientFractionCheck(run) { checks.append(c) }
        if let c = try weightHeavyHitterCheck(run) { checks.append(c) }
        if let exact { checks += try neuronMassChecks(run, exact) }
        return checks
    }

    /// T1's exact values: w before each step and the update, and contributions per step.
    package struct ExactT1 {
        package var ids: [Int]
        package var value: [(row: Int, values: [Float])]
        package var update: [(row: Int, values: [Float])]
        package var contributions: [(row: Int, values: [Float])]

        /// nil when the run has no T1.
        /// - Complexity: O(T1 bytes).
        package init?(_ run: RunReportSource) throws {
            ids = run.manifest.t1Ids
            guard !ids.isEmpty, run.has("t1/value") else { return nil }
            value = try run.floatRows("t1/value")
            update = try run.floatRows("t1/update")
            contributions = try run.floatRows("t1/contrib")
        }

        /// Exact w of T1 weight index i after row `row`'s step (w_{t}): the next row's value, else
        /// value + update of the row.
        /// - Complexity: O(1).
        package func after(row: Int, _ i: Int) -> Float? {
            if row + 1 < value.count, value[row + 1].row == row + 1 { return value[row + 1].values[i] }
            guard row < value.count, row < update.count, value[row].row == row, update[row].row == row else { return nil }
            return value[row].values[i] + update[row].values[i]
        }
    }

    /// T2 trajectories at T1 weights: ŵ ± bound against exact w.
    static func trajectoryCheck(_ run: RunReportSource, _ exact: ExactT1) throws -> BoundCheck? {
        var observations: [BoundedObservation] = []
        try run.forEachSnapshot { row, values, bounds in
            for (i, id) in exact.ids.enumerated() where id < values.count {
                guard let truth = exact.after(row: row, i) else { continue }
                let v = Double(values[id]), b = Double(bounds[id])
                observations.append(BoundedObservation(estimate: v, lower: v - b, upper: v + b, truth: Double(truth)))
            }
        }
        guard !observations.isEmpty else { return nil }
        return BoundCheck(source: "t2/traj", question: "w_t ± q/2", observations: observations)
    }

    /// The contribution sample (t2/contrib, τ from t2/contrib/tau) at T1 weights against T1's
    /// exact contributions: per (sample, weight, step) — kept tuples are exact, a dropped one has
    /// |c| < τ — and the Horvitz–Thompson sum per (weight, epoch) with its ±1.96 σ̂ interval.
    static func contributionChecks(_ run: RunReportSource, _ exact: ExactT1) throws -> [BoundCheck] {
        guard run.has("t2/contrib"), run.has("t0/order") else { return [] }
        let tau = try run.floats("t2/contrib/tau")
        let order = try run.uintRows("t0/order")
        var t1Index: [Int: Int] = [:]
        for (i, id) in exact.ids.enumerated() { t1Index[id] = i }
        let n1 = exact.ids.count
        let spe = max(1, run.manifest.stepsPerEpoch)
        let epochs = (run.rows + spe - 1) / spe
        var htSum = [Double](repeating: 0, count: n1 * epochs)
        var htVar = [Double](repeating: 0, count: n1 * epochs)
        var truthSum = [Double](repeating: 0, count: n1 * epochs)
        var perTuple: [BoundedObservation] = []
        // At most ~2 M per-tuple answers: every `tupleStride`-th step (all steps feed the sums).
        let batchSize = max(1, run.manifest.batchSize)
        let tupleStride = max(1, (n1 * batchSize * run.rows + 1_999_999) / 2_000_000)
        for (steps, bytes) in try run.blobs("t2/contrib") {
            let row = steps.lowerBound
            guard row < order.count, order[row].row == row, row < exact.contributions.count, row < tau.count else { continue }
            let batch = order[row].values
            let b = batch.count
            let c = exact.contributions[row].values
            guard c.count == n1 * b else { continue }
            var position: [UInt32: Int] = [:]
            for (j, s) in batch.enumerated() { position[s] = j }
            let t = Double(tau[row])
            var kept = [Double?](repeating: nil, count: n1 * b)
            var reader = ByteReader(bytes, source: "t2/contrib row \(row)")
            let count = Int(try reader.readUInt32("count"))
            let e = row / spe
            for _ in 0..<count {
                let sample = try reader.readUInt32("sample")
                let weight = try reader.readUInt32("weight")
                let value = Double(try reader.readFloat("contribution"))
                _ = try reader.readDouble("uniform")
                guard let i = t1Index[Int(weight)] else { continue }
                htSum[i * epochs + e] += (value < 0 ? -1 : 1) * max(abs(value), t)
                if abs(value) < t { htVar[i * epochs + e] += t * (t - abs(value)) }
                if let j = position[sample] { kept[i * b + j] = value }
            }
            for i in 0..<n1 {
                for j in 0..<b {
                    let truth = Double(c[i * b + j])
                    truthSum[i * epochs + e] += truth
                    guard row % tupleStride == 0 else { continue }
                    if let v = kept[i * b + j] {
                        perTuple.append(BoundedObservation(estimate: v, lower: v, upper: v, truth: truth))
                    } else {
                        perTuple.append(BoundedObservation(estimate: 0, lower: -t, upper: t, truth: truth))
                    }
                }
            }
        }
        var checks: [BoundCheck] = []
        if !perTuple.isEmpty {
            checks.append(BoundCheck(source: "t2/contrib sample",
                                     question: "c(s,w,t); dropped ⇒ |c| < τ" + (tupleStride > 1 ? " (1 step in \(tupleStride))" : ""),
                                     observations: perTuple))
        }
        // Split by whether the variance estimate has anything to go on: with no kept tuple
        // below τ, σ̂ = 0 and the interval is the point estimate.
        var withVariance: [BoundedObservation] = [], without: [BoundedObservation] = []
        for i in 0..<n1 {
            for e in 0..<epochs {
                let k = i * epochs + e
                let half = 1.959964 * htVar[k].squareRoot()
                let o = BoundedObservation(estimate: htSum[k], lower: htSum[k] - half, upper: htSum[k] + half,
                                           truth: truthSum[k], confidence: 0.95)
                if htVar[k] > 0 { withVariance.append(o) } else { without.append(o) }
            }
        }
        if !withVariance.isEmpty {
            checks.append(BoundCheck(source: "t2/contrib HT", question: "Σ c per weight·epoch, σ̂ > 0",
                                     observations: withVariance))
        }
        if !without.isEmpty {
            checks.append(BoundCheck(source: "t2/contrib HT", question: "Σ c per weight·epoch, σ̂ = 0",
                                     observations: without))
        }
        return checks
    }

    /// t2/cm and t2/ss upper bounds on the (sample, neuron) mass per epoch against the part of
    /// that mass T1 sees exactly: Σ |c| over the neuron's T1 weights (its bias included) is a
    /// lower bound on the true mass Σ_col |k·δ·a_col| + |k·δ|, so an upper bound below it is a
    /// certain violation. One-sided: the interval drawn is [0, upper bound].
    static func neuronMassChecks(_ run: RunReportSource, _ exact: ExactT1) throws -> [BoundCheck] {
        guard run.has("t2/cm") || run.has("t2/ss"), run.has("t0/order") else { return [] }
        let layers = run.manifest.layers
        var neuronOffset: [Int] = [0]
        for l in layers { neuronOffset.append(neuronOffset.last! + l.outputs) }
        let neurons = neuronOffset.last!
        let samples = run.manifest.samples
        // Neuron of each T1 weight.
        let neuronOfT1: [Int] = exact.ids.map { id in
            let (l, local) = run.layer(of: id)
            let info = layers[l]
            let weights = info.outputs * info.inputs
            let row = local < weights ? local / info.inputs : local - weights
            return neuronOffset[l] + row
        }
        let allCovered = Array(Set(neuronOfT1)).sorted()
        var covered = allCovered
        // Keep the dense (neuron, sample) table, and the answers per epoch, under 1 M entries.
        if covered.count * samples > 1_000_000 { covered = Array(covered.prefix(max(1, 1_000_000 / max(1, samples)))) }
        var slot = [Int](repeating: -1, count: neurons)
        for (k, n) in covered.enumerated() { slot[n] = k }
        let order = try run.uintRows("t0/order")
        let spe = max(1, run.manifest.stepsPerEpoch)
        let cm = Dictionary(try run.blobs("t2/cm").map { ($0.steps.lowerBound, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        let ss = Dictionary(try run.blobs("t2/ss").map { ($0.steps.lowerBound, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        var partial = [Double](repeating: 0, count: covered.count * samples)
        var seen = [Bool](repeating: false, count: samples)
        var cmObs: [BoundedObservation] = [], ssObs: [BoundedObservation] = []
        for row in 0..<min(run.rows, order.count, exact.contributions.count) {
            let batch = order[row].values
            let b = batch.count
            let c = exact.contributions[row].values
            guard order[row].row == row, c.count == exact.ids.count * b else { continue }
            for (i, n) in neuronOfT1.enumerated() where slot[n] >= 0 {
                for j in 0..<b where Int(batch[j]) < samples {
                    partial[slot[n] * samples + Int(batch[j])] += Double(abs(c[i * b + j]))
                }
            }
            for s in batch where Int(s) < samples { seen[Int(s)] = true }
            guard row % spe == spe - 1 || row == run.rows - 1 else { continue }
            // End of an epoch: compare with the epoch's sketches, then start over. Count-min never
            // under-estimates, so its upper bound is deterministic (confidence 1).
            let countMin = try cm[row].map { try CountMinSketch(deserializing: $0) }
            var perNeuron: [SpaceSavingSketch]? = nil
            if let bytes = ss[row] {
                var reader = ByteReader(bytes, source: "t2/ss row \(row)")
                let count = Int(try reader.readUInt32("neuron count"))
                var list: [SpaceSavingSketch] = []
                for _ in 0..<count {
                    let length = Int(try reader.readUInt64("sketch length"))
                    list.append(try SpaceSavingSketch(deserializing: Array(try reader.readRaw(count: length, "sketch"))))
                }
                perNeuron = list.count == neurons ? list : nil
            }
            for (k, n) in covered.enumerated() {
                for s in 0..<samples where seen[s] {
                    let truth = partial[k * samples + s]
                    if let countMin {
                        let upper = Double(countMin.upperBound(of: UInt64(s * neurons + n)))
                        cmObs.append(BoundedObservation(estimate: upper, lower: 0, upper: upper, truth: truth))
                    }
                    if let perNeuron {
                        let upper = perNeuron[n].upperBound(of: UInt64(s))
                        ssObs.append(BoundedObservation(estimate: perNeuron[n].estimate(of: UInt64(s)), lower: 0, upper: upper, truth: truth))
                    }
                }
            }
            for i in partial.indices { partial[i] = 0 }
            for s in seen.indices { seen[s] = false }
        }
        let neuronNote = covered.count < allCovered.count ? " (\(covered.count) of \(allCovered.count) neurons)" : ""
        var checks: [BoundCheck] = []
        if !cmObs.isEmpty {
            checks.append(BoundCheck(source: "t2/cm", question: "mass(s, neuron) ≤ upper" + neuronNote,
                                     truthTier: "T1 (lower bound)", observations: cmObs))
        }
        if !ssObs.isEmpty {
            checks.append(BoundCheck(source: "t2/ss", question: "mass(s, neuron) ≤ upper" + neuronNote,
                                     truthTier: "T1 (lower bound)", observations: ssObs))
        }
        return checks
    }

    /// t0/gradq brackets of the fraction of |g| above each recorded θ_k against t0/above's exact counts.
    static func gradientFractionCheck(_ run: RunReportSource) throws -> BoundCheck? {
        let thresholds = run.manifest.thresholds
        guard !thresholds.isEmpty, run.has("t0/gradq"), run.has("t0/above") else { return nil }
        let above = try run.uintRows("t0/above")
        let p = Double(run.parameterCount)
        var observations: [BoundedObservation] = []
        for (steps, bytes) in try run.blobs("t0/gradq") {
            let row = steps.lowerBound
            guard row < above.count, above[row].row == row, above[row].values.count == thresholds.count else { continue }
            let sketch = try MagnitudeQuantiles(deserializing: bytes)
            for (k, theta) in thresholds.enumerated() {
                let f = sketch.fractionAbove(theta)
                observations.append(BoundedObservation(estimate: f.estimate, lower: f.lowerBound, upper: f.upperBound,
                                                       truth: Double(above[row].values[k]) / p))
            }
        }
        guard !observations.isEmpty else { return nil }
        return BoundCheck(source: "t0/gradq", question: "fraction |g| > θ_k", truthTier: "T0 t0/above",
                          observations: observations)
    }

    /// t2/hh Space-Saving of weights by cumulative Σ|Δw| against the exact cumulative sum of
    /// t0/epoch/sumabs, for the monitored weights and the T1 weights, per epoch.
    static func weightHeavyHitterCheck(_ run: RunReportSource) throws -> BoundCheck? {
        guard run.has("t2/hh"), run.has("t0/epoch/sumabs") else { return nil }
        let sums = try run.floatRows("t0/epoch/sumabs")
        var cumulative = [Double](repeating: 0, count: run.parameterCount)
        var byRow: [Int: [Double]] = [:]
        for (row, v) in sums {
            for i in v.indices where i < cumulative.count { cumulative[i] += Double(v[i]) }
            byRow[row] = cumulative
        }
        var observations: [BoundedObservation] = []
        for (steps, bytes) in try run.blobs("t2/hh") {
            guard let truth = byRow[steps.lowerBound] else { continue }
            let sketch = try SpaceSavingSketch(deserializing: bytes)
            var keys = sketch.topK(sketch.capacity).map { Int($0.key) }
            keys += run.manifest.t1Ids
            var seen = Set<Int>()
            for id in keys where id < truth.count && seen.insert(id).inserted {
                let key = UInt64(id)
                observations.append(BoundedObservation(estimate: sketch.estimate(of: key), lower: sketch.lowerBound(of: key),
                                                       upper: sketch.upperBound(of: key), truth: truth[id]))
            }
        }
        guard !observations.isEmpty else { return nil }
        return BoundCheck(source: "t2/hh", question: "Σ|Δw| so far per weight",
                          truthTier: "T0 t0/epoch/sumabs", observations: observations)
    }

    // MARK: - Trajectories

    /// The `count` weights with the largest Σ|Δw| over the run (half of them among T1 weights
    /// when T1 exists), decoded from t2/traj with T1's exact values where sampled.
    /// - Complexity: O(P · snapshots + P log P).
    package static func trajectories(_ run: RunReportSource, count: Int) throws -> [WeightTrajectory] {
        let sums = try run.floatRows("t0/epoch/sumabs")
        guard !sums.isEmpty, run.manifest.trajectoryStride > 0 else { return [] }
        var total = [Double](repeating: 0, count: run.parameterCount)
        for (_, v) in sums { for i in v.indices where i < total.count { total[i] += Double(v[i]) } }
        let ranked = total.indices.sorted { total[$0] != total[$1] ? total[$0] > total[$1] : $0 < $1 }
        let t1 = Set(run.manifest.t1Ids)
        var picks: [Int] = []
        for id in ranked where t1.contains(id) && picks.count < count / 2 { picks.append(id) }
        for id in ranked where !picks.contains(id) && picks.count < count { picks.append(id) }
        picks.sort { total[$0] != total[$1] ? total[$0] > total[$1] : $0 < $1 }
        let exact = try ExactT1(run)
        let t1Position = exact.map { e in Dictionary(uniqueKeysWithValues: e.ids.enumerated().map { ($1, $0) }) } ?? [:]
        var steps: [Int] = []
        var values = [[Double]](repeating: [], count: picks.count)
        var exactValues = [[Double]](repeating: [], count: picks.count)
        try run.forEachSnapshot { row, v, _ in
            steps.append(row + 1)
            for (k, id) in picks.enumerated() {
                values[k].append(Double(v[id]))
                if let i = t1Position[id], let w = exact?.after(row: row, i) { exactValues[k].append(Double(w)) }
            }
        }
        return picks.enumerated().map { k, id in
            let q = Double(run.manifest.layers[run.layer(of: id).layer].trajectoryQuantum)
            return WeightTrajectory(name: run.parameterName(id), steps: steps, values: values[k], quantum: q,
                                    exact: exactValues[k].count == steps.count ? exactValues[k] : [])
        }
    }

    // MARK: - Comparison

    /// Both runs' curves and ‖ŵ_A − ŵ_B‖₂ at the snapshot rows both recorded.
    /// - Complexity: O(P · snapshots of both runs).
    package static func comparison(_ a: RunReportSource, _ b: RunReportSource, curves: TrainingCurves) throws -> RunComparison {
        var snapshotsB: [(row: Int, values: [Float])] = []
        // Only B's rows that A also has are kept; the decoded vectors are P floats each.
        var rowsA = Set<Int>()
        try a.forEachSnapshot { row, _, _ in rowsA.insert(row) }
        try b.forEachSnapshot { row, v, _ in if rowsA.contains(row) { snapshotsB.append((row, v)) } }
        var distanceSteps: [Int] = [], distance: [Double] = []
        var next = 0
        try a.forEachSnapshot { row, v, _ in
            while next < snapshotsB.count, snapshotsB[next].row < row { next += 1 }
            guard next < snapshotsB.count, snapshotsB[next].row == row, snapshotsB[next].values.count == v.count else { return }
            var sum = 0.0
            for i in v.indices { let d = Double(v[i]) - Double(snapshotsB[next].values[i]); sum += d * d }
            distanceSteps.append(row + 1)
            distance.append(sum.squareRoot())
        }
        return RunComparison(nameA: a.name, nameB: b.name, a: curves, b: try trainingCurves(b),
                             distanceSteps: distanceSteps, distance: distance)
    }
}

extension RunReport {
    /// One line per row of the error-bound table: source, question, n, stated, coverage, median
    /// and worst error, verdict — what `kymo report` prints.
    /// - Complexity: O(table cells).
    package static func coverageSummary(_ model: ReportModel) -> [String] {
        var lines: [String] = []
        for section in model.sections where section.heading == "Error bounds" {
            for block in section.blocks {
                guard case let .table(table) = block else { continue }
                for row in table.rows {
                    let cells = row.map(\.formatted)
                    guard cells.count >= 11 else { continue }
                    lines.append("\(cells[0]) | \(cells[1]): n = \(cells[3]), stated \(cells[4]), coverage \(cells[5]) (95 % CI \(cells[6])), median error \(cells[7]), worst \(cells[8]), \(cells[10])")
                }
            }
        }
        return lines
    }
}
