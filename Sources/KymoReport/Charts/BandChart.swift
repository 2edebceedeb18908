/// A weight's reconstructed trajectory with its quantization band `value ± q/2` shaded, and the
/// exact values (T1) as dots where they are known.
/// Renders one `<path class="band">`, one `<path class="series">` whose vertices are the
/// `values`, and one `<circle class="exact">` per exact value.
package struct BandChart: Sendable, Equatable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var x: [Double]
    package var values: [Double]
    /// Quantization step q: the band is `values[i] ± quantum / 2`.
    package var quantum: Double
    /// Exact values at the same x, or empty.
    package var exact: [Double]
    /// Legend labels of the line and of the dots.
    package var valueLabel: String
    package var exactLabel: String
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, xLabel: String = "step", yLabel: String = "value", x: [Double], values: [Double],
                 quantum: Double, exact: [Double] = [], valueLabel: String = "reconstructed",
                exactLabel: String = "exact (T1)", width: Double = 520, height: Double = 260) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.values = values
        self.quantum = quantum
        self.exact = exact
        self.valueLabel = valueLabel
        self.exactLabel = exactLabel
        self.width = width
        self.height = height
    }

    /// - Complexity: O(points).
    package func svg() -> SVGNode {
        var legend = [
            LegendEntry(valueLabel, color: Theme.color(0), swatch: .line),
            LegendEntry("± q/2 (q = \(NumberFormat.significant(quantum)))", color: Theme.band, swatch: .box),
        ]
        if !exact.isEmpty { legend.append(LegendEntry(exactLabel, color: Theme.color(1), swatch: .dot)) }
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel, legend: legend)
        let n = min(x.count, values.count)
        let half = quantum / 2
        let xs = frame.xScale(covering: Array(x.prefix(n)), tight: true)
        let ys = frame.yScale(covering: Array(values.prefix(n)).flatMap { [$0 - half, $0 + half] } + Array(exact.prefix(n)))
        var upper: [(Double, Double)] = []
        var lower: [(Double, Double)] = []
        var line: [(Double, Double)] = []
        for i in 0..<n {
            let px = xs.map(x[i])
            upper.append((px, ys.map(values[i] + half)))
            lower.append((px, ys.map(values[i] - half)))
            line.append((px, ys.map(values[i])))
        }
        var content: [SVGNode] = [
            SVGNode("path", [("class", "band"), ("d", SVGNode.pathData(upper + lower.reversed(), close: true)),
                             ("fill", Theme.band), ("fill-opacity", "0.45"), ("stroke", "none")]),
            SVGNode("path", [("class", "series"), ("d", SVGNode.pathData(line)), ("fill", "none"),
                             ("stroke", Theme.color(0)), ("stroke-width", "1.6"), ("stroke-linejoin", "round")]),
        ]
        for i in 0..<min(n, exact.count) {
            content.append(SVGNode("circle", [("class", "exact"), ("cx", NumberFormat.fixed(xs.map(x[i]))),
                                              ("cy", NumberFormat.fixed(ys.map(exact[i]))), ("r", "1.8"), ("fill", Theme.color(1))]))
        }
        return frame.render(x: xs, y: ys, content: content, clipID: clipIdentifier("band", title, n))
    }
}
