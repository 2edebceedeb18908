import KymoEngine
import Testing
@testable import KymoQuery

/// A replay stand-in: re-trains the same small run with every weight in T1 (bit-identical, since
/// training is deterministic).
final class RetrainingReplay: ReplayProvider {
    var replays = 0
    func cost(run: RunCatalog, steps: ClosedRange<Int>) -> Cost { Cost(seconds: Double(steps.count) * 1e-3, bytesRead: 1000) }
    func replay(run: any RunData, steps: ClosedRange<Int>, weights: [Int]) throws -> any RunData {
        replays += 1
        var options = ExactRunFixture.options
        options.t1Fraction = 1
        let name = run.catalog.name
        return ExactRunFixture.make(seed: name == "a" ? 1 : 2, name: name, options: options)
    }
}

@Suite struct PlannerTests {
    let run = ExactRunFixture.a
    var executor: Executor { Executor(runs: ExactRunFixture.runs) }
    var nonT1: Int { (0..<run.catalog.layout.count).first { !run.catalog.isT1($0) }! }
    var t1: Int { run.catalog.t1Ids[0] }

    func execute(_ text: String, replay: (any ReplayProvider)? = nil) throws -> Execution {
        var e = executor
        e.replay = replay
        return try e.execute(try Parser.parse(text))
    }

    @Test func meetsCoversEveryToleranceKind() {
        let exact = Source.exact, sketch = Source.sketch("count-min")
        #expect(Planner.meets(.absolute(0.01), confidence: 1, source: sketch, accuracy: .within(.number(0.02), confidence: nil), scale: nil))
        #expect(!Planner.meets(.absolute(0.03), confidence: 1, source: sketch, accuracy: .within(.number(0.02), confidence: nil), scale: nil))
        #expect(Planner.meets(.absolute(0.01), confidence: 1, source: sketch, accuracy: .within(.percent(5), confidence: nil), scale: 1))
        #expect(!Planner.meets(.absolute(0.01), confidence: 1, source: sketch, accuracy: .within(.percent(5), confidence: nil), scale: nil))
        #expect(!Planner.meets(.absolute(0.01), confidence: 0.9, source: sketch, accuracy: .within(.number(1), confidence: nil), scale: nil))
        #expect(!Planner.meets(.absolute(0.01), confidence: 0.97, source: sketch, accuracy: .within(.number(1), confidence: .percent(99)), scale: nil))
        #expect(Planner.meets(.absolute(0), confidence: 1, source: exact, accuracy: .exact, scale: nil))
        #expect(!Planner.meets(.absolute(0), confidence: 1, source: .trajectory, accuracy: .exact, scale: nil))
        #expect(!Planner.meets(.unknown, confidence: 1, source: exact, accuracy: nil, scale: nil))
    }

    @Test func withinPicksTheCheapestSourceThatMeetsIt() {
        let candidates = [
            Candidate(source: .exact, expectedError: .absolute(0), cost: Cost(seconds: 1, bytesRead: 10), meetsTolerance: false),
            Candidate(source: .sketch("a"), expectedError: .absolute(0.5), cost: Cost(seconds: 0.01, bytesRead: 10), meetsTolerance: false),
            Candidate(source: .sketch("b"), expectedError: .absolute(0.05), cost: Cost(seconds: 0.1, bytesRead: 10), meetsTolerance: false),
        ]
        #expect(Planner.plan(query: "q", accuracy: .within(.number(0.1), confidence: nil), candidates: candidates, scale: nil).chosen == 2)
        #expect(Planner.plan(query: "q", accuracy: .within(.number(1), confidence: nil), candidates: candidates, scale: nil).chosen == 1)
        #expect(Planner.plan(query: "q", accuracy: .within(.number(0.001), confidence: nil), candidates: candidates, scale: nil).chosen == 0)
        #expect(Planner.plan(query: "q", accuracy: nil, candidates: candidates, scale: nil).chosen == 0)
    }

