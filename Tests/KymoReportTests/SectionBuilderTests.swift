import Testing
@testable import KymoReport

private func tables(_ section: ReportSection) -> [ReportTable] {
    section.blocks.compactMap { if case .table(let t) = $0 { t } else { nil } }
}

private func figures(_ section: ReportSection) -> [Chart] {
    section.blocks.compactMap { if case .figure(let c, _) = $0 { c } else { nil } }
}

@Suite struct SectionBuilderTests {
    @Test func errorBoundsTableHasOneRowPerCheckWithItsStatistics() {
        let hit = BoundedObservation(estimate: 2, lower: 1, upper: 3, truth: 2.5)
        let miss = BoundedObservation(estimate: 2, lower: 1, upper: 3, truth: 4)
        let section = ReportSection.errorBounds([
            BoundCheck(source: "sketch:count-min", question: "mass", observations: [hit, hit, hit, miss]),
            BoundCheck(source: "trajectory", question: "value", observations: [hit]),
        ])
        let table = tables(section)[0]
        #expect(table.rows.count == 2)
        #expect(table.rows[0][3] == .integer(4))
        #expect(table.rows[0][5] == .percent(0.75))
        #expect(table.rows[0][7] == .number(0.5))   // errors 0.5, 0.5, 0.5, 2
        #expect(table.rows[0][8] == .number(2))
        #expect(table.rows[0][10] == .text("VIOLATED"))
        #expect(table.rows[1][10] == .text("holds"))
        guard case .grid(let grid) = figures(section)[0] else { Issue.record("no grid"); return }
        #expect(grid.charts.count == 2)
    }

    @Test func recordedTotalsAndCompression() {
        let section = ReportSection.recorded([
            RecordedItem(tier: "T0", content: "log", storedBytes: 1024, rawBytes: 4096),
            RecordedItem(tier: "T2", content: "count-min", storedBytes: 1024, rawBytes: 1024, parameters: "4 × 2^16"),
        ])
        let rows = tables(section)[0].rows
        #expect(rows.count == 3)
        #expect(rows[0][4] == .text("4×"))
        #expect(rows[2] == [.text("total"), .text(""), .bytes(2048), .bytes(5120), .text("2.5×"), .text("")])
    }

    @Test func trajectoriesCheckReconstructionAgainstHalfQuantum() {
        let good = WeightTrajectory(name: "a", steps: [0, 10, 20], values: [0, 0.25, 0.5], quantum: 0.25, exact: [0.1, 0.2, 0.45])
        let bad = WeightTrajectory(name: "b", steps: [0, 10], values: [0, 1], quantum: 0.25, exact: [0, 0.5])
        #expect(good.totalVariation == 0.5)
        #expect(abs(good.worstReconstructionError! - 0.1) < 1e-12)
        let section = ReportSection.trajectories([good, bad, WeightTrajectory(name: "c", steps: [0], values: [1], quantum: 0.1)])
        let rows = tables(section)[0].rows
        #expect(rows.map { $0[6] } == [.text("within q/2"), .text("EXCEEDS q/2"), .text("no exact values")])
        #expect(rows[2][5] == .missing)
        #expect(tables(section)[0].isNumericColumn(5))  // "—" does not make the column textual
        #expect(figures(section).count == 2)  // trajectories, and residuals of the two T1 weights
    }

    @Test func comparisonTableLooksUpTheLastStepAtOrBefore() {
        let a = TrainingCurves(steps: [0, 1, 2, 3, 4], loss: [5, 4, 3, 2, 1], probeSteps: [0, 4], probeAccuracy: [0.1, 0.9])
        let b = TrainingCurves(steps: [0, 1, 2, 3, 4], loss: [6, 5, 4, 3, 2], probeSteps: [0, 2], probeAccuracy: [0.2, 0.5])
        let section = ReportSection.comparison(RunComparison(nameA: "A", nameB: "B", a: a, b: b,
                                                             distanceSteps: [0, 3], distance: [0, 1.5]))
        let rows = tables(section)[0].rows
        #expect(rows[0] == [.integer(0), .number(5), .number(6), .number(0.1), .number(0.2), .number(0)])
        #expect(rows[1] == [.integer(3), .number(2), .number(3), .number(0.1), .number(0.5), .number(1.5)])
    }

    @Test func trainingCurvesSummaryFindsBestValues() {
        let curves = TrainingCurves(steps: [10, 20, 30], loss: [3, 1, 2], accuracy: [0.2, 0.6, 0.5],
                                    gradientNorm: [1, 2, 3], updateNorm: [0.1, 0.2, 0.05])
        let section = ReportSection.trainingCurves(curves)
        let rows = tables(section)[0].rows
        #expect(rows.map { $0[0] } == [.text("loss"), .text("batch accuracy"), .text("gradient norm"), .text("update norm")])
        #expect(rows[0][3] == .number(1) && rows[0][4] == .integer(20))
        #expect(rows[1][3] == .number(0.6) && rows[1][4] == .integer(20))
        #expect(rows[3][4] == .integer(30))
        guard case .grid(let grid) = figures(section)[0] else { Issue.record("no grid"); return }
        #expect(grid.charts.count == 4)
    }
}
