import KymoEngine
import KymoReplay
import KymoTestSupport
import Testing
@testable import KymoQuery

/// The problems the studies found (docs/STUDIES.md): replay cost estimates, the source chosen
/// without a tolerance, and LAST … BEFORE's convention against replay's.
/// In `RecordedRunTests` (serialized): the shared lab's readers are not used from two threads.
extension RecordedRunTests {
    /// The largest distance from a stated value to its bounds.
    static func maxDeviation(_ estimates: [Estimate]) -> Double {
        estimates.reduce(0) { max($0, $1.value - $1.lower, $1.upper - $1.value) }
    }

    /// A run recorded without a measured step time is planned with the FLOP model; a replay's cost
    /// includes loading the data set only until the provider has it.
    @Test func replayCostUsesTheStepModelAndTheDataLoad() throws {
        let c = fixture.r1.catalog
        #expect(c.secondsPerStep == ReplayCostModel.secondsPerStep(widths: [64, 24, 10], batch: 64))
        let provider = StoreReplayProvider(lab: fixture.lab)
        let steps = c.steps(ofEpoch: 2)
        let before = provider.cost(run: c, steps: steps)
        _ = try provider.replay(run: fixture.r1, steps: steps, weights: [c.t1Ids[0]])
        let after = provider.cost(run: c, steps: steps)
        let load = ReplayCostModel.dataLoadSeconds(samples: c.sampleCount, features: 64)
        #expect(abs(before.seconds - after.seconds - load) < 1e-12)
        #expect(after.seconds >= Double(steps.count) * c.secondsPerStep)
    }

    /// Without a tolerance the chosen source states the smallest bound among the candidates that
    /// can answer, and each sketch's expected error is the bound its answer states.
    @Test(arguments: ["TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT %@ IN EPOCH 2 FROM RUN r1",
                      "TOP 8 SAMPLES BY ABS CONTRIBUTION FOR WEIGHTS fc2[*,*] IN EPOCH 2 FROM RUN r1"])
    func chosenSourceStatesTheTightestBound(_ template: String) throws {
        let c = fixture.r1.catalog
        let id = try #require(c.layout.layers[0].weightRange.first { !c.isT1($0) })
        let text = template.replacingOccurrences(of: "%@", with: c.layout.name(of: id))
        let execution = try fixture.execute(text)
        let plan = try #require(execution.plans.first)
        let chosen = try #require(plan.chosen)
        let meeting = plan.candidates.filter { $0.meetsTolerance && $0.source != .replay }
        #expect(meeting.count >= 2, "\(plan.explained())")
        guard case .absolute(let chosenError) = plan.candidates[chosen].expectedError else { Issue.record("no bound"); return }
        for other in meeting {
            guard case .absolute(let e) = other.expectedError else { continue }
            #expect(chosenError <= e, "\(plan.candidates[chosen].source) ±\(chosenError) vs \(other.source) ±\(e)")
        }
        // The bound the answer states is the one the planner compared.
        let stated = Self.maxDeviation(execution.answer.rows.flatMap(Self.estimates))
        #expect(stated <= chosenError * (1 + 1e-12))
        // Each sketch candidate's figure is the bound it would state: force it with WITHIN at
        // exactly its own figure... by reading the intervals it produces directly.
        let ids = text.contains("fc2[*,*]") ? Array(c.layout.layers[1].weightRange) : [id]
        let epoch = c.steps(ofEpoch: 2)
        let absolute = text.contains("ABS")
        let executor = fixture.executor()
        var masses: [NeuronMassSketches] = []
        if let m = try fixture.r1.neuronMass(epoch: 2) { masses.append(m) }
        for candidate in plan.candidates {
            guard case .absolute(let e) = candidate.expectedError else { continue }
            switch candidate.source {
            case .sketch("count-min"), .sketch("space-saving"):
                let intervals = try executor.massIntervals(ids, data: fixture.r1, window: epoch, sketches: masses,
                                                           countMin: candidate.source == .sketch("count-min"), absolute: absolute)
                let d = intervals.reduce(0) { max($0, $1.1.value - $1.1.lower, $1.1.upper - $1.1.value) }
                if candidate.detail.contains("at most") {
                    // Space-Saving's cap (it cannot be the most accurate): never below what it states.
                    #expect(e >= d * (1 - 1e-12), "\(candidate.source): cap \(e) vs stated \(d)")
                } else {
                    #expect(abs(d - e) <= 1e-12 * max(1, d), "\(candidate.source): \(e) vs stated \(d)")
                }
                #expect(candidate.boundsMagnitudeOnly)
            case .sketch("contribution-sample"):
                let intervals = try executor.sampledIntervals(ids, data: fixture.r1, from: epoch.lowerBound, ends: epoch.upperBound...epoch.upperBound,
                                                              absolute: absolute, orientation: 1)
                let d = intervals.reduce(0) { max($0, $1.1.value - $1.1.lower, $1.1.upper - $1.1.value) }
                // Intersected with the count-min bound it can only get tighter.
                #expect(e <= d * (1 + 1e-12), "contribution sample: \(e) vs unintersected \(d)")
                #expect(!candidate.boundsMagnitudeOnly)
            default: break
            }
        }
    }

