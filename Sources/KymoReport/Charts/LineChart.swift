/// One named series of (x, y) points; extra elements of the longer array are ignored.
package struct Series: Sendable, Equatable {
    package var name: String
    package var x: [Double]
    package var y: [Double]
    package var dashed: Bool
    /// A faint series (raw values behind their smoothed version) is drawn thin and light and
    /// left out of the legend.
    package var faint: Bool
    /// Colour; nil takes the palette colour of the series' position.
    package var color: String?

    /// - Complexity: O(1).
    package init(name: String, x: [Double], y: [Double], dashed: Bool = false, faint: Bool = false, color: String? = nil) {
        self.name = name
        self.x = x
        self.y = y
        self.dashed = dashed
        self.faint = faint
        self.color = color
    }

    /// A series over integer steps.
    /// - Complexity: O(n).
    package init(name: String, steps: [Int], values: [Double], dashed: Bool = false, faint: Bool = false, color: String? = nil) {
        self.init(name: name, x: steps.map(Double.init), y: values, dashed: dashed, faint: faint, color: color)
    }

    /// The (x, y) pairs, truncated to the shorter array.
    /// - Complexity: O(n).
    package var points: [(Double, Double)] { Array(zip(x, y)) }
}

/// A reference line across a chart: a vertical line at an x value (an epoch boundary, the step a
/// run diverged) or a horizontal one at a y value (a threshold), with a short label.
package struct Annotation: Sendable, Equatable {
    package enum Axis: Sendable, Equatable { case x, y }
    package var axis: Axis
    package var value: Double
    package var label: String

    /// - Complexity: O(1).
    package init(_ axis: Axis, at value: Double, label: String) {
        self.axis = axis
        self.value = value
        self.label = label
    }
}

/// Several series as lines over shared axes, with a legend when there is more than one.
/// Renders one `<path class="series">` per series; series with at most 60 points also get a
/// dot per point.
package struct LineChart: Sendable, Equatable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var series: [Series]
    package var annotations: [Annotation]
    package var yScale: Scale.Kind
    package var includeZero: Bool
    package var width: Double
    package var height: Double

    /// - Complexity: O(1).
    package init(title: String, xLabel: String, yLabel: String, series: [Series], annotations: [Annotation] = [],
                 yScale: Scale.Kind = .linear, includeZero: Bool = false,
                 width: Double = 520, height: Double = 300) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.annotations = annotations
        self.yScale = yScale
        self.includeZero = includeZero
        self.width = width
        self.height = height
    }

    /// - Complexity: O(total points).
    package func svg() -> SVGNode {
        let shown = series.enumerated().filter { !$0.element.faint }
        let legend = shown.count > 1
            ? shown.map { LegendEntry($0.element.name, color: $0.element.color ?? Theme.color($0.offset), swatch: $0.element.dashed ? .dashedLine : .line) }
            : []
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel, legend: legend)
        let xs = frame.xScale(covering: series.flatMap { Array($0.x.prefix($0.y.count)) }, tight: true)
        let ys = frame.yScale(kind: yScale, covering: series.flatMap { Array($0.y.prefix($0.x.count)) }
                                  + annotations.filter { $0.axis == .y }.map(\.value), includeZero: includeZero)
        var content: [SVGNode] = []
        var annotationLabels: [SVGNode] = []  // drawn over the data, with a white halo
        let halo = [("stroke", "#ffffff"), ("stroke-width", "3"), ("paint-order", "stroke")]
        for a in annotations where a.value.isFinite {
            switch a.axis {
            case .x:
                let px = xs.map(a.value)
                content.append(.line(px, frame.plotTop, px, frame.plotBottom, stroke: Theme.mutedText, width: 1,
                                     extra: [("stroke-dasharray", "3 3"), ("class", "annotation")]))
                annotationLabels.append(.label(a.label, x: px + 4, y: frame.plotTop + 11, size: 10, fill: Theme.mutedText, extra: halo))
            case .y:
                let py = ys.map(a.value)
                content.append(.line(frame.plotLeft, py, frame.plotRight, py, stroke: Theme.mutedText, width: 1,
                                     extra: [("stroke-dasharray", "3 3"), ("class", "annotation")]))
                annotationLabels.append(.label(a.label, x: frame.plotRight - 4, y: py - 4, anchor: "end", size: 10, fill: Theme.mutedText, extra: halo))
            }
        }
        for (index, s) in series.enumerated() {
            let color = s.color ?? Theme.color(index)
            let pts = s.points.map { (xs.map($0.0), ys.map($0.1)) }
            var attributes = [
                ("class", "series"), ("data-series", s.name), ("d", SVGNode.pathData(pts)),
                ("fill", "none"), ("stroke", color), ("stroke-width", s.faint ? "1" : "1.8"),
                ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
            ]
            if s.faint { attributes.append(("stroke-opacity", "0.3")) }
            if s.dashed { attributes.append(("stroke-dasharray", "6 4")) }
            content.append(SVGNode("path", attributes))
            if pts.count <= 60 && !s.faint {
                for (px, py) in pts where px.isFinite && py.isFinite {
                    content.append(SVGNode("circle", [("cx", NumberFormat.fixed(px)), ("cy", NumberFormat.fixed(py)), ("r", "2.2"), ("fill", color)]))
                }
            }
        }
        content += annotationLabels
        return frame.render(x: xs, y: ys, content: content, clipID: clipIdentifier("line", title, series.count))
    }
}
