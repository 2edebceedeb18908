import KymoEngine
@testable import KymoReplay
import Testing

@Suite struct SegmentReplayerTests {
    let f = Fixture.shared

    @Test func wholeRunReproducesEveryCheckpointHash() throws {
        var request = ReplayRequest(steps: 0..<f.totalSteps)
        request.parallelism = 1
        let result = try f.replayer.replay(request)
        let expected = f.source.checkpoints.map(\.step).filter { $0 > 0 }
        #expect(expected.count >= 7)
        #expect(result.verifiedCheckpoints == expected)
        #expect(result.executedSteps == f.totalSteps)
        #expect(result.segments.count == expected.count)
    }

    /// Printed by `kymo-ratios replay` from a release build (-O, FMA): the debug build must agree.
    static let releaseReferenceHashes: [UInt64] = [
        0x8ae3c0f0204b262a, 0xb65a2483272673ba, 0x974d2d11aacf118d, 0x398e6d0f0712c2c4, 0x9beb9d8d723222aa,
        0x190cf0853c06a315, 0x7c38da9a2fbd855c, 0x3cd7d4bcb25860d3, 0x17291f94deaa5491,
    ]

    @Test func debugBuildReproducesTheReleaseBuildsCheckpointHashes() throws {
        #expect(f.source.listedHashes == Self.releaseReferenceHashes)
        #expect(try ReplayBenchmark.referenceRunHashes() == Self.releaseReferenceHashes)
        let replayed = try f.replayer.replay(ReplayRequest(steps: 0..<f.totalSteps))
        #expect(replayed.verifiedCheckpoints.count == Self.releaseReferenceHashes.count - 1)
    }

    @Test func replayedContributionsEqualTheOriginalRunBitForBit() throws {
        var request = ReplayRequest(steps: 10..<33)
        request.contributionIDs = f.watched
        let result = try f.replayer.replay(request)
        let table = result.contributions
        #expect(table.ids == f.watched)
        var row = 0
        for t in 10..<33 {
            let original = f.original[t]
            for s in original.sampleIDs.indices {
                #expect(table.steps[row] == t)
                #expect(table.samples[row] == original.sampleIDs[s])
                for j in f.watched.indices {
                    #expect(table.value(row: row, column: j).bitPattern == original.contributions[s * f.watched.count + j].bitPattern)
                }
                row += 1
            }
        }
        #expect(row == table.rowCount)
        // Not all zero: the comparison could fail.
        #expect(table.values.contains { $0 != 0 })
    }

    @Test func momentumRunReplaysBitForBitInParallel() throws {
        let m = Fixture.momentum
        var request = ReplayRequest(steps: 0..<m.totalSteps)
        request.contributionIDs = m.watched
        request.parallelism = 2
        let result = try m.replayer.replay(request)
        #expect(result.verifiedCheckpoints == m.source.checkpoints.map(\.step).filter { $0 > 0 })
        let expected = m.original.flatMap(\.contributions)
        #expect(result.contributions.values.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(result.contributions.samples == m.original.flatMap(\.sampleIDs))
    }

    @Test func gradientsTrajectoryLossesAndCountsEqualTheOriginalRun() throws {
        var request = ReplayRequest(steps: 5..<30)
        request.gradientIDs = f.watched
        request.trajectoryIDs = f.watched
        request.losses = true
        request.gradientThresholds = [1e-4, 1e-3, 1e-2]
        let result = try f.replayer.replay(request)
        #expect(result.trajectoryInitial.map(\.bitPattern) == f.watched.map { f.original[5].before[$0].bitPattern })
        for (i, t) in (5..<30).enumerated() {
            let o = f.original[t]
            #expect(result.gradients[i].step == t)
            #expect(result.gradients[i].values.map(\.bitPattern) == f.watched.map { o.gradient[$0].bitPattern })
            #expect(result.trajectory[i].values.map(\.bitPattern) == f.watched.map { o.after[$0].bitPattern })
            #expect(result.losses[i].loss.bitPattern == o.loss.bitPattern)
            #expect(result.losses[i].sampleIDs == o.sampleIDs)
            #expect(result.losses[i].sampleLosses.map(\.bitPattern) == o.sampleLosses.map(\.bitPattern))
            let counts = [Float(1e-4), 1e-3, 1e-2].map { th in o.gradient.filter { abs($0) > th }.count }
            #expect(result.gradientCounts[i].counts == counts)
            #expect(result.gradientCounts[i].parameterCount == f.layout.count)
        }
    }

