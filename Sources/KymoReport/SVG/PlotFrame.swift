import KymoCore

/// Colours and type used by every chart, chosen to stay readable in print and on screen.
package enum Theme {
    package static let series = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]
    package static let text = "#1f2937"
    package static let mutedText = "#6b7280"
    package static let axis = "#9ca3af"
    package static let grid = "#e5e7eb"
    package static let band = "#93c5fd"
    package static let bad = "#dc2626"
    package static let font = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

    /// Colour of series `index` (the palette repeats).
    /// - Complexity: O(1).
    package static func color(_ index: Int) -> String { series[index % series.count] }
}

/// A legend entry: a swatch (line, dot or filled box) and its label.
package struct LegendEntry: Sendable, Equatable {
    package enum Swatch: Sendable, Equatable { case line, dashedLine, dot, box }
    package var label: String
    package var color: String
    package var swatch: Swatch

    /// - Complexity: O(1).
    package init(_ label: String, color: String, swatch: Swatch = .line) {
        self.label = label
        self.color = color
        self.swatch = swatch
    }
}

/// The shared frame of a 2-D chart: title, legend, plot area, gridlines, ticks and axis titles.
struct PlotFrame {
    var width: Double
    var height: Double
    var title: String
    var xLabel: String
    var yLabel: String
    var legend: [LegendEntry]
    let left = 64.0, right = 18.0, bottom = 46.0

    var top: Double { legend.isEmpty ? 34 : 50 }
    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    func xScale(kind: Scale.Kind = .linear, covering values: [Double], includeZero: Bool = false, tight: Bool = false) -> Scale {
        Scale(kind: kind, covering: values, range: (plotLeft, plotRight),
              tickCount: max(3, Int((plotRight - plotLeft) / 80)), includeZero: includeZero, tight: tight)
    }

    func yScale(kind: Scale.Kind = .linear, covering values: [Double], includeZero: Bool = false) -> Scale {
        Scale(kind: kind, covering: values, range: (plotBottom, plotTop),
              tickCount: max(3, Int((plotBottom - plotTop) / 50)), includeZero: includeZero)
    }

    /// The root `<svg>` with background, grid, axes and `content` clipped to the plot area.
    func render(x: Scale, y: Scale, content: [SVGNode], clipID baseID: String) -> SVGNode {
        // Charts sharing a title in one document may share an id only if their clip rects agree.
        let clipID = baseID + "-\(Int(width))x\(Int(height))t\(Int(plotTop))"
        var nodes: [SVGNode] = [SVGNode("title", text: title)]
        nodes.append(.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff"))
        nodes.append(SVGNode("defs", children: [
            SVGNode("clipPath", [("id", clipID)], children: [
                .rect(x: plotLeft, y: plotTop - 1, width: plotRight - plotLeft, height: plotBottom - plotTop + 2, fill: "#000"),
            ]),
        ]))
        nodes.append(.label(title, x: plotLeft, y: 18, size: 13, weight: "600", fill: Theme.text))
        nodes.append(legendNode())
        nodes.append(grid(x: x, y: y))
        nodes.append(.group([("clip-path", "url(#\(clipID))")], content))
        nodes.append(axes(x: x, y: y))
        return SVGNode("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", NumberFormat.fixed(width)), ("height", NumberFormat.fixed(height)),
            ("viewBox", "0 0 \(NumberFormat.fixed(width)) \(NumberFormat.fixed(height))"),
            ("font-family", Theme.font), ("font-size", "11"), ("role", "img"),
        ], children: nodes)
    }

    private func legendNode() -> SVGNode {
        var items: [SVGNode] = []
        var cursor = plotLeft
        let y = 36.0
        for entry in legend {
            switch entry.swatch {
            case .line: items.append(.line(cursor, y - 4, cursor + 18, y - 4, stroke: entry.color, width: 2.5))
            case .dashedLine: items.append(.line(cursor, y - 4, cursor + 18, y - 4, stroke: entry.color, width: 2, extra: [("stroke-dasharray", "5 3")]))
            case .dot: items.append(SVGNode("circle", [("cx", NumberFormat.fixed(cursor + 9)), ("cy", NumberFormat.fixed(y - 4)), ("r", "3.5"), ("fill", entry.color)]))
            case .box: items.append(.rect(x: cursor + 2, y: y - 10, width: 14, height: 11, fill: entry.color, extra: [("fill-opacity", "0.45")]))
            }
            items.append(.label(entry.label, x: cursor + 23, y: y, fill: Theme.text))
            cursor += 23 + 6.2 * Double(entry.label.count) + 16
        }
        return .group([("class", "legend")], items)
    }

    private func grid(x: Scale, y: Scale) -> SVGNode {
        var lines: [SVGNode] = []
        for t in x.ticks {
            let px = x.map(t)
            lines.append(.line(px, plotTop, px, plotBottom, stroke: Theme.grid))
        }
        for t in y.ticks {
            let py = y.map(t)
            lines.append(.line(plotLeft, py, plotRight, py, stroke: Theme.grid))
        }
        return .group([("class", "grid")], lines)
    }

    private func axes(x: Scale, y: Scale) -> SVGNode {
        var nodes: [SVGNode] = [
            .line(plotLeft, plotBottom, plotRight, plotBottom, stroke: Theme.axis),
            .line(plotLeft, plotTop, plotLeft, plotBottom, stroke: Theme.axis),
        ]
        for t in x.ticks {
            let px = x.map(t)
            nodes.append(.line(px, plotBottom, px, plotBottom + 4, stroke: Theme.axis))
            nodes.append(.label(NumberFormat.significant(t), x: px, y: plotBottom + 16, anchor: "middle", fill: Theme.mutedText))
        }
        for t in y.ticks {
            let py = y.map(t)
            nodes.append(.line(plotLeft - 4, py, plotLeft, py, stroke: Theme.axis))
            nodes.append(.label(NumberFormat.significant(t), x: plotLeft - 7, y: py + 3.5, anchor: "end", fill: Theme.mutedText))
        }
        nodes.append(.label(xLabel, x: (plotLeft + plotRight) / 2, y: height - 10, anchor: "middle", fill: Theme.text))
        let cy = (plotTop + plotBottom) / 2
        nodes.append(.label(yLabel, x: 14, y: cy, anchor: "middle", fill: Theme.text,
                            extra: [("transform", "rotate(-90 14 \(NumberFormat.fixed(cy)))")]))
        return .group([("class", "axes")], nodes)
    }
}

/// A stable identifier for clip paths, derived from the chart's kind, title and size (several
/// charts share one HTML document, so ids must differ; equal charts may share one harmlessly).
func clipIdentifier(_ kind: String, _ title: String, _ salt: Int) -> String {
    let h = XXH3.hash(Array((kind + "|" + title + "|" + String(salt)).utf8), seed: 0x6B79_6D6F)
    return "clip-" + String(h, radix: 16)
}
