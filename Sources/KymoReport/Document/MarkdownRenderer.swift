/// Renders a `ReportModel` as GitHub-flavoured Markdown for terminals and issue trackers.
/// Figures become a text block of sparklines and summary numbers; tables stay tables.
package enum MarkdownRenderer {
    /// - Complexity: O(size of the output).
    package static func render(_ model: ReportModel) -> String {
        var out = "# " + Escape.markdown(model.title) + "\n\n"
        for line in model.subtitle { out += Escape.markdown(line) + "  \n" }
        if !model.subtitle.isEmpty { out += "\n" }
        let anchors = model.anchors
        if model.sections.count > 1 {
            out += "**Contents**\n\n"
            for (i, (section, anchor)) in zip(model.sections, anchors).enumerated() {
                out += "\(i + 1). [" + Escape.markdown(section.heading) + "](#" + anchor + ")\n"
            }
            out += "\n"
        }
        var figureNumber = 0
        var tableNumber = 0
        for (section, anchor) in zip(model.sections, anchors) {
            out += "<a id=\"" + anchor + "\"></a>\n## " + Escape.markdown(section.heading) + "\n\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    out += Escape.markdown(text) + "\n\n"
                case .code(let text):
                    out += fenced(text)
                case .table(let table):
                    tableNumber += 1
                    out += renderTable(table, number: tableNumber) + "\n"
                case .figure(let chart, let caption):
                    figureNumber += 1
                    out += "**Figure \(figureNumber).** " + Escape.markdown(caption) + "\n\n"
                    out += fenced(summary(of: chart).joined(separator: "\n"))
                }
            }
        }
        return out
    }

    /// A pipe table; numeric columns are right-aligned (`---:`), `|` in cells is escaped and
    /// newlines become spaces, so every row has exactly `columns.count` cells.
    /// - Complexity: O(cells).
    package static func renderTable(_ table: ReportTable, number: Int) -> String {
        var out = ""
        if let caption = table.caption { out += "*Table \(number). " + Escape.markdown(caption) + "*\n\n" }
        out += "|" + table.columns.map { " " + Escape.markdown($0) + " |" }.joined() + "\n"
        out += "|" + table.columns.indices.map { table.isNumericColumn($0) ? " ---: |" : " --- |" }.joined() + "\n"
        for row in table.rows {
            out += "|"
            for i in table.columns.indices {
                let cell = i < row.count ? row[i] : .text("")
                out += " " + Escape.markdown(cell.formatted) + " |"
            }
            out += "\n"
        }
        return out
    }

    /// Lines that describe a chart in text: a sparkline and the extremes per series.
    /// - Complexity: O(data elements).
    package static func summary(of chart: Chart) -> [String] {
        switch chart {
        case .line(let c):
            let width = c.series.map(\.name.count).max() ?? 0
            return ["\(c.title) — \(c.yLabel) by \(c.xLabel)"] + c.series.map { s in
                let ys = Array(s.y.prefix(s.x.count))
                return pad(s.name, width) + "  " + sparkline(ys) + "  " + extremes(ys)
            }
        case .scatter(let c):
            let stats = BoundStatistics(c.observations)
            return ["\(c.title) — estimate vs truth, n = \(stats.count)",
                    "coverage \(stats.covered)/\(stats.count) = \(NumberFormat.percent(stats.coverageRate)), median error \(NumberFormat.significant(stats.medianError)), worst \(NumberFormat.significant(stats.worstError))"]
        case .bars(let c):
            return ["\(c.title) — \(c.yLabel) by \(c.xLabel) over [\(NumberFormat.significant(c.edges.first ?? 0)), \(NumberFormat.significant(c.edges.last ?? 0))]",
                    sparkline(c.counts) + "  total " + NumberFormat.significant(c.counts.reduce(0, +))]
        case .band(let c):
            let ys = Array(c.values.prefix(c.x.count))
            var lines = ["\(c.title) — band ± q/2, q = \(NumberFormat.significant(c.quantum))",
                         c.valueLabel + "  " + sparkline(ys) + "  " + extremes(ys)]
            let exact = Array(c.exact.prefix(c.x.count))
            if !exact.isEmpty { lines.append(c.exactLabel + "  " + sparkline(exact) + "  " + extremes(exact)) }
            return lines
        case .images(let c):
            return ["\(c.title) — \(c.images.count) images"] + c.images.map { $0.caption.joined(separator: ", ") }
        case .grid(let g):
            return g.charts.flatMap { summary(of: $0) + [""] }.dropLast().map { $0 }
        }
    }

    /// Unicode block sparkline of `values`, averaged into at most `width` buckets.
    /// - Complexity: O(values).
    package static func sparkline(_ values: [Double], width: Int = 48) -> String {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return "" }
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let buckets = min(width, values.count)
        var out = ""
        for b in 0..<buckets {
            let start = b * values.count / buckets, end = (b + 1) * values.count / buckets
            let slice = values[start..<end].filter(\.isFinite)
            guard !slice.isEmpty else { out += " "; continue }
            let mean = slice.reduce(0, +) / Double(slice.count)
            let t = hi > lo ? (mean - lo) / (hi - lo) : 0.5
            out.append(blocks[min(7, max(0, Int((t * 7).rounded())))])
        }
        return out
    }

    private static func extremes(_ ys: [Double]) -> String {
        guard let first = ys.first, let last = ys.last else { return "(empty)" }
        let finite = ys.filter(\.isFinite)
        return "first \(NumberFormat.significant(first)), last \(NumberFormat.significant(last)), min \(NumberFormat.significant(finite.min() ?? .nan)), max \(NumberFormat.significant(finite.max() ?? .nan))"
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }

    private static func fenced(_ text: String) -> String {
        "```text\n" + text.replacingBackticks() + "\n```\n\n"
    }
}

private extension String {
    /// A fence inside a fenced block would end it early.
    func replacingBackticks() -> String {
        var out = ""
        for ch in self { out.append(ch == "`" ? "'" : ch) }
        return out
    }
}
