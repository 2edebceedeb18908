/// A plain-text table: a header, a rule of dashes, rows; columns separated by two spaces, each
/// padded to its widest cell (counted in Unicode scalars), left- or right-aligned. No trailing spaces.
package struct TextTable: Sendable {
    package var header: [String]
    package var rightAligned: [Bool]
    package var rows: [[String]]
    /// Text put before every line.
    package var indent: String

    package init(header: [String], rightAligned: [Bool], rows: [[String]] = [], indent: String = "") {
        self.header = header
        self.rightAligned = rightAligned
        self.rows = rows
        self.indent = indent
    }

    /// - Complexity: O(total characters).
    package func rendered() -> String {
        let columnCount = header.count
        var widths = header.map(\.unicodeScalars.count)
        for row in rows {
            for (i, cell) in row.prefix(columnCount).enumerated() { widths[i] = max(widths[i], cell.unicodeScalars.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for i in 0..<columnCount {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.unicodeScalars.count)
                parts.append(i < rightAligned.count && rightAligned[i] ? pad + cell : cell + pad)
            }
            var text = indent + parts.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        let rule = widths.enumerated().map { i, width in header[i].isEmpty ? "" : String(repeating: "-", count: width) }
        var lines = [line(header), line(rule)]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}