    @Test func t1WeightIsAnsweredExactlyAndExplained() throws {
        let name = run.catalog.layout.name(of: t1)
        let execution = try execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 2 WITHIN 1e-9")
        let plan = try #require(execution.plans.first)
        #expect(plan.candidates[try #require(plan.chosen)].source == .exact)
        let text = plan.explained()
        #expect(text.hasPrefix("query: TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 2 WITHIN "))
        #expect(text.contains("chosen: exact (cheapest source whose bound meets the tolerance)"))
        #expect(text.contains("sketch:contribution-sample"))
        #expect(text.contains("replay"))
    }

    @Test func tightToleranceOnAnUnsampledWeightNeedsReplay() throws {
        let name = run.catalog.layout.name(of: nonT1)
        let execution = try execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 2 WITHIN 1e-12")
        let plan = try #require(execution.plans.first)
        #expect(plan.candidates[try #require(plan.chosen)].source == .replay)
        #expect(plan.explained().contains("no recorded source meets the tolerance; replay is needed"))
        #expect(execution.answer.rows.isEmpty)
        #expect(execution.answer.notes.contains { $0.hasPrefix("replay needed:") })
        #expect(execution.answer.notes.contains { $0.contains("would answer exactly") })
    }

    @Test func exactForcesReplayAndTheHookAnswersExactly() throws {
        let name = run.catalog.layout.name(of: nonT1)
        let replay = RetrainingReplay()
        let execution = try execute("TOP 4 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 3 EXACT", replay: replay)
        #expect(replay.replays == 1)
        let truth = ExactRunFixture.truthSums(run, ids: [nonT1], steps: run.catalog.steps(ofEpoch: 3), absolute: true)
        let expected = truth.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(4)
        #expect(execution.answer.rows.count == 4)
        for (row, (sample, value)) in zip(execution.answer.rows, expected) {
            #expect(row[0] == .integer(sample))
            guard case .estimate(let est) = row[2] else { Issue.record("no estimate"); continue }
            #expect(est.source == .replay && est.lower == est.upper && abs(est.value - value) <= 1e-12)
        }
    }

