import Testing
@testable import KymoReport

/// Number of vertices in SVG path data (`M` and `L` commands).
private func vertices(_ d: String) -> Int { d.split(separator: " ").filter { $0.hasPrefix("M") || $0.hasPrefix("L") }.count }

private func nodes(_ svg: SVGNode, _ name: String, class className: String) -> [SVGNode] {
    svg.all(named: name).filter { $0.attribute("class") == className }
}

@Suite struct ChartTests {
    static let observations = (0..<37).map { i in
        let t = Double(i) * 0.25
        let estimate = t + (i % 5 == 0 ? 1.5 : 0.1)
        return BoundedObservation(estimate: estimate, lower: estimate - 0.5, upper: estimate + 0.5, truth: t, confidence: 0.95)
    }

    static let charts: [Chart] = [
        .line(LineChart(title: "loss", xLabel: "step", yLabel: "loss", series: [
            Series(name: "a", steps: Array(0..<100), values: (0..<100).map { 1 / Double($0 + 1) }),
            Series(name: "b", steps: Array(0..<70), values: (0..<70).map { 2 / Double($0 + 1) }, dashed: true),
            Series(name: "c", steps: [0, 50, 99], values: [0.5, 0.2, 0.1]),
        ], yScale: .log)),
        .scatter(BoundScatter(title: "count-min", observations: observations)),
        .bars(.histogram(title: "errors", xLabel: "error", values: (0..<200).map { Double($0 % 17) }, bins: 12)),
        .band(BandChart(title: "fc1[0,0]", x: (0..<40).map(Double.init), values: (0..<40).map { Double($0) / 64 },
                        quantum: 1.0 / 64, exact: (0..<40).map { Double($0) / 64 + 0.003 })),
        .images(ImageGrid(title: "digits", images: (0..<5).map { i in
            GrayImage(width: 8, height: 8, pixels: (0..<64).map { Float(($0 + i) % 9) / 8 }, caption: ["#\(i)", "label \(i)"])
        })),
    ]