    /// At equal bounds a source with an estimate ranks above one that bounds |c| only.
    @Test func boundsOnlyRanksBelowAnEstimateAtEqualWidth() {
        let cost = Cost(seconds: 1, bytesRead: 0)
        let candidates = [
            Candidate(source: .sketch("count-min"), expectedError: .absolute(0.5), cost: Cost(seconds: 0.1, bytesRead: 0), meetsTolerance: false, boundsMagnitudeOnly: true),
            Candidate(source: .sketch("contribution-sample"), expectedError: .absolute(0.5), cost: cost, meetsTolerance: false),
        ]
        let plan = Planner.plan(query: "q", accuracy: nil, candidates: candidates, scale: nil)
        #expect(plan.chosen == 1)
    }

    /// LAST K … BEFORE and `ReplayResult.lastSamples(atOrBefore:k:)` give the same samples: the
    /// event step's own batch first.
    @Test func lastSamplesAgreeBetweenQueryAndReplay() throws {
        let exact = try fixture.execute(StudyQuestions.q4 + " EXACT", replay: true)
        let note = try #require(exact.answer.notes.first { $0.hasPrefix("event at step ") })
        let t = try #require(Int(note.dropFirst("event at step ".count).prefix { $0.isNumber }))
        let replayer = try SegmentReplayer(source: try StoreCheckpointSource(lab: fixture.lab, run: "r1"))
        var request = ReplayRequest(steps: 0..<t)
        request.losses = true
        let result = try replayer.replay(request)
        let last = result.lastSamples(atOrBefore: t - 1, k: 8)
        #expect(last.count == 8)
        #expect(last.first?.step == t - 1)
        #expect(exact.answer.rows.map { Self.integers($0).first! } == last.map(\.sample))
        #expect(exact.answer.rows.map { Self.integers($0).last! } == last.map { $0.step + 1 })
    }
}

extension RecordedRunTests {
    /// Labels on a stored run come from its data set, loaded lazily and checked against the run's
    /// fingerprint: they equal the in-memory truth's, and answers show them.
    @Test func storedRunsShowLabels() throws {
        let r1 = try StoreRunData(reader: try fixture.lab.openRun("r1"))
        for sample in try r1.batch(step: 5) {
            #expect(r1.label(ofSample: sample) != nil)
            #expect(r1.label(ofSample: sample) == fixture.truth.label(ofSample: sample))
        }
        #expect(r1.labelProblem == nil)
        #expect(r1.label(ofSample: r1.catalog.sampleCount) == nil)
        let answer = try fixture.execute(StudyQuestions.q1).answer
        #expect(!answer.rows.isEmpty)
        #expect(answer.rows.allSatisfy { $0[1] != .missing })
    }
}
