import Foundation
import KymoEngine
import KymoRecorder
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoQuery

/// End to end on runs the real recorder writes (`Recording`, as `kymo record` drives it): two small
/// digits runs (64-24-10, momentum, 3 epochs, seeds 7 and 8) recorded into a temporary lab, read
/// back through `StoreRunData`, checked against the exact truth of the same training re-run in
/// memory (`ExactRunData`: training is deterministic, so it is the recorded run bit for bit) and
/// against replay (`StoreReplayProvider`).
final class RecordedLab: @unchecked Sendable {
    let directory: TemporaryDirectory
    let lab: Lab
    let config: TrainingConfig
    /// The recorded runs, read from the store.
    let r1: StoreRunData
    let r2: StoreRunData
    let runs: RunSet
    /// The same training as r1, recorded completely in memory (every weight in T1).
    let truth: ExactRunData
    let truth2: ExactRunData

    static let shared = try! RecordedLab()

    static func config(seed: UInt64) throws -> TrainingConfig {
        var c = TrainingConfig(model: try ModelSpec(layers: "64,24,10"))
        c.data = "digits"
        c.optimizer.kind = .momentum
        c.optimizer.learningRate = 0.05
        c.batchSize = 64
        c.epochs = 3
        c.seed = seed
        return c
    }

    static func record(_ config: TrainingConfig, lab: Lab, name: String) throws -> TrainingSession {
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.commitEverySteps = 10
        o.probeEvery = 10
        let session = try TrainingSession(config: config)
        let recording = try Recording(session: session, lab: lab, runName: name, options: o)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
        return session
    }

    init() throws {
        directory = try TemporaryDirectory()
        lab = try Lab(path: directory.path + "/lab")
        config = try Self.config(seed: 7)
        let s1 = try Self.record(config, lab: lab, name: "r1")
        let config2 = try Self.config(seed: 8)
        let s2 = try Self.record(config2, lab: lab, name: "r2")
        r1 = try StoreRunData(reader: try lab.openRun("r1"))
        r2 = try StoreRunData(reader: try lab.openRun("r2"))
        runs = RunSet(runs: [("r1", r1), ("r2", r2)], defaultRun: "r1")
        var options = ExactRunData.Options()
        options.t1Fraction = 1
        options.probeEvery = 10
        truth = try ExactRunData(name: "r1", config: config, training: s1.trainer.training, probe: s1.probe, options: options)
        truth2 = try ExactRunData(name: "r2", config: config2, training: s2.trainer.training, probe: s2.probe, options: options)
    }

    func executor(replay: Bool = false) -> Executor {
        Executor(runs: runs, replay: replay ? StoreReplayProvider(lab: lab) : nil)
    }

    func execute(_ text: String, replay: Bool = false) throws -> Execution {
        try executor(replay: replay).execute(try Parser.parse(text))
    }

    /// The truth's executor: every weight exact (T1 holds all of them).
    func executeTruth(_ text: String) throws -> Execution {
        try Executor(runs: RunSet(runs: [("r1", truth), ("r2", truth2)], defaultRun: "r1")).execute(try Parser.parse(text))
    }
}

/// The five study questions of docs/QUERY.md, phrased for the small runs.
enum StudyQuestions {
    static let q1 = "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[3,20] IN EPOCH 2 FROM RUN r1"
    static let q2 = "TOP 10 WEIGHTS IN fc1 BY SUM ABS DELTA IN EPOCHS 1..3 FROM RUN r1"
    static let q3 = "COMPARE RUNS r1, r2 AT STEP 40 SHOW LOSS, PROBE ACCURACY, WEIGHT DISTANCE"
    static let q4 = "LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT >= 0.01 EXCEEDS 2.5% IN EPOCH 2 FROM RUN r1"
    static let q5 = "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT fc2[3,7] IN EPOCHS 1..3 UNTIL ABS VALUE <= 1e-4 FROM RUN r1"
    static let all = [q1, q2, q3, q4, q5]
}

@Suite(.serialized) struct RecordedRunTests {
    var fixture: RecordedLab { RecordedLab.shared }

    static func estimates(_ row: [Cell]) -> [Estimate] {
        row.compactMap { if case .estimate(let e) = $0 { return e } else { return nil } }
    }

    static func integers(_ row: [Cell]) -> [Int] {
        row.compactMap { if case .integer(let i) = $0 { return i } else { return nil } }
    }