    @Test func looseToleranceTakesTheCheapestSketch() throws {
        let name = run.catalog.layout.name(of: nonT1)
        let plan = try #require(try execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 2 WITHIN 1000").plans.first)
        let chosen = plan.candidates[try #require(plan.chosen)]
        #expect(chosen.source == .sketch("space-saving"))
        #expect(plan.candidates.filter(\.meetsTolerance).allSatisfy { $0.cost.seconds >= chosen.cost.seconds })
    }

    @Test func topWeightsAreTheTrueRankingAndGroupsSum() throws {
        let answer = try execute("TOP 10 WEIGHTS BY SUM ABS DELTA").answer
        let p = run.catalog.layout.count
        var truth = [Double](repeating: 0, count: p)
        // Truth from the raw updates: Σ|Δw| per epoch in Float, step order; epochs added in Double.
        for e in 1...run.catalog.completeEpochs {
            var acc = [Float](repeating: 0, count: p)
            for t in run.catalog.steps(ofEpoch: e) { for i in 0..<p { acc[i] += abs(run.updates[t - 1][i]) } }
            for i in 0..<p { truth[i] += Double(acc[i]) }
        }
        let expected = truth.indices.sorted { truth[$0] != truth[$1] ? truth[$0] > truth[$1] : $0 < $1 }.prefix(10)
        #expect(answer.rows.map { $0[0] } == expected.map { .text(run.catalog.layout.name(of: $0)) })
        let byLayer = try execute("TOP 2 WEIGHTS BY SUM ABS DELTA GROUP BY LAYER").answer
        #expect(byLayer.rows.count == 2)
        let l1 = run.catalog.layout.layers[0].range.reduce(0.0) { $0 + truth[$1] }
        #expect(byLayer.rows.contains { row in
            if case .estimate(let e) = row[1], row[0] == .text("fc1") { return abs(e.value - l1) <= 1e-9 * l1 }
            return false
        })
    }

    @Test func clustersAreDeterministic() throws {
        let a = try execute("TOP 30 WEIGHTS BY SUM ABS DELTA CLUSTER 3 BY TRAJECTORY").answer
        let b = try execute("TOP 30 WEIGHTS BY SUM ABS DELTA CLUSTER 3 BY TRAJECTORY").answer
        #expect(a == b)
        let labels = Set(a.rows.compactMap { if case .integer(let c) = $0[2] { return c } else { return nil } })
        #expect(labels == [0, 1, 2])
    }

    @Test func selectMeanLossPerEpochMatchesTheLog() throws {
        let answer = try execute("SELECT MEAN LOSS PER EPOCH").answer
        #expect(answer.rows.count == run.catalog.epochs)
        let steps = run.catalog.steps(ofEpoch: 2)
        let truth = try run.scalars(steps: steps).reduce(0.0) { $0 + Double($1.loss) } / Double(steps.count)
        #expect(answer.rows[1] == [.integer(2), .estimate(.exact(truth))])
    }

    @Test func compareNotesTheProbeStep() throws {
        let answer = try execute("COMPARE RUNS a, b AT STEP 30 SHOW LOSS, PROBE ACCURACY").answer
        #expect(answer.rows.count == 2)
        #expect(answer.notes.contains { $0.contains("probe evaluated at step 28") })
    }

    @Test func lastSamplesBeforeALossEventAreTheBatchTail() throws {
        let threshold = try run.scalars(steps: 1...run.catalog.steps).map(\.loss).sorted()[run.catalog.steps / 2]
        let answer = try execute("LAST 20 SAMPLES BEFORE LOSS <= \(threshold)").answer
        let t = try run.scalars(steps: 1...run.catalog.steps).firstIndex { $0.loss <= threshold }! + 1
        let expected = (run.truthBatch(step: t - 1) + run.truthBatch(step: t)).suffix(20).reversed()
        #expect(answer.rows.map { $0[0] } == expected.map { .integer($0) })
    }

    @Test func unknownNamesAreErrors() throws {
        #expect(throws: QueryError.self) { try execute("TOP 3 WEIGHTS BY SUM ABS DELTA FROM RUN zz") }
        #expect(throws: QueryError.self) { try execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT fc9[0,0]") }
        #expect(throws: QueryError.self) { try execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,99]") }
    }
}

@Suite struct ExplainTextTests {
    @Test func explainShowsEverySourceAndTheChoice() throws {
        let execution = try Executor(runs: ExactRunFixture.runs).execute(try Parser.parse("LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT > 0.001 EXCEEDS 10% WITHIN 1%"))
        let text = try #require(execution.plans.first).explained()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "query: LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT > 0.001 EXCEEDS 10% WITHIN 1%")
        #expect(lines[1] == "tolerance: ±1% relative")
        #expect(lines[2] == "sources considered:")
        #expect(lines[5].hasPrefix("  *  exact ") && lines[5].contains("t0/above at θ = 0.001") && lines[5].hasSuffix("yes"))
        #expect(lines[6].hasPrefix("     sketch:ddsketch ") && lines[6].contains("|g| sketch per step"))
        #expect(lines[7].hasPrefix("     replay ") && lines[7].contains("(not available yet)"))
        #expect(lines[8] == "chosen: exact (cheapest source whose bound meets the tolerance)")
    }
}

@Suite struct SelectOverSamplesTests {
    @Test func countAndMeanOverSamplesMatchTheLog() throws {
        let run = ExactRunFixture.a
        let answer = try Executor(runs: ExactRunFixture.runs).execute(try Parser.parse(
            "SELECT COUNT SAMPLES, MEAN LOSS WHERE LOSS > 1 AND NOT CORRECT = 1 IN EPOCH 2")).answer
        var count = 0, sum = 0.0
        for t in run.catalog.steps(ofEpoch: 2) {
            let s = try run.samples(step: t)
            for i in s.ids.indices where s.loss[i] > 1 && s.correct[i] != 1 { count += 1; sum += Double(s.loss[i]) }
        }
        #expect(count > 0)
        #expect(answer.rows == [[.estimate(.exact(Double(count))), .estimate(.exact(sum / Double(count)))]])
    }
}
