import Testing
@testable import KymoReport

/// A diverged run produces NaN and ∞; a fresh one may have a single step. Nothing may crash and
/// no output may hold `nan`/`inf` text.
@Suite struct DegenerateInputTests {
    private func clean(_ svg: String) -> Bool {
        !svg.contains("nan") && !svg.contains("NaN\"") && !svg.contains("inf\"") && (svg.hasSuffix("</svg>") || svg.hasSuffix("/>"))
    }

    @Test func extremeNumbersFormat() {
        #expect(NumberFormat.significant(Double.leastNonzeroMagnitude) == "4.941e-324")
        #expect(NumberFormat.significant(1.7976931348623157e308) == "1.798e308")
        #expect(NumberFormat.significant(-1e-5) == "-1e-5")
        #expect(NumberFormat.fixed(1e300) == "1e300")
    }

    @Test func chartsSurviveNaNInfinityAndEmptyData() {
        let bad: [Double] = [1, .nan, .infinity, -.infinity, 3, 0, -2]
        let steps = Array(0..<bad.count)
        let charts: [Chart] = [
            .line(LineChart(title: "diverged", xLabel: "step", yLabel: "loss", series: [Series(name: "loss", steps: steps, values: bad)], yScale: .log)),
            .line(LineChart(title: "empty", xLabel: "step", yLabel: "loss", series: [])),
            .line(LineChart(title: "one point", xLabel: "step", yLabel: "loss", series: [Series(name: "a", steps: [5], values: [2])])),
            .line(LineChart(title: "all NaN", xLabel: "step", yLabel: "loss", series: [Series(name: "a", steps: [0, 1], values: [.nan, .nan])], yScale: .log)),
            .scatter(BoundScatter(title: "s", observations: [
                BoundedObservation(estimate: .nan, lower: -.infinity, upper: .infinity, truth: 1),
                BoundedObservation(estimate: 1, lower: 1, upper: 1, truth: 1),
            ])),
            .scatter(BoundScatter(title: "none", observations: [])),
            .bars(.histogram(title: "h", xLabel: "x", values: [.nan, .infinity])),
            .bars(.histogram(title: "h", xLabel: "x", values: [4, 4, 4])),
            .band(BandChart(title: "b", x: [0, 1, 2], values: [0, .nan, 1], quantum: 0)),
            .images(ImageGrid(title: "i", images: [GrayImage(width: 2, height: 1, pixels: [.nan, .infinity])])),
            .grid(SmallMultiples([])),
        ]
        for chart in charts {
            let svg = chart.rendered()
            #expect(clean(svg), "\(svg.prefix(200))")
        }
        // The diverged series keeps its finite points, broken where the value is not.
        guard case .line(let line) = charts[0] else { return }
        let d = line.svg().all(named: "path")[0].attribute("d")!
        #expect(d.filter { $0 == "M" }.count == 2)  // 1 | 3 (0 and −2 have no place on a log axis)
    }

    @Test func sectionsSurviveEmptyInputs() {
        let model = ReportModel(title: "empty", sections: [
            .trainingCurves(TrainingCurves(steps: [], loss: [])),
            .recorded([]),
            .errorBounds([]),
            .trajectories([]),
            .comparison(RunComparison(nameA: "a", nameB: "b", a: TrainingCurves(steps: [], loss: []),
                                      b: TrainingCurves(steps: [], loss: []), distanceSteps: [], distance: [])),
        ])
        #expect(model.html().hasSuffix("</html>\n"))
        #expect(!model.markdown().isEmpty)
    }
}
