/// Estimate against truth with each observation's stated bound as a vertical segment, and the
/// line y = x. Observations whose bound missed the truth are drawn in red.
/// Renders one `<circle class="estimate">` and one `<line class="bound">` per observation.
package struct BoundScatter: Sendable, Equatable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var observations: [BoundedObservation]
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, observations: [BoundedObservation], xLabel: String = "truth (exact tier)",
                 yLabel: String = "estimate", width: Double = 420, height: Double = 380) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.observations = observations
        self.width = width
        self.height = height
    }

    /// - Complexity: O(observations).
    package func svg() -> SVGNode {
        let missed = observations.contains { !$0.isCovered }
        var legend = [
            LegendEntry("estimate", color: Theme.color(0), swatch: .dot),
            LegendEntry("bound", color: Theme.band, swatch: .line),
            LegendEntry("y = x", color: Theme.mutedText, swatch: .dashedLine),
        ]
        if missed { legend.append(LegendEntry("bound missed", color: Theme.bad, swatch: .dot)) }
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel, legend: legend)
        var all: [Double] = []
        for o in observations { all += [o.truth, o.estimate, o.lower, o.upper] }
        // One domain for both axes so that y = x is the diagonal.
        let finite = all.filter(\.isFinite)
        let ys = frame.yScale(covering: finite)
        var xs2 = ys
        xs2.rangeStart = frame.plotLeft
        xs2.rangeEnd = frame.plotRight
        var content: [SVGNode] = [
            .line(xs2.map(ys.lower), ys.map(ys.lower), xs2.map(ys.upper), ys.map(ys.upper),
                  stroke: Theme.mutedText, width: 1.2, extra: [("stroke-dasharray", "5 4"), ("class", "identity")]),
        ]
        let caps = observations.count <= 150
        var bounds: [SVGNode] = []
        var dots: [SVGNode] = []
        for o in observations {
            let px = xs2.map(o.truth)
            let color = o.isCovered ? Theme.color(0) : Theme.bad
            let lo = ys.map(o.lower.isFinite ? o.lower : (o.lower < 0 ? ys.lower : ys.upper))
            let hi = ys.map(o.upper.isFinite ? o.upper : (o.upper < 0 ? ys.lower : ys.upper))
            bounds.append(.line(px, lo, px, hi, stroke: o.isCovered ? Theme.band : "#fca5a5", width: 2, extra: [("class", "bound")]))
            if caps {
                bounds.append(.line(px - 3, lo, px + 3, lo, stroke: o.isCovered ? Theme.band : "#fca5a5", width: 1.2))
                bounds.append(.line(px - 3, hi, px + 3, hi, stroke: o.isCovered ? Theme.band : "#fca5a5", width: 1.2))
            }
            dots.append(SVGNode("circle", [
                ("class", "estimate"), ("cx", NumberFormat.fixed(px)), ("cy", NumberFormat.fixed(ys.map(o.estimate))),
                ("r", "2.6"), ("fill", color), ("fill-opacity", "0.85"),
            ]))
        }
        content += bounds + dots
        return frame.render(x: xs2, y: ys, content: content, clipID: clipIdentifier("scatter", title, observations.count))
    }
}
