/// Estimate against truth with each observation's stated bound as a vertical segment.
/// Observations whose bound missed the truth are drawn in red.
///
/// Two layouts: `.estimateVsTruth` plots the estimate over the truth with the line y = x (both
/// axes share one domain); `.errorVsTruth` plots `estimate − truth` with the bound shifted the
/// same way and the line y = 0, which keeps bounds visible when they are far narrower than the
/// values' range. `.automatic` picks the second when the median bound is under 3 % of the range.
/// Renders one `<circle class="estimate">` and one `<line class="bound">` per observation.
package struct BoundScatter: Sendable, Equatable {
    package enum Layout: Sendable, Equatable { case estimateVsTruth, errorVsTruth, automatic }

    package var title: String
    package var xLabel: String
    package var observations: [BoundedObservation]
    package var layout: Layout
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, observations: [BoundedObservation], xLabel: String = "truth (exact tier)",
                 layout: Layout = .automatic, width: Double = 420, height: Double = 380) {
        self.title = title
        self.xLabel = xLabel
        self.observations = observations
        self.layout = layout
        self.width = width
        self.height = height
    }

    /// The layout actually drawn.
    /// - Complexity: O(n log n) for `.automatic`, else O(1).
    package var resolvedLayout: Layout {
        guard layout == .automatic else { return layout }
        let values = observations.flatMap { [$0.truth, $0.estimate] }.filter(\.isFinite)
        guard let lo = values.min(), let hi = values.max(), hi > lo else { return .estimateVsTruth }
        let width = BoundStatistics.median(observations.map(\.width).filter(\.isFinite))
        return width < 0.03 * (hi - lo) ? .errorVsTruth : .estimateVsTruth
    }

    /// - Complexity: O(observations).
    package func svg() -> SVGNode {
        let residual = resolvedLayout == .errorVsTruth
        let missed = observations.contains { !$0.isCovered }
        var legend = [
            LegendEntry(residual ? "estimate − truth" : "estimate", color: Theme.color(0), swatch: .dot),
            LegendEntry("stated bound", color: Theme.band, swatch: .line),
            LegendEntry(residual ? "y = 0" : "y = x", color: Theme.mutedText, swatch: .dashedLine),
        ]
        if missed { legend.append(LegendEntry("bound missed", color: Theme.bad, swatch: .dot)) }
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel,
                              yLabel: residual ? "estimate − truth" : "estimate", legend: legend)
        // y of each observation: (estimate, lower, upper), shifted by the truth in residual layout.
        let ys3: [(Double, Double, Double)] = observations.map { o in
            residual ? (o.estimate - o.truth, o.lower - o.truth, o.upper - o.truth) : (o.estimate, o.lower, o.upper)
        }
        let xs: Scale, ys: Scale
        if residual {
            xs = frame.xScale(covering: observations.map(\.truth))
            ys = frame.yScale(covering: ys3.flatMap { [$0.0, $0.1, $0.2] }.filter(\.isFinite) + [0])
        } else {
            // One domain for both axes so that y = x is the diagonal.
            ys = frame.yScale(covering: (observations.map(\.truth) + ys3.flatMap { [$0.0, $0.1, $0.2] }).filter(\.isFinite))
            var shared = ys
            shared.rangeStart = frame.plotLeft
            shared.rangeEnd = frame.plotRight
            xs = shared
        }
        var content: [SVGNode] = [residual
            ? .line(frame.plotLeft, ys.map(0), frame.plotRight, ys.map(0), stroke: Theme.mutedText, width: 1.2,
                    extra: [("stroke-dasharray", "5 4"), ("class", "identity")])
            : .line(xs.map(ys.lower), ys.map(ys.lower), xs.map(ys.upper), ys.map(ys.upper), stroke: Theme.mutedText, width: 1.2,
                    extra: [("stroke-dasharray", "5 4"), ("class", "identity")])]
        let caps = observations.count <= 150
        var bounds: [SVGNode] = []
        var dots: [SVGNode] = []
        func clamp(_ v: Double) -> Double { v.isFinite ? v : (v < 0 ? ys.lower : ys.upper) }
        for (o, y) in zip(observations, ys3) {
            let px = xs.map(o.truth)
            let boundColor = o.isCovered ? Theme.band : "#fca5a5"
            let lo = ys.map(clamp(y.1)), hi = ys.map(clamp(y.2))
            bounds.append(.line(px, lo, px, hi, stroke: boundColor, width: 2, extra: [("class", "bound")]))
            if caps {
                bounds.append(.line(px - 3, lo, px + 3, lo, stroke: boundColor, width: 1.2))
                bounds.append(.line(px - 3, hi, px + 3, hi, stroke: boundColor, width: 1.2))
            }
            dots.append(SVGNode("circle", [
                ("class", "estimate"), ("cx", NumberFormat.fixed(px)), ("cy", NumberFormat.fixed(ys.map(y.0))),
                ("r", "2.6"), ("fill", o.isCovered ? Theme.color(0) : Theme.bad), ("fill-opacity", "0.85"),
            ]))
        }
        // Misses last, so no covered answer hides them.
        let order = observations.indices.filter { observations[$0].isCovered } + observations.indices.filter { !observations[$0].isCovered }
        content += bounds + order.map { dots[$0] }
        return frame.render(x: xs, y: ys, content: content, clipID: clipIdentifier("scatter", title, observations.count))
    }
}