    @Test func question4FindsTheStepAndTheSamplesBeforeIt() throws {
        var request = ReplayRequest(steps: 0..<f.totalSteps)
        request.gradientThresholds = [1e-3]
        request.losses = true
        let result = try f.replayer.replay(request)
        // A fraction that some step exceeds but not the first: the median of the per-step fractions.
        let fractions = f.original.map { o in Double(o.gradient.filter { abs($0) > 1e-3 }.count) / Double(f.layout.count) }
        let p = fractions.sorted()[fractions.count / 2]
        let expectedStep = try #require(fractions.firstIndex { $0 > p })
        #expect(result.firstStep(threshold: 0, fractionAbove: p) == expectedStep)
        #expect(result.firstStep(threshold: 0, fractionAbove: 1) == nil)
        let step = max(expectedStep, 2)
        // The query's convention: the event step's own batch counts.
        let before = result.lastSamples(atOrBefore: step, k: 70)
        let fed = f.original[0...step].flatMap { o in o.sampleIDs.map { (o.step, $0) } }
        let expected = Array(fed.reversed().prefix(70))
        #expect(before.count == expected.count)
        #expect(zip(before, expected).allSatisfy { $0.step == $1.0 && $0.sample == $1.1 })
    }

    @Test func topSamplesMatchABruteForceOverTheOriginalRun() throws {
        let id = f.watched[3]
        var request = ReplayRequest(steps: 0..<f.totalSteps)
        for ranking in ContributionRanking.allCases { request.topSamples.append(TopSamplesQuery(parameter: id, k: 5, ranking: ranking)) }
        let result = try f.replayer.replay(request)
        // Brute force: per sample, Σ in step order in Double.
        var sums: [Int: (Double, Int)] = [:]
        let column = f.watched.firstIndex(of: id)!
        for o in f.original {
            for (s, sample) in o.sampleIDs.enumerated() {
                let c = Double(o.contributions[s * f.watched.count + column])
                sums[sample, default: (0, 0)].0 += c
                sums[sample, default: (0, 0)].1 += 1
            }
        }
        let totals = sums.keys.sorted().map { SampleContribution(sample: $0, total: Float(sums[$0]!.0), occurrences: sums[$0]!.1) }
        #expect(totals.allSatisfy { $0.occurrences == 2 })
        for top in result.topSamples {
            let key: (SampleContribution) -> Float = switch top.query.ranking {
            case .largest: { $0.total }
            case .smallest: { -$0.total }
            case .absolute: { abs($0.total) }
            }
            let expected = Array(totals.sorted { key($0) != key($1) ? key($0) > key($1) : $0.sample < $1.sample }.prefix(5))
            #expect(top.samples == expected)
        }
        #expect(result.topSamples[0].samples[0].total > 0)
        #expect(result.topSamples[1].samples[0].total < 0)
    }

    @Test func zeroCrossingIsTheFirstSignChangeWithItsContributions() throws {
        // Find a weight of fc2 that changes sign in the original run, after step 3.
        let range = 3..<f.totalSteps
        let candidates = f.layout.layers[1].weightRange
        var found: (id: Int, step: Int)?
        search: for id in candidates {
            for t in range {
                let (b, a) = (f.original[t].before[id], f.original[t].after[id])
                if b != 0, a == 0 || (a > 0) != (b > 0) { found = (id, t); break search }
            }
        }
        let (id, step) = try #require(found)
        var request = ReplayRequest(steps: range)
        request.zeroCrossings = [ZeroCrossingQuery(parameter: id, k: 3)]
        request.parallelism = 3
        let z = try #require(try f.replayer.replay(request).zeroCrossings.first)
        #expect(z.step == step)
        #expect(z.initialValue == f.original[3].before[id])
        #expect(z.valueBefore == f.original[step].before[id])
        #expect(z.steps.last == step)
        #expect(z.steps.first == 3)
        let expectedCount = f.original[3...step].reduce(0) { $0 + $1.sampleIDs.count }
        #expect(z.contributions.count == expectedCount)
        #expect(!z.towardZero.isEmpty && z.towardZero.count <= 3)
        #expect(z.towardZero.allSatisfy { ($0.total > 0) != (z.initialValue > 0) })
    }

