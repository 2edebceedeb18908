import Testing
@testable import KymoReport

@Suite struct ScaleTests {
    private func labels(_ ticks: [Double]) -> [String] { ticks.map { NumberFormat.significant($0) } }

    @Test func niceNumbers() {
        #expect(Scale.niceNumber(0.0123, round: true) == 0.01)
        #expect(Scale.niceNumber(2.9, round: true) == 2)
        #expect(Scale.niceNumber(3.1, round: true) == 5)
        #expect(Scale.niceNumber(7.5, round: true) == 10)
        #expect(Scale.niceNumber(120, round: false) == 200)
        #expect(Scale.niceNumber(500, round: false) == 500)
    }

    @Test func linearTicksCoverTheDataWithNiceSteps() {
        #expect(labels(Scale.niceTicks(lower: 0, upper: 599, count: 4)) == ["0", "200", "400", "600"])
        #expect(labels(Scale.niceTicks(lower: 0.13, upper: 0.97, count: 5)) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        #expect(labels(Scale.niceTicks(lower: -2.3, upper: 1.1, count: 5)) == ["-3", "-2", "-1", "0", "1", "2"])
        let s = Scale(covering: [0.13, 0.97], range: (0, 100), tickCount: 5)
        #expect(s.lower == 0 && s.upper == 1)
        #expect(s.map(0) == 0 && s.map(1) == 100 && s.map(0.5) == 50)
    }

    @Test func tightScaleKeepsTheDataRange() {
        let s = Scale(covering: [0, 599], range: (10, 410), tickCount: 4, tight: true)
        #expect(s.lower == 0 && s.upper == 599)
        #expect(labels(s.ticks) == ["0", "200", "400"])
        #expect(s.map(599) == 410)
    }

    @Test func logTicks() {
        #expect(labels(Scale.logTicks(lower: 0.003, upper: 20)) == ["0.001", "0.01", "0.1", "1", "10", "100"])
        #expect(labels(Scale.logTicks(lower: 0.15, upper: 3)) == ["0.1", "0.2", "0.5", "1", "2", "5", "10"])
        // A loss from 3.2 down to 0.077 spans 1.6 decades but touches three: still 1-2-5 ticks.
        let loss = Scale(kind: .log, covering: [0.0775, 3.2], range: (300, 0))
        #expect(labels(loss.ticks) == ["0.1", "0.2", "0.5", "1", "2"])
        let s = Scale(kind: .log, covering: [0.15, 3, -1, .nan], range: (300, 0))
        #expect(labels(s.ticks) == ["0.2", "0.5", "1", "2"])
        #expect(s.lower < 0.15 && s.upper > 3)
        // Equal ratios map to equal distances.
        #expect(abs((s.map(1) - s.map(0.2)) - (s.map(2) - s.map(0.4))) < 1e-9)
        #expect(s.map(1) < s.map(0.2))  // a y axis runs upwards
    }
}