    @Test func storeMatchesTheRecordingsShape() throws {
        let c = fixture.r1.catalog
        #expect(c.layout.count == 64 * 24 + 24 + 24 * 10 + 10)
        #expect(c.steps == fixture.truth.catalog.steps)
        #expect(c.isFinished)
        #expect(c.stepsPerEpoch == fixture.truth.catalog.stepsPerEpoch)
        #expect(!c.t1Ids.isEmpty)
        #expect(c.trajectorySteps.count > 1)
        #expect(c.checkpointSteps.first == 0 && c.checkpointSteps.last == c.steps)
        // The re-run in memory is the recorded run: final weights equal bit for bit.
        let stored = try #require(try fixture.r1.checkpointWeights(step: c.steps))
        #expect(stored.map(\.bitPattern) == fixture.truth.truthWeights(after: c.steps).map(\.bitPattern))
        #expect(try fixture.r1.batch(step: 5) == fixture.truth.truthBatch(step: 5))
    }

    @Test(arguments: StudyQuestions.all)
    func eachQuestionAnswersFromTheStore(_ text: String) throws {
        let execution = try fixture.execute(text)
        #expect(!execution.answer.rows.isEmpty, "\(text): \(execution.answer.notes)")
        #expect(!execution.answer.notes.contains { $0.hasPrefix("replay needed") }, "\(text)")
        for row in execution.answer.rows {
            for e in Self.estimates(row) {
                #expect(e.lower <= e.value && e.value <= e.upper, "\(text): \(e)")
                #expect(e.source != .replay)
            }
        }
    }

    @Test func t1ValuesAndContributionsAreExactBitForBit() throws {
        let c = fixture.r1.catalog
        let b = c.batchSize
        for t in [1, 2, c.stepsPerEpoch, c.stepsPerEpoch + 1, c.steps] {
            let t1 = try #require(try fixture.r1.t1(step: t))
            let before = fixture.truth.truthWeights(after: t - 1), after = fixture.truth.truthWeights(after: t)
            let batch = try fixture.r1.batch(step: t).count
            for (i, id) in c.t1Ids.enumerated() {
                #expect(t1.value[i].bitPattern == before[id].bitPattern, "w before step \(t), id \(id)")
                // t1/update is Δw as the engine computed it; applying it gives w_t bit for bit.
                #expect((before[id] + t1.update[i]).bitPattern == after[id].bitPattern, "w + Δw at step \(t), id \(id)")
                for s in 0..<batch {
                    let truth = fixture.truth.truthContribution(step: t, position: s, parameter: id)
                    #expect(t1.contributions[i * batch + s].bitPattern == truth.bitPattern, "c at step \(t), id \(id), position \(s)")
                }
            }
            _ = b
        }
    }

    @Test func trajectoryBoundsCoverTheTruth() throws {
        let c = fixture.r1.catalog
        var checked = 0
        for (index, step) in c.trajectorySteps.enumerated() {
            let row = try #require(try fixture.r1.trajectory(index: index))
            let truth = fixture.truth.truthWeights(after: step)
            for id in stride(from: 0, to: c.layout.count, by: 7) {
                #expect(abs(Double(row.values[id]) - Double(truth[id])) <= Double(row.bounds[id]), "step \(step), id \(id)")
                checked += 1
            }
            // The partial decoder gives the same values as the whole row.
            let ids = [3, 100, 1000, c.layout.count - 1]
            let part = try #require(try fixture.r1.trajectoryValues(index: index, ids: ids))
            #expect(part.values.map(\.bitPattern) == ids.map { row.values[$0].bitPattern })
        }
        #expect(checked > 100)
    }

    /// Question 1 for many weights (most not in T1): every listed sample's interval holds its
    /// exact total contribution over the epoch.
    @Test func contributionBoundsCoverTheTruth() throws {
        let c = fixture.r1.catalog
        let epoch = 2
        let steps = c.steps(ofEpoch: epoch)
        var covered = 0, total = 0
        for id in stride(from: 5, to: c.layout.count, by: 97) {
            let name = c.layout.name(of: id)
            let execution = try fixture.execute("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH \(epoch) FROM RUN r1")
            var truth: [Int: Double] = [:]
            for t in steps {
                for (s, sample) in fixture.truth.truthBatch(step: t).enumerated() {
                    truth[sample, default: 0] += Double(fixture.truth.truthContribution(step: t, position: s, parameter: id))
                }
            }
            for row in execution.answer.rows {
                let sample = Self.integers(row)[0]
                let e = Self.estimates(row)[0]
                total += 1
                let x = truth[sample] ?? 0
                let slack = 1e-6 * (abs(x) + e.upper - e.lower) + 1e-12
                if e.lower - slack <= x && x <= e.upper + slack { covered += 1 } else { Issue.record("\(name) sample \(sample): truth \(x) outside [\(e.lower), \(e.upper)] (\(e.source))") }
            }
        }
        #expect(total > 20)
        #expect(covered == total)
    }

