import Foundation
import KymoEngine
import KymoRecorder
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoQuery

/// The factored source (T3): a digits run recorded with the factors of epoch 2 answers "which
/// samples moved this weight" for weights outside T1, and every sample's stated interval holds
/// the exact contribution of the same training re-run in memory (`ExactRunData`, every weight
/// in T1: training is deterministic, so it is the recorded run bit for bit).
@Suite(.serialized) struct FactoredSourceTests {
    final class Fixture: @unchecked Sendable {
        let directory: TemporaryDirectory
        let runs: RunSet
        let truth: ExactRunData
        let t1Ids: [Int]

        static let shared = try! Fixture()

        init() throws {
            directory = try TemporaryDirectory()
            let lab = try Lab(path: directory.path + "/lab")
            let config = try RecordedLab.config(seed: 7)
            var o = RecordingOptions()
            o.budget = .bytesPerEpoch(16_000_000)
            o.commitEverySteps = 7   // commits cut T3 chunks at odd places
            o.probeEvery = 10
            o.tiers = [.t1, .t2, .t3]
            o.factorEpochs = [1]
            let session = try TrainingSession(config: config)
            let recording = try Recording(session: session, lab: lab, runName: "f", options: o)
            while !recording.trainer.isFinished { try recording.step() }
            try recording.finish()
            let stored = try StoreRunData(reader: try lab.openRun("f"))
            runs = RunSet(runs: [("f", stored)], defaultRun: "f")
            t1Ids = stored.catalog.t1Ids
            var options = ExactRunData.Options()
            options.t1Fraction = 1
            options.probeEvery = 10
            truth = try ExactRunData(name: "f", config: config, training: session.trainer.training, probe: session.probe, options: options)
        }
    }

    var fixture: Fixture { Fixture.shared }

    /// sample → (value, lower, upper, source) of every row of an answer with a sample column.
    static func bySample(_ answer: Answer) -> [Int: Estimate] {
        var result: [Int: Estimate] = [:]
        for row in answer.rows {
            guard case .integer(let sample)? = row.first(where: { if case .integer = $0 { return true } else { return false } }),
                  case .estimate(let e)? = row.first(where: { if case .estimate = $0 { return true } else { return false } }) else { continue }
            result[sample] = e
        }
        return result
    }

    /// Weights of both layers and biases, none sampled in T1.
    var weights: [String] {
        let layers = fixture.truth.catalog.layout.layers
        let candidates: [(String, Int)] = [
            ("fc1[3,20]", layers[0].weightOffset + 3 * 64 + 20), ("fc1[17,5]", layers[0].weightOffset + 17 * 64 + 5),
            ("fc2[4,11]", layers[1].weightOffset + 4 * 24 + 11), ("fc2.bias[6]", layers[1].biasOffset + 6),
            ("fc1.bias[0]", layers[0].biasOffset),
        ]
        return candidates.filter { !fixture.t1Ids.contains($0.1) }.map(\.0)
    }

    @Test(arguments: ["CONTRIBUTION", "ABS CONTRIBUTION"])
    func everySamplesIntervalHoldsTheExactContribution(_ measure: String) throws {
        #expect(weights.count >= 3)
        for weight in weights {
            // Every sample of the epoch (k above the sample count), from the store and the truth.
            let text = "TOP 2000 SAMPLES BY \(measure) FOR WEIGHT \(weight) IN EPOCH 2"
            let stored = try Executor(runs: fixture.runs).execute(try Parser.parse(text))
            let exact = try Executor(runs: RunSet(runs: [("f", fixture.truth)], defaultRun: "f")).execute(try Parser.parse(text))
            let answer = Self.bySample(stored.answer), truth = Self.bySample(exact.answer)
            #expect(answer.count == truth.count && answer.count == fixture.truth.catalog.sampleCount, "\(text)")
            var widest = 0.0, largest = 0.0
            for (sample, t) in truth {
                let e = try #require(answer[sample], "\(text): sample \(sample) missing")
                #expect(e.source == .factored && e.confidence == 1)
                #expect(e.lower <= t.value && t.value <= e.upper, "\(text): sample \(sample) truth \(t.value) outside [\(e.lower), \(e.upper)]")
                widest = max(widest, e.upper - e.lower)
                largest = max(largest, abs(t.value))
            }
            // Float16 bounds: tight (≈ 2⁻¹⁰ of a sample's contributions), but not zero.
            #expect(widest > 0 && widest < 0.01 * largest, "\(text): widest interval \(widest), largest |c| \(largest)")
        }
    }

    @Test func epochsWithoutFactorsUseOtherSources() throws {
        let weight = try #require(weights.first)
        let execution = try Executor(runs: fixture.runs).execute(try Parser.parse("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(weight) IN EPOCH 1"))
        let factored = try #require(execution.plans.first?.candidates.first { $0.source == .factored })
        #expect(!factored.meetsTolerance && factored.detail.contains("not recorded"))
        #expect(execution.answer.rows.allSatisfy { row in
            row.allSatisfy { if case .estimate(let e) = $0 { return e.source != .factored } else { return true } }
        })
    }

    /// Adam's per-parameter scales are not in T3: the factored source is listed as unavailable and
    /// the question is answered from the other sources, without an error.
    @Test func adamRunsDoNotPlanTheFactoredSource() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        var config = try RecordedLab.config(seed: 11)
        config.optimizer.kind = .adam
        config.optimizer.learningRate = 0.01
        config.epochs = 2
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.tiers = [.t1, .t2, .t3]
        o.factorEpochs = [0]
        let recording = try Recording(session: try TrainingSession(config: config), lab: lab, runName: "adam", options: o)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
        let stored = try StoreRunData(reader: try lab.openRun("adam"))
        #expect(stored.catalog.factorEpochs == [1] && !stored.catalog.uniformContributionScale)
        let layers = stored.catalog.layout.layers
        let id = try #require((0..<(24 * 64)).map { layers[0].weightOffset + $0 }.first { !stored.catalog.t1Ids.contains($0) })
        let name = "fc1[\(id / 64),\(id % 64)]"
        let execution = try Executor(runs: RunSet(runs: [("adam", stored)], defaultRun: "adam"))
            .execute(try Parser.parse("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) IN EPOCH 1"))
        let factored = try #require(execution.plans.first?.candidates.first { $0.source == .factored })
        #expect(!factored.meetsTolerance && factored.detail.contains("Adam"))
        #expect(!execution.answer.rows.isEmpty)
    }
}
