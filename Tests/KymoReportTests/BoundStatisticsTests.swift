import Testing
@testable import KymoReport

@Suite struct BoundStatisticsTests {
    @Test func handComputedCoverageAndErrors() {
        // errors 0.5, 1, 2, 0; the third misses (truth 5 outside [6, 8]).
        let observations = [
            BoundedObservation(estimate: 1.5, lower: 0, upper: 2, truth: 1, confidence: 0.9),
            BoundedObservation(estimate: 3, lower: 1, upper: 4, truth: 2, confidence: 0.95),
            BoundedObservation(estimate: 7, lower: 6, upper: 8, truth: 5, confidence: 0.95),
            BoundedObservation(estimate: -1, lower: -1, upper: -1, truth: -1, confidence: 0.95),
        ]
        let stats = BoundStatistics(observations)
        #expect(stats.count == 4 && stats.covered == 3)
        #expect(stats.coverageRate == 0.75)
        #expect(stats.medianError == 0.75)
        #expect(stats.worstError == 2)
        #expect(stats.medianWidth == 2)  // widths 2, 3, 2, 0
        #expect(stats.statedConfidence == 0.9)
        #expect(stats.coverageInterval.lower < 0.75 && stats.coverageInterval.upper > 0.75)
    }

    @Test func oddMedianAndNaN() {
        #expect(BoundStatistics.median([3, 1, 2]) == 2)
        #expect(BoundStatistics.median([]) == 0)
        let stats = BoundStatistics([BoundedObservation(estimate: .nan, lower: 0, upper: 1, truth: 0.5)])
        #expect(stats.covered == 1 && stats.worstError == .infinity)
    }

    @Test func deterministicBoundMustCoverEverything() {
        let hit = BoundedObservation(estimate: 1, lower: 0.5, upper: 1.5, truth: 1)
        let miss = BoundedObservation(estimate: 1, lower: 0.5, upper: 1.5, truth: 2)
        #expect(BoundStatistics(Array(repeating: hit, count: 50)).holds)
        #expect(!BoundStatistics(Array(repeating: hit, count: 49) + [miss]).holds)
    }

    @Test func probabilisticBoundJudgedByWilsonInterval() {
        let hit = BoundedObservation(estimate: 1, lower: 0.5, upper: 1.5, truth: 1, confidence: 0.95)
        let miss = BoundedObservation(estimate: 1, lower: 0.5, upper: 1.5, truth: 2, confidence: 0.95)
        // 94 of 100 is consistent with 95 %; 80 of 100 is not.
        #expect(BoundStatistics(Array(repeating: hit, count: 94) + Array(repeating: miss, count: 6)).holds)
        #expect(!BoundStatistics(Array(repeating: hit, count: 80) + Array(repeating: miss, count: 20)).holds)
        let w = BoundStatistics.wilson(successes: 0, trials: 0)
        #expect(w.lower == 0 && w.upper == 1)
        let all = BoundStatistics.wilson(successes: 10, trials: 10)
        #expect(all.upper == 1 && all.lower > 0.6 && all.lower < 0.8)  // 0.722 for n = 10
    }

    @Test func movingAverageSkipsNonFinite() {
        #expect(movingAverage([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
        #expect(movingAverage([1, .nan, 3], window: 2) == [1, 1, 3])
    }
}
