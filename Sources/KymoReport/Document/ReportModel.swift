/// One cell of a report table. Numbers are right-aligned; a bounded value prints as `v [lo, hi]`.
package enum TableCell: Sendable, Equatable {
    case text(String)
    case number(Double)
    case integer(Int)
    case bytes(Int)
    case percent(Double)
    case bounded(value: Double, lower: Double, upper: Double)
    /// No value (printed `—`); does not make a numeric column textual.
    case missing

    /// The cell's text, locale-free (4 significant digits for numbers).
    /// - Complexity: O(1).
    package var formatted: String {
        switch self {
        case .text(let s): s
        case .number(let v): NumberFormat.significant(v)
        case .integer(let v): String(v)
        case .bytes(let v): NumberFormat.bytes(v)
        case .percent(let v): NumberFormat.percent(v)
        case .missing: "—"
        case .bounded(let v, let lo, let hi):
            "\(NumberFormat.significant(v)) [\(NumberFormat.significant(lo)), \(NumberFormat.significant(hi))]"
        }
    }

    /// Whether the cell is numeric (right-aligned).
    /// - Complexity: O(1).
    package var isNumeric: Bool {
        if case .text = self { return false }
        return true
    }
}

/// A table: column titles and rows of cells (short rows are padded with empty cells).
package struct ReportTable: Sendable, Equatable {
    package var columns: [String]
    package var rows: [[TableCell]]
    package var caption: String?

    /// - Complexity: O(1).
    package init(columns: [String], rows: [[TableCell]], caption: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.caption = caption
    }

    /// Whether column `index` is numeric: every non-empty cell in it is.
    /// - Complexity: O(rows).
    package func isNumericColumn(_ index: Int) -> Bool {
        let cells = rows.compactMap { index < $0.count ? $0[index] : nil }.filter { $0 != .missing }
        return !cells.isEmpty && cells.allSatisfy(\.isNumeric)
    }
}

/// One block of a section, in reading order.
package enum ReportBlock: Sendable, Equatable {
    case paragraph(String)
    case table(ReportTable)
    case figure(Chart, caption: String)
    /// A monospaced block (query text, `--explain` output).
    case code(String)
}

/// A section: a heading and its blocks. Its anchor derives from the heading.
package struct ReportSection: Sendable, Equatable {
    package var heading: String
    package var blocks: [ReportBlock]

    /// - Complexity: O(1).
    package init(heading: String, blocks: [ReportBlock] = []) {
        self.heading = heading
        self.blocks = blocks
    }

    /// The fragment identifier the table of contents links to.
    /// - Complexity: O(heading length).
    package var anchor: String { Escape.anchor(heading) }

    /// Appends a paragraph.
    /// - Complexity: amortized O(1).
    package mutating func paragraph(_ text: String) { blocks.append(.paragraph(text)) }
    /// Appends a table.
    /// - Complexity: amortized O(1).
    package mutating func table(_ table: ReportTable) { blocks.append(.table(table)) }
    /// Appends a figure with its caption.
    /// - Complexity: amortized O(1).
    package mutating func figure(_ chart: Chart, caption: String) { blocks.append(.figure(chart, caption: caption)) }
}

/// The whole report: what `kymo report` fills and both renderers draw.
package struct ReportModel: Sendable, Equatable {
    package var title: String
    /// Lines under the title (lab, run, seed, date given by the caller — nothing is read here).
    package var subtitle: [String]
    package var sections: [ReportSection]

    /// - Complexity: O(1).
    package init(title: String, subtitle: [String] = [], sections: [ReportSection] = []) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    /// Anchors of the sections, made unique by a numeric suffix where headings repeat.
    /// - Complexity: O(sections²) in the worst case.
    package var anchors: [String] {
        var used: [String] = []
        for section in sections {
            var candidate = section.anchor
            var n = 2
            while used.contains(candidate) {
                candidate = section.anchor + "-\(n)"
                n += 1
            }
            used.append(candidate)
        }
        return used
    }

    /// The report as one self-contained HTML file.
    /// - Complexity: O(size of the output).
    package func html() -> String { HTMLRenderer.render(self) }

    /// The report as Markdown (figures become sparklines and summaries).
    /// - Complexity: O(size of the output).
    package func markdown() -> String { MarkdownRenderer.render(self) }
}
