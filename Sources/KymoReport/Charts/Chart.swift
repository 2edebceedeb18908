/// Any figure a report can hold.
package indirect enum Chart: Sendable, Equatable {
    case line(LineChart)
    case scatter(BoundScatter)
    case bars(BarChart)
    case band(BandChart)
    case images(ImageGrid)
    case grid(SmallMultiples)

    /// Width in pixels.
    /// - Complexity: O(1) (O(charts) for a grid).
    package var width: Double {
        switch self {
        case .line(let c): c.width
        case .scatter(let c): c.width
        case .bars(let c): c.width
        case .band(let c): c.width
        case .images(let c): c.width
        case .grid(let c): c.width
        }
    }

    /// Height in pixels.
    /// - Complexity: O(1) (O(charts) for a grid).
    package var height: Double {
        switch self {
        case .line(let c): c.height
        case .scatter(let c): c.height
        case .bars(let c): c.height
        case .band(let c): c.height
        case .images(let c): c.height
        case .grid(let c): c.height
        }
    }

    /// The chart's root `<svg>` element.
    /// - Complexity: O(data elements).
    package func svg() -> SVGNode {
        switch self {
        case .line(let c): c.svg()
        case .scatter(let c): c.svg()
        case .bars(let c): c.svg()
        case .band(let c): c.svg()
        case .images(let c): c.svg()
        case .grid(let c): c.svg()
        }
    }

    /// The chart as SVG text; equal charts give equal bytes.
    /// - Complexity: O(data elements).
    package func rendered() -> String { svg().render() }
}

/// Charts of one kind laid out in a grid of `columns`, each keeping its own axes.
package struct SmallMultiples: Sendable, Equatable {
    package var charts: [Chart]
    package var columns: Int
    package var gap: Double

    /// - Complexity: O(1).
    package init(_ charts: [Chart], columns: Int = 2, gap: Double = 12) {
        precondition(columns >= 1)
        self.charts = charts
        self.columns = columns
        self.gap = gap
    }

    private var columnWidths: [Double] {
        (0..<min(columns, charts.count)).map { c in
            stride(from: c, to: charts.count, by: columns).map { charts[$0].width }.max() ?? 0
        }
    }

    private var rowHeights: [Double] {
        stride(from: 0, to: charts.count, by: columns).map { start in
            charts[start..<min(charts.count, start + columns)].map(\.height).max() ?? 0
        }
    }

    /// - Complexity: O(charts).
    package var width: Double { columnWidths.reduce(0, +) + gap * Double(max(0, columnWidths.count - 1)) }
    /// - Complexity: O(charts).
    package var height: Double { rowHeights.reduce(0, +) + gap * Double(max(0, rowHeights.count - 1)) }

    /// - Complexity: O(data elements of all charts).
    package func svg() -> SVGNode {
        let widths = columnWidths, heights = rowHeights
        var children: [SVGNode] = []
        for (i, chart) in charts.enumerated() {
            let c = i % columns, r = i / columns
            let x = widths[..<c].reduce(0, +) + gap * Double(c)
            let y = heights[..<r].reduce(0, +) + gap * Double(r)
            var node = chart.svg()
            node.attributes.removeAll { $0.name == "xmlns" }
            node.attributes.insert(SVGAttribute("y", NumberFormat.fixed(y)), at: 0)
            node.attributes.insert(SVGAttribute("x", NumberFormat.fixed(x)), at: 0)
            children.append(node)
        }
        return SVGNode("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", NumberFormat.fixed(width)), ("height", NumberFormat.fixed(height)),
            ("viewBox", "0 0 \(NumberFormat.fixed(width)) \(NumberFormat.fixed(height))"),
            ("font-family", Theme.font), ("font-size", "11"), ("role", "img"),
        ], children: children)
    }
}