    @Test func changeTotalsAreTheRunsUpdatesSummedPerSegment() throws {
        var request = ReplayRequest(steps: 3..<40)
        request.changeTotals = true
        request.parallelism = 1
        let result = try f.replayer.replay(request)
        let totals = try #require(result.changeTotals)
        // Recompute from the original run's parameters: per segment (3..<7, 7..<14, …) in Double.
        var absolute = [Double](repeating: 0, count: f.layout.count)
        var signed = [Double](repeating: 0, count: f.layout.count)
        for segment in result.segments {
            var a = [Double](repeating: 0, count: f.layout.count)
            var s = [Double](repeating: 0, count: f.layout.count)
            for t in segment where request.steps.contains(t) {
                for i in 0..<f.layout.count {
                    let u = f.original[t].update[i]
                    a[i] += Double(abs(u))
                    s[i] += Double(u)
                }
            }
            for i in 0..<f.layout.count { absolute[i] += a[i]; signed[i] += s[i] }
        }
        let expectedAbsolute = absolute.map { Float($0) }, expectedSum = signed.map { Float($0) }
        #expect(zip(totals.absoluteSum, expectedAbsolute).filter { $0.bitPattern != $1.bitPattern }.count == 0)
        #expect(zip(totals.sum, expectedSum).filter { $0.bitPattern != $1.bitPattern }.count == 0)
        #expect(totals.absoluteSum.count == f.layout.count && totals.absoluteSum.contains { $0 > 0 })
        let top = totals.largest(5)
        #expect(top.count == 5 && totals.absoluteSum[top[0]] >= totals.absoluteSum[top[4]])
        request.parallelism = 3
        #expect(try f.replayer.replay(request).changeTotals == totals)
    }

    @Test func parallelReplayEqualsSequential() throws {
        var request = ReplayRequest(steps: 4..<f.totalSteps - 2)
        request.contributionIDs = f.watched
        request.gradientIDs = [f.watched[0]]
        request.trajectoryIDs = f.watched
        request.losses = true
        request.gradientThresholds = [1e-3]
        request.topSamples = [TopSamplesQuery(parameter: f.watched[1], k: 4)]
        request.zeroCrossings = [ZeroCrossingQuery(parameter: f.watched[4], k: 2)]
        request.verifyThroughNextCheckpoint = true
        request.parallelism = 1
        let sequential = try f.replayer.replay(request)
        for workers in [2, 3, 5] {
            var parallel = request
            parallel.parallelism = workers
            let result = try f.replayer.replay(parallel)
            #expect(result.contributions == sequential.contributions)
            #expect(result.trajectory == sequential.trajectory)
            #expect(result.trajectoryInitial == sequential.trajectoryInitial)
            #expect(result.losses == sequential.losses)
            #expect(result.topSamples == sequential.topSamples)
            #expect(result.zeroCrossings == sequential.zeroCrossings)
            #expect(result.gradientCounts == sequential.gradientCounts)
            #expect(result.verifiedCheckpoints == sequential.verifiedCheckpoints)
        }
        // The tail beyond B ran (to the next checkpoint) but was not observed.
        #expect(sequential.verifiedCheckpoints.last == f.totalSteps)
        #expect(sequential.losses.last?.step == f.totalSteps - 3)
    }

    @Test func twoGEMMThreadsReproduceTheHashes() throws {
        var request = ReplayRequest(steps: 0..<f.totalSteps)
        request.trainerThreads = 2
        request.contributionIDs = f.watched
        let two = try f.replayer.replay(request)
        request.trainerThreads = 1
        let one = try f.replayer.replay(request)
        #expect(two.verifiedCheckpoints == f.source.checkpoints.map(\.step).filter { $0 > 0 })
        #expect(two.contributions == one.contributions)
    }

