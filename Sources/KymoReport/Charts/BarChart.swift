/// Bars over contiguous bins `[edges[i], edges[i+1])`, e.g. a histogram.
/// Renders one `<rect class="bar">` per bin.
package struct BarChart: Sendable, Equatable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    /// Bin edges, `counts.count + 1` of them, increasing.
    package var edges: [Double]
    package var counts: [Double]
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, xLabel: String, yLabel: String = "count", edges: [Double], counts: [Double],
                 width: Double = 520, height: Double = 300) {
        precondition(edges.count == counts.count + 1, "a bar chart needs one more edge than counts")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.edges = edges
        self.counts = counts
        self.width = width
        self.height = height
    }

    /// A histogram of the finite `values` in `bins` equal-width bins over their range.
    /// - Complexity: O(values + bins).
    package static func histogram(title: String, xLabel: String, values: [Double], bins: Int = 30,
                                  width: Double = 520, height: Double = 300) -> BarChart {
        precondition(bins >= 1)
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0
        var hi = finite.max() ?? 1
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let step = (hi - lo) / Double(bins)
        let edges = (0...bins).map { lo + Double($0) * step }
        var counts = [Double](repeating: 0, count: bins)
        for v in finite {
            let i = min(bins - 1, max(0, Int((v - lo) / step)))
            counts[i] += 1
        }
        return BarChart(title: title, xLabel: xLabel, edges: edges, counts: counts, width: width, height: height)
    }

    /// - Complexity: O(bins).
    package func svg() -> SVGNode {
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel, legend: [])
        let xs = frame.xScale(covering: edges)
        let ys = frame.yScale(covering: counts, includeZero: true)
        var content: [SVGNode] = []
        for (i, c) in counts.enumerated() {
            let x0 = xs.map(edges[i]), x1 = xs.map(edges[i + 1])
            let y0 = ys.map(0), y1 = ys.map(c.isFinite ? c : 0)
            let gap = (x1 - x0) > 4 ? 0.5 : 0
            content.append(.rect(x: x0 + gap, y: min(y0, y1), width: max(0, x1 - x0 - 2 * gap), height: abs(y0 - y1),
                                 fill: Theme.color(0), extra: [("class", "bar"), ("fill-opacity", "0.8")]))
        }
        return frame.render(x: xs, y: ys, content: content, clipID: clipIdentifier("bars", title, counts.count))
    }
}
