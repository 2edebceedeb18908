import KymoEngine
import Testing
@testable import KymoQuery

/// Every stated bound must cover the exact answer of a fully recorded run (ExactRunData), at the
/// stated confidence. All bounds here are deterministic (confidence 1), so coverage must be 100 %.
@Suite struct BoundCoverageTests {
    let run = ExactRunFixture.a
    var executor: Executor { Executor(runs: ExactRunFixture.runs) }

    /// A spread of weights: every 7th parameter (weights and biases of both layers).
    var weights: [Int] { Array(stride(from: 0, to: run.catalog.layout.count, by: 7)) }

    @Test func contributionIntervalsCoverTruthForEverySource() throws {
        var checked = 0, t1Checked = 0, sampleExact = 0
        for id in weights {
            for e in 1...run.catalog.completeEpochs {
                let window = run.catalog.steps(ofEpoch: e)
                for absolute in [false, true] {
                    let truth = ExactRunFixture.truthSums(run, ids: [id], steps: window, absolute: absolute)
                    var sources: [(String, [(Int, Executor.SampleInterval)])] = [
                        ("sample", try executor.sampledIntervals([id], data: run, from: window.lowerBound, ends: window.upperBound...window.upperBound, absolute: absolute, orientation: 1)),
                    ]
                    let masses = try (e...e).map { try #require(try run.neuronMass(epoch: $0)) }
                    sources.append(("space-saving", try executor.massIntervals([id], data: run, window: window, sketches: masses, countMin: false, absolute: absolute)))
                    sources.append(("count-min", try executor.massIntervals([id], data: run, window: window, sketches: masses, countMin: true, absolute: absolute)))
                    if run.catalog.isT1(id) {
                        sources.append(("exact", try executor.exactIntervals([id], data: run, from: window.lowerBound, ends: window.upperBound...window.upperBound, absolute: absolute, orientation: 1)))
                        t1Checked += 1
                    }
                    for (name, intervals) in sources {
                        #expect(intervals.count == truth.count, "\(name): every sample of the epoch has an interval")
                        for (sample, interval) in intervals {
                            let x = try #require(truth[sample])
                            #expect(interval.lower <= x && x <= interval.upper,
                                    "\(name) w=\(id) e=\(e) abs=\(absolute) s=\(sample): \(x) ∉ [\(interval.lower), \(interval.upper)]")
                            if name == "exact" { #expect(abs(interval.value - x) <= 1e-12 * max(1, abs(x))) }
                            if name == "sample", interval.lower == interval.upper { sampleExact += 1 }
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 10_000)
        #expect(t1Checked > 0)
    }

    @Test func neuronGroupsAreCoveredToo() throws {
        let layout = run.catalog.layout
        let l = layout.layers[1]
        for row in 0..<l.outFeatures {
            let ids = Array((l.weightOffset + row * l.inFeatures)..<(l.weightOffset + (row + 1) * l.inFeatures)) + [l.biasOffset + row]
            let window = run.catalog.steps(ofEpoch: 2)
            let truth = ExactRunFixture.truthSums(run, ids: ids, steps: window, absolute: false)
            for (sample, i) in try executor.sampledIntervals(ids, data: run, from: window.lowerBound, ends: window.upperBound...window.upperBound, absolute: false, orientation: 1) {
                let x = try #require(truth[sample])
                #expect(i.lower <= x && x <= i.upper)
            }
        }
    }

    @Test func queryAnswersCoverTruth() throws {
        var rowsChecked = 0
        for id in weights.prefix(40) {
            let name = run.catalog.layout.name(of: id)
            for e in [1, 3] {
                let query = try Parser.parse("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH \(e)")
                let answer = try executor.execute(query).answer
                let truth = ExactRunFixture.truthSums(run, ids: [id], steps: run.catalog.steps(ofEpoch: e), absolute: false)
                #expect(answer.rows.count == 5)
                for row in answer.rows {
                    guard case .integer(let sample) = row[0], case .estimate(let est) = row[2] else { Issue.record("row shape"); continue }
                    #expect(est.covers(try #require(truth[sample])), "\(name) epoch \(e) sample \(sample)")
                    // T1 weights answer exactly; the others from the tightest sketch (sample or per-neuron mass).
                    if run.catalog.isT1(id) { #expect(est.source == .exact) } else { #expect(est.source != .exact && est.confidence == 1) }
                    rowsChecked += 1
                }
            }
        }
        #expect(rowsChecked == weights.prefix(40).count * 10)
    }

    @Test func exactTopSamplesMatchTheTrueRanking() throws {
        let id = try #require(run.catalog.t1Ids.first)
        let name = run.catalog.layout.name(of: id)
        let answer = try executor.execute(try Parser.parse("BOTTOM 4 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 2")).answer
        let truth = ExactRunFixture.truthSums(run, ids: [id], steps: run.catalog.steps(ofEpoch: 2), absolute: false)
        let expected = truth.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.prefix(4).map(\.key)
        #expect(answer.rows.map { $0[0] } == expected.map { .integer($0) })
    }

    @Test func fractionAboveBracketsTheTrueFirstStep() throws {
        var cases = 0, ambiguous = 0
        for theta: Float in [3e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2e-2] {
            for p in [0.05, 0.1, 0.2, 0.3, 0.5] {
                let window = 1...run.catalog.steps
                let scan = try Executor.fractionScan(run, window: window, theta: theta, exceeds: p, exactThreshold: nil)
                var truthFirst: Int?
                for t in window {
                    let g = run.truthGradient(step: t)
                    let f = Double(g.filter { abs($0) > theta }.count) / Double(g.count)
                    if let q = try run.gradientQuantiles(step: t) {
                        let r = q.fractionAbove(theta)
                        #expect(r.lowerBound <= f && f <= r.upperBound)
                    }
                    if f > p { truthFirst = t; break }
                }
                if let t = truthFirst {
                    let lo = try #require(scan.firstPossible)
                    #expect(lo <= t)
                    if let hi = scan.firstCertain { #expect(t <= hi) }
                    if scan.firstCertain != lo { ambiguous += 1 }
                } else {
                    #expect(scan.firstCertain == nil)
                }
                cases += 1
            }
        }
        #expect(cases == 30)
    }

    @Test func exactThresholdGivesTheTrueFirstStep() throws {
        let theta = run.catalog.thresholds[0]
        let scan = try Executor.fractionScan(run, window: 1...run.catalog.steps, theta: theta, exceeds: 0.2, exactThreshold: 0)
        var truthFirst: Int?
        for t in 1...run.catalog.steps {
            let g = run.truthGradient(step: t)
            if Double(g.filter { abs($0) > theta }.count) / Double(g.count) > 0.2 { truthFirst = t; break }
        }
        #expect(scan.firstPossible == truthFirst)
        #expect(scan.firstCertain == truthFirst)
    }

    @Test func weightDistanceBoundsCoverTruth() throws {
        let a = ExactRunFixture.a, b = ExactRunFixture.b
        var exactCount = 0
        for n in stride(from: 0, through: a.catalog.steps, by: 2) {
            let answer = try executor.execute(try Parser.parse("COMPARE RUNS a, b AT STEP \(n) SHOW WEIGHT DISTANCE")).answer
            let wa = a.truthWeights(after: n), wb = b.truthWeights(after: n)
            let truth = zip(wa, wb).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }.squareRoot()
            guard case .estimate(let est) = answer.rows[1][2] else { Issue.record("no distance at \(n)"); continue }
            #expect(est.covers(truth), "step \(n): \(truth) ∉ [\(est.lower), \(est.upper)]")
            if a.catalog.checkpointSteps.contains(n) { #expect(est.source == .exact); exactCount += 1 } else { #expect(est.source == .trajectory) }
        }
        #expect(exactCount >= 3)
    }

    @Test func trajectoryBoundsCoverEveryWeight() throws {
        for (i, t) in run.catalog.trajectorySteps.enumerated() {
            let row = try #require(try run.trajectory(index: i))
            let truth = run.truthWeights(after: t)
            for id in truth.indices { #expect(abs(row.values[id] - truth[id]) <= row.bounds[id]) }
        }
    }

    @Test func untilZeroCrossingAndContributionsCoverTruth() throws {
        var crossingsSeen = 0, t1Crossings = 0
        let layout = run.catalog.layout
        for id in 0..<layout.count where id % 3 == 0 {
            // Truth: the first step whose weight changes sign or is 0.
            let w0 = Double(run.truthWeights(after: 0)[id])
            var first: Int?
            for t in 1...run.catalog.steps {
                let w = Double(run.truthWeights(after: t)[id])
                if w == 0 || (w0 > 0 && w < 0) || (w0 < 0 && w > 0) { first = t; break }
            }
            guard let t = first else { continue }
            crossingsSeen += 1
            let (_, crossing) = try executor.crossing(of: id, until: .zero, window: 1...run.catalog.steps, data: run)
            let c = try #require(crossing, "weight \(layout.name(of: id)) crosses at \(t)")
            #expect(c.first <= t)
            if let last = c.last { #expect(t <= last) }
            if run.catalog.isT1(id) { #expect(c.first == t && c.last == t); t1Crossings += 1 }
            // The answer's contributions up to the crossing, oriented towards zero.
            let answer = try executor.execute(try Parser.parse("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(layout.name(of: id)) UNTIL ZERO")).answer
            let truth = ExactRunFixture.truthSums(run, ids: [id], steps: 1...t, absolute: false, sign: w0 < 0 ? 1 : -1)
            for row in answer.rows {
                guard case .integer(let s) = row[0], case .estimate(let est) = row[2] else { continue }
                #expect(est.covers(truth[s] ?? 0), "\(layout.name(of: id)) sample \(s)")
            }
        }
        #expect(crossingsSeen >= 5)
    }
}

/// The same coverage under Adam, whose contribution scale is per parameter (the mass sketches use
/// the row's largest |k|), with trajectory rows every 4 steps.
@Suite struct AdamBoundCoverageTests {
    let run = ExactRunFixture.adam
    var executor: Executor { Executor(runs: RunSet(runs: [("adam", ExactRunFixture.adam)])) }

    @Test func contributionIntervalsCoverTruth() throws {
        var checked = 0
        for id in stride(from: 0, to: run.catalog.layout.count, by: 11) {
            for e in 1...run.catalog.completeEpochs {
                let window = run.catalog.steps(ofEpoch: e)
                for absolute in [false, true] {
                    let truth = ExactRunFixture.truthSums(run, ids: [id], steps: window, absolute: absolute)
                    let masses = [try #require(try run.neuronMass(epoch: e))]
                    let sources = [
                        try executor.sampledIntervals([id], data: run, from: window.lowerBound, ends: window.upperBound...window.upperBound, absolute: absolute, orientation: 1),
                        try executor.massIntervals([id], data: run, window: window, sketches: masses, countMin: false, absolute: absolute),
                        try executor.massIntervals([id], data: run, window: window, sketches: masses, countMin: true, absolute: absolute),
                    ]
                    for intervals in sources {
                        for (sample, i) in intervals {
                            let x = try #require(truth[sample])
                            #expect(i.lower <= x && x <= i.upper, "w=\(id) e=\(e) s=\(sample)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 5_000)
    }

    @Test func valuesBetweenTrajectoryRowsNeedAnotherSource() throws {
        let nonT1 = (0..<run.catalog.layout.count).first { !run.catalog.isT1($0) }!
        let name = run.catalog.layout.name(of: nonT1)
        let answer = try executor.execute(try Parser.parse("SELECT VALUE FOR WEIGHT \(name) IN STEPS 1..20")).answer
        // Rows only where the trajectory has them (steps 4, 8, …), each covering the truth.
        #expect(answer.rows.map { $0[0] } == [4, 8, 12, 16, 20].map { .integer($0) })
        for row in answer.rows {
            guard case .integer(let t) = row[0], case .estimate(let e) = row[1] else { continue }
            #expect(e.covers(Double(run.truthWeights(after: t)[nonT1])))
        }
        let compare = try Executor(runs: RunSet(runs: [("adam", run), ("a", ExactRunFixture.a)])).execute(
            try Parser.parse("COMPARE RUNS adam, a AT STEP 7 SHOW WEIGHT DISTANCE")).answer
        #expect(compare.rows[0][2] == .missing)
        #expect(compare.notes.contains { $0.contains("replay needed") })
    }
}
