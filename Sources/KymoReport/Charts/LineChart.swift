/// One named series of (x, y) points; extra elements of the longer array are ignored.
package struct Series: Sendable, Equatable {
    package var name: String
    package var x: [Double]
    package var y: [Double]
    package var dashed: Bool

    /// - Complexity: O(1).
    package init(name: String, x: [Double], y: [Double], dashed: Bool = false) {
        self.name = name
        self.x = x
        self.y = y
        self.dashed = dashed
    }

    /// A series over integer steps.
    /// - Complexity: O(n).
    package init(name: String, steps: [Int], values: [Double], dashed: Bool = false) {
        self.init(name: name, x: steps.map(Double.init), y: values, dashed: dashed)
    }

    /// The (x, y) pairs, truncated to the shorter array.
    /// - Complexity: O(n).
    package var points: [(Double, Double)] { Array(zip(x, y)) }
}

/// Several series as lines over shared axes, with a legend when there is more than one.
/// Renders one `<path class="series">` per series; series with at most 60 points also get a
/// dot per point.
package struct LineChart: Sendable, Equatable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var series: [Series]
    package var yScale: Scale.Kind
    package var includeZero: Bool
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, xLabel: String, yLabel: String, series: [Series],
                 yScale: Scale.Kind = .linear, includeZero: Bool = false,
                 width: Double = 520, height: Double = 300) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yScale = yScale
        self.includeZero = includeZero
        self.width = width
        self.height = height
    }

    /// - Complexity: O(total points).
    package func svg() -> SVGNode {
        let legend = series.count > 1
            ? series.enumerated().map { LegendEntry($0.element.name, color: Theme.color($0.offset), swatch: $0.element.dashed ? .dashedLine : .line) }
            : []
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel, legend: legend)
        let xs = frame.xScale(covering: series.flatMap { Array($0.x.prefix($0.y.count)) })
        let ys = frame.yScale(kind: yScale, covering: series.flatMap { Array($0.y.prefix($0.x.count)) }, includeZero: includeZero)
        var content: [SVGNode] = []
        for (index, s) in series.enumerated() {
            let color = Theme.color(index)
            let pts = s.points.map { (xs.map($0.0), ys.map($0.1)) }
            var attributes = [
                ("class", "series"), ("data-series", s.name), ("d", SVGNode.pathData(pts)),
                ("fill", "none"), ("stroke", color), ("stroke-width", "1.8"),
                ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
            ]
            if s.dashed { attributes.append(("stroke-dasharray", "6 4")) }
            content.append(SVGNode("path", attributes))
            if pts.count <= 60 {
                for (px, py) in pts where px.isFinite && py.isFinite {
                    content.append(SVGNode("circle", [("cx", NumberFormat.fixed(px)), ("cy", NumberFormat.fixed(py)), ("r", "2.2"), ("fill", color)]))
                }
            }
        }
        return frame.render(x: xs, y: ys, content: content, clipID: clipIdentifier("line", title, series.count))
    }
}