    @Test func groupsAreContiguousAndCoverEverySegment() {
        let segments = [0..<7, 7..<14, 14..<21, 21..<28, 28..<30]
        for w in 1...7 {
            let groups = SegmentReplayer.group(segments, into: w)
            #expect(groups.count == min(w, segments.count))
            #expect(groups.first?.lowerBound == 0)
            #expect(groups.last?.upperBound == segments.count)
            #expect(groups.allSatisfy { !$0.isEmpty })
            for (a, b) in zip(groups, groups.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        }
    }

    @Test func theRunsDataSetIsLoadedFromItsConfig() throws {
        let replayer = try SegmentReplayer(source: f.source)
        #expect(replayer.training.fingerprint == f.source.datasetFingerprint)
        var other = f.source
        other.runConfig.probeFraction = 0.2
        #expect(throws: ReplayError.self) { try SegmentReplayer(source: other) }
    }

    @Test func epochRangesFollowTheDataOrder() throws {
        let epoch1 = try f.replayer.steps(ofEpoch: 1)
        #expect(epoch1 == 26..<52)
        #expect(f.original[epoch1.lowerBound].step == 26)
        // Every training sample appears exactly once in an epoch's batches.
        #expect(f.original[epoch1].flatMap(\.sampleIDs).sorted() == Array(0..<f.training.count))
        #expect(throws: ReplayError.self) { try f.replayer.steps(ofEpoch: 2) }
    }

    @Test func planStartsAtTheNewestCheckpointAtOrBeforeA() throws {
        let plan = try f.replayer.plan(ReplayRequest(steps: 10..<22))
        #expect(plan.segments == [7..<14, 14..<21, 21..<22])
        #expect(plan.executedSteps == 15)
    }

    @Test func invalidRequestsAreRefused() {
        #expect(throws: ReplayError.self) { try f.replayer.plan(ReplayRequest(steps: 0..<(f.totalSteps + 1))) }
        var bad = ReplayRequest(steps: 0..<3)
        bad.contributionIDs = [f.layout.count]
        #expect(throws: ReplayError.invalidRequest("parameter id \(f.layout.count) is not in 0..<\(f.layout.count)")) { try f.replayer.plan(bad) }
        var k = ReplayRequest(steps: 0..<3)
        k.topSamples = [TopSamplesQuery(parameter: 0, k: 0)]
        #expect(throws: ReplayError.self) { try f.replayer.plan(k) }
    }

    @Test func costEstimateIsStepsTimesStepCost() throws {
        let request = ReplayRequest(steps: 10..<40)
        let modelled = try f.replayer.estimateCost(request)
        #expect(modelled.executedSteps == 33)
        #expect(modelled.observedSteps == 30)
        #expect(!modelled.measured)
        let restore = ReplayCostModel.restoreSeconds(parameters: f.layout.count, stateFloats: f.config.optimizer.kind.slotCount)
        #expect(abs(modelled.sequentialSeconds - (33 * SegmentReplayer.modelledSecondsPerStep(config: f.config) + Double(modelled.workers) * restore)) < 1e-12)
        #expect(modelled.parallelSeconds < modelled.sequentialSeconds)
        let perStep = try f.replayer.measureSecondsPerStep(steps: 2)
        #expect(perStep > 0)
        let measured = try f.replayer.estimateCost(request, secondsPerStep: perStep)
        #expect(measured.measured)
        #expect(measured.description.hasPrefix("replay: 33 steps (30 observed) in 5 segments on 2 workers"))
        #expect(measured.description.contains("measured"))
    }

    /// The FLOP model counts forward, weight-gradient and input-gradient GEMMs (none for the first
    /// layer's input), and the step time is measured where the run recorded one.
    @Test func flopModelCountsTheStepsGemms() {
        // 64-24-10, B 32: forward 2·32·(64·24 + 24·10), weight grads the same, input grad of fc2 only.
        let forward = 2.0 * 32 * Double(64 * 24 + 24 * 10)
        #expect(ReplayCostModel.flopsPerStep(widths: [64, 24, 10], batch: 32) == 2 * forward + 2.0 * 32 * Double(24 * 10))
        #expect(ReplayCostModel.secondsPerStep(measured: 2e-3, widths: [64, 24, 10], batch: 32) == 2e-3)
        let modelled = ReplayCostModel.secondsPerStep(measured: nil, widths: [64, 24, 10], batch: 32)
        #expect(modelled > ReplayCostModel.flopsPerStep(widths: [64, 24, 10], batch: 32) / ReplayCostModel.flopsPerSecond)
        #expect(modelled < 1e-3)
        #expect(ReplayCostModel.widths(of: ParameterLayout(widths: [784, 256, 128, 10])) == [784, 256, 128, 10])
    }
}