    /// With EXACT, each question gives the answer the exact truth gives (replay where no recorded
    /// source is exact): the same samples, weights and steps, and the same values.
    @Test(arguments: [StudyQuestions.q1, StudyQuestions.q2, StudyQuestions.q3])
    func exactAnswersEqualTheTruth(_ text: String) throws {
        let exact = try fixture.execute(text + " EXACT", replay: true)
        let truth = try fixture.executeTruth(text + " EXACT")
        #expect(exact.answer.rows.count == truth.answer.rows.count, "\(text): \(exact.answer.notes) vs \(truth.answer.notes)")
        for (a, b) in zip(exact.answer.rows, truth.answer.rows) {
            // Labels are not in the store (the truth knows them): compare ids, steps and values.
            let ia = Self.integers(a), ib = Self.integers(b)
            if text.hasPrefix("COMPARE") || text.hasPrefix("LAST") {
                #expect(ia.first == ib.first, "\(text)")
                #expect(ia.last == ib.last, "\(text)")
            } else {
                #expect(ia.first == ib.first, "\(text)")
            }
            for (x, y) in zip(Self.estimates(a), Self.estimates(b)) {
                #expect(x.lower == x.upper, "\(text): \(x)")
                #expect(abs(x.value - y.value) <= 1e-9 * max(1, abs(y.value)), "\(text): \(x.value) vs \(y.value)")
            }
        }
        for row in exact.answer.rows where !text.hasPrefix("COMPARE") && !text.hasPrefix("TOP 10 WEIGHTS") {
            for e in Self.estimates(row) { #expect(e.source == .exact || e.source == .replay) }
        }
    }

    /// Question 5 with EXACT (fc2[3,7] is not in T1: replay) gives the samples and Σ|c| the exact
    /// contributions give, over the window up to the crossing (or the whole window).
    @Test func exactQuestion5EqualsTheTruth() throws {
        let exact = try fixture.execute(StudyQuestions.q5 + " EXACT", replay: true)
        let c = fixture.r1.catalog
        let id = try c.layout.id(named: "fc2[3,7]")
        #expect(!c.isT1(id))
        var end = c.steps
        for t in 1...c.steps where abs(fixture.truth.truthWeights(after: t)[id]) <= 1e-4 { end = t; break }
        var sums: [Int: Double] = [:]
        for t in 1...end {
            for (p, sample) in fixture.truth.truthBatch(step: t).enumerated() {
                sums[sample, default: 0] += Double(abs(fixture.truth.truthContribution(step: t, position: p, parameter: id)))
            }
        }
        let top = sums.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
        #expect(exact.answer.rows.map { Self.integers($0).first! } == top.map(\.key), "\(exact.answer.notes)")
        for (row, truth) in zip(exact.answer.rows, top) {
            let e = Self.estimates(row)[0]
            #expect(e.source == .replay && e.lower == e.upper)
            #expect(abs(e.value - truth.value) <= 1e-12 * max(1, truth.value))
        }
    }

    /// Question 4 with EXACT (T = 0.01 is not a record-time threshold, so replay counts |g|) gives
    /// the first step and the samples the exact gradients give.
    @Test func exactQuestion4EqualsTheTruth() throws {
        let exact = try fixture.execute(StudyQuestions.q4 + " EXACT", replay: true)
        let c = fixture.r1.catalog
        var event: Int?
        for t in c.steps(ofEpoch: 2) {
            let g = fixture.truth.truthGradient(step: t)
            let above = g.reduce(0) { $0 + (abs($1) >= 0.01 ? 1 : 0) }
            if Double(above) / Double(g.count) > 0.025 { event = t; break }
        }
        let t = try #require(event)
        #expect(exact.answer.notes.contains { $0.contains("event at step \(t)") && $0.contains("replay") }, "\(exact.answer.notes)")
        var expected: [(Int, Int)] = []
        var step = t
        while expected.count < 8 && step >= 1 {
            for sample in fixture.truth.truthBatch(step: step).reversed() where expected.count < 8 { expected.append((sample, step)) }
            step -= 1
        }
        #expect(exact.answer.rows.map { Self.integers($0).first! } == expected.map(\.0))
        #expect(exact.answer.rows.map { Self.integers($0).last! } == expected.map(\.1))
    }

    /// Replay's per-sample contributions equal T1's recorded ones bit for bit for the T1 weights.
    @Test func replayEqualsT1BitForBit() throws {
        let c = fixture.r1.catalog
        let ids = Array(c.t1Ids.prefix(12))
        let steps = c.steps(ofEpoch: 2)
        let provider = StoreReplayProvider(lab: fixture.lab)
        let replayed = try provider.replay(run: fixture.r1, steps: steps, weights: ids)
        for t in steps {
            let r = try #require(try replayed.t1(step: t))
            let s = try #require(try fixture.r1.t1(step: t))
            let b = try fixture.r1.batch(step: t).count
            #expect(try replayed.batch(step: t) == fixture.r1.batch(step: t))
            for (j, id) in ids.enumerated() {
                let i = try #require(c.t1Index(of: id))
                #expect(r.value[j].bitPattern == s.value[i].bitPattern, "w at step \(t), id \(id)")
                // Replay gives w after the step; T1's Δw applied to w gives the same bits.
                #expect((r.value[j] + r.update[j]).bitPattern == (s.value[i] + s.update[i]).bitPattern, "w after step \(t), id \(id)")
                for p in 0..<b {
                    // Replay and the recorder's T1 both compute the engine's c = k·(δ·a)
                    // (StepTrace.contribution): equal bit for bit.
                    let truth = fixture.truth.truthContribution(step: t, position: p, parameter: id)
                    #expect(r.contributions[j * b + p].bitPattern == truth.bitPattern, "c at step \(t), id \(id), position \(p)")
                    #expect(r.contributions[j * b + p].bitPattern == s.contributions[i * b + p].bitPattern, "c at step \(t), id \(id), position \(p)")
                }
            }
        }
        #expect(provider.replays == 1)
    }

    /// The planner replays on its own when no recorded source meets WITHIN, and --explain shows
    /// the replay's cost.
    @Test func plannerChoosesReplayWhenNothingRecordedMeetsWithin() throws {
        let c = fixture.r1.catalog
        let id = try #require(c.layout.layers[1].weightRange.first { !c.isT1($0) })
        let execution = try fixture.execute("TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT \(c.layout.name(of: id)) IN EPOCH 1 FROM RUN r1 WITHIN 1e-12", replay: true)
        let plan = try #require(execution.plans.first)
        let chosen = try #require(plan.chosen)
        #expect(plan.candidates[chosen].source == .replay)
        #expect(plan.explained().contains("replay"))
        #expect(execution.answer.rows.allSatisfy { Self.estimates($0).allSatisfy { $0.source == .replay && $0.lower == $0.upper } })
        #expect(execution.answer.rows.count == 3)
    }

    /// Live: a query sees the last commit while the run is still being recorded.
    @Test func queriesSeeTheLastCommitWhileRecording() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.commitEverySteps = 10
        let recording = try Recording(session: try TrainingSession(config: try RecordedLab.config(seed: 3)), lab: lab, runName: "live", options: o)
        for _ in 0..<25 { try recording.step() }
        // The recorder thread commits every 10 steps it has processed; it may lag training by up
        // to the pipeline's 16 slots (debug builds: it does), so wait for its first commit.
        var data = try StoreRunData(reader: try lab.openRun("live"))
        let deadline = Date().addingTimeInterval(30)
        while data.catalog.steps < 10 && Date() < deadline {
            usleep(20_000)
            data = try StoreRunData(reader: try lab.openRun("live"))
        }
        let executor = Executor(runs: RunSet(runs: [("live", data)]))
        let query = try Parser.parse("LAST 4 SAMPLES BEFORE LOSS > 0")
        let seen = data.catalog.steps
        #expect(seen >= 10 && seen <= 25)
        #expect(!data.catalog.isFinished)
        let first = try executor.execute(query)
        #expect(first.answer.rows.count == 4)
        for _ in 0..<30 { try recording.step() }
        try recording.finish()
        #expect(try data.refresh())
        #expect(data.catalog.steps == recording.trainer.completedSteps)
        #expect(data.catalog.steps > seen)
        #expect(data.catalog.isFinished)
        let second = try executor.execute(try Parser.parse("LAST 4 SAMPLES BEFORE LOSS > 100"))
        #expect(second.answer.notes.contains { $0.contains("steps 1..\(data.catalog.steps)") })
    }
}