    @Test func renderingIsDeterministic() {
        for chart in Self.charts {
            let again = Self.charts.first { $0 == chart }!
            #expect(chart.rendered() == again.rendered())
            #expect(chart.rendered().hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        }
        // Rebuilt from scratch, not just the same value.
        let a = BoundScatter(title: "x", observations: Self.observations).svg().render()
        let b = BoundScatter(title: "x", observations: Array(Self.observations)).svg().render()
        #expect(a == b)
        #expect(!a.contains("nan") && !a.contains("inf"))
    }

    @Test func lineChartHasOnePathPerSeriesAndOneVertexPerPoint() {
        guard case .line(let chart) = Self.charts[0] else { Issue.record("not a line chart"); return }
        let paths = nodes(chart.svg(), "path", class: "series")
        #expect(paths.count == 3)
        #expect(paths.map { vertices($0.attribute("d")!) } == [100, 70, 3])
        #expect(paths.map { $0.attribute("data-series")! } == ["a", "b", "c"])
        // The three-point series gets a dot per point; the long ones do not.
        #expect(chart.svg().all(named: "circle").count == 3)
    }

    @Test func annotationsDrawOneLineEachAndWidenTheAxis() {
        let chart = LineChart(title: "explosion", xLabel: "step", yLabel: "fraction", series: [
            Series(name: "fraction", steps: [0, 1, 2, 3], values: [0.01, 0.02, 0.04, 0.05]),
        ], annotations: [Annotation(.y, at: 0.1, label: "10 %"), Annotation(.x, at: 2, label: "diverged")])
        let lines = nodes(chart.svg(), "line", class: "annotation")
        #expect(lines.count == 2)
        #expect(lines[0].attribute("y1") == lines[0].attribute("y2"))  // horizontal threshold
        #expect(lines[1].attribute("x1") == lines[1].attribute("x2"))  // vertical marker
        // The 10 % threshold lies above all data yet inside the plot.
        let frameTop = 34.0
        #expect(Double(lines[0].attribute("y1")!)! >= frameTop)
        #expect(chart.svg().all(named: "text").contains { $0.text == "diverged" })
    }

    @Test func scatterHasOnePointAndOneBoundPerObservation() {
        let svg = BoundScatter(title: "s", observations: Self.observations).svg()
        #expect(nodes(svg, "circle", class: "estimate").count == Self.observations.count)
        #expect(nodes(svg, "line", class: "bound").count == Self.observations.count)
        #expect(nodes(svg, "line", class: "identity").count == 1)
        let red = nodes(svg, "circle", class: "estimate").filter { $0.attribute("fill") == Theme.bad }
        #expect(red.count == Self.observations.filter { !$0.isCovered }.count)
        #expect(red.count == 8)  // i = 0, 5, …, 35
    }

    @Test func thinBoundsSwitchToTheErrorLayout() {
        // Bounds 0.01 wide over values spanning 100: drawn as estimate − truth around y = 0.
        let thin = (0..<50).map { i in
            let t = Double(i) * 2
            return BoundedObservation(estimate: t + 0.002, lower: t - 0.003, upper: t + 0.007, truth: t)
        }
        let chart = BoundScatter(title: "thin", observations: thin)
        #expect(chart.resolvedLayout == .errorVsTruth)
        #expect(BoundScatter(title: "wide", observations: Self.observations).resolvedLayout == .estimateVsTruth)
        let svg = chart.svg()
        let identity = nodes(svg, "line", class: "identity")[0]
        #expect(identity.attribute("y1") == identity.attribute("y2"))  // horizontal: y = 0
        // Every dot sits above the zero line (estimate > truth), all at the same height.
        let ys = Set(nodes(svg, "circle", class: "estimate").map { $0.attribute("cy")! })
        #expect(ys.count == 1)
        #expect(Double(ys.first!)! < Double(identity.attribute("y1")!)!)
    }

    @Test func histogramHasOneBarPerBinAndCountsEveryValue() {
        let chart = BarChart.histogram(title: "h", xLabel: "v", values: [0, 1, 1, 2, 2, 2, 3, .nan], bins: 4)
        #expect(chart.counts == [1, 2, 3, 1])
        #expect(nodes(chart.svg(), "rect", class: "bar").count == 4)
    }

    @Test func bandChartDrawsEveryValueAndExactPoint() {
        guard case .band(let chart) = Self.charts[3] else { Issue.record("not a band chart"); return }
        let svg = chart.svg()
        #expect(vertices(nodes(svg, "path", class: "series")[0].attribute("d")!) == 40)
        #expect(vertices(nodes(svg, "path", class: "band")[0].attribute("d")!) == 80)
        #expect(nodes(svg, "circle", class: "exact").count == 40)
    }

    @Test func imageRunsMergeEqualLevelsAndSkipBackground() {
        let image = GrayImage(width: 8, height: 1, pixels: [0, 1, 1, 0, 0.5, 0.5, 1, 0.01])
        let runs = ImageGrid.runs(image, row: 0, levels: 16)
        #expect(runs.map(\.start) == [1, 4, 6])
        #expect(runs.map(\.length) == [2, 2, 1])
        #expect(runs.map(\.level) == [15, 8, 15])
        guard case .images(let grid) = Self.charts[4] else { Issue.record("not an image grid"); return }
        let groups = nodes(grid.svg(), "g", class: "image")
        #expect(groups.count == 5)
        #expect(groups[0].all(named: "text").map(\.text) == ["#0", "label 0"])
    }

    @Test func mnistSizedImageStaysSmall() {
        // A 28×28 stroke: run-length rects, far fewer than one per pixel.
        let pixels: [Float] = (0..<784).map { i in (i % 28 >= 10 && i % 28 < 16) ? 1 : 0 }
        let svg = ImageGrid(title: "m", images: [GrayImage(width: 28, height: 28, pixels: pixels)]).svg()
        #expect(svg.all(named: "rect").count == 1 + 1 + 28)  // background, cell frame, one run per row
    }

    @Test func smallMultiplesPlacesEveryChart() {
        let grid = SmallMultiples(Array(Self.charts.prefix(4)), columns: 2, gap: 10)
        let svg = grid.svg()
        let inner = svg.children
        #expect(inner.count == 4)
        #expect(inner.map { $0.attribute("x")! } == ["0", NumberFormat.fixed(520 + 10), "0", NumberFormat.fixed(520 + 10)])
        #expect(grid.width == 520 + 10 + max(420, 520))
        #expect(svg.render().components(separatedBy: "xmlns=").count == 2)  // only the root declares it
    }
}
