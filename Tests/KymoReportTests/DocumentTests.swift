import Foundation
import Testing
@testable import KymoReport

/// Cells of a Markdown table row: split at `|` not preceded by a backslash.
private func markdownCells(_ line: String) -> [String] {
    var cells: [String] = []
    var current = ""
    var escaped = false
    for ch in line {
        if ch == "|" && !escaped {
            cells.append(current)
            current = ""
        } else {
            current.append(ch)
        }
        escaped = ch == "\\" && !escaped
    }
    cells.append(current)
    return cells
}

@Suite struct DocumentTests {
    static let hostile = "fc1[0,1] <script>alert('x')</script> & \"q\" | *bold* _u_ `c`\nnext"

    static func model() -> ReportModel {
        var a = ReportSection(heading: "Error bounds")
        a.paragraph(hostile)
        a.table(ReportTable(columns: ["weight", "value", "bytes"], rows: [
            [.text(hostile), .bounded(value: 1.5, lower: 1, upper: 2.25), .bytes(2048)],
            [.text("short row")],
        ], caption: hostile))
        a.figure(.line(LineChart(title: hostile, xLabel: "step", yLabel: "loss",
                                 series: [Series(name: hostile, steps: [0, 1, 2], values: [3, 2, 1])])), caption: hostile)
        var b = ReportSection(heading: "Error bounds")
        b.blocks.append(.code("SELECT top 5 <weights> | x"))
        return ReportModel(title: hostile, subtitle: [hostile], sections: [a, b])
    }

    @Test func htmlEscapesEveryText() {
        #expect(Escape.html("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        let html = Self.model().html()
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<weights>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"))
        #expect(!html.contains("<script"))
    }

    @Test func markdownEscapesEveryText() {
        #expect(Escape.markdown("a|b *c* _d_ [e](f) <g> #h") == "a\\|b \\*c\\* \\_d\\_ \\[e](f) &lt;g> #h")
        // Ordinary technical text stays readable.
        #expect(Escape.markdown("784-512-256-10, η = 0.05, fc1_w[3,4] [lo, hi] R&D") == "784-512-256-10, η = 0.05, fc1_w[3,4] [lo, hi] R&D")
        // Block starters are neutralized; so are entities and links.
        #expect(Escape.markdown("# h") == "\\# h")
        #expect(Escape.markdown("- item") == "\\- item")
        #expect(Escape.markdown("12. item") == "12\\. item")
        #expect(Escape.markdown("&amp; [x]: y") == "&amp;amp; \\[x]: y")
        #expect(Escape.markdown("a\nb") == "a b")
        // Outside fenced code blocks (whose content Markdown shows literally) no raw markup remains.
        let parts = Self.model().markdown().components(separatedBy: "```")
        let prose = stride(from: 0, to: parts.count, by: 2).map { parts[$0] }.joined()
        let code = stride(from: 1, to: parts.count, by: 2).map { parts[$0] }.joined()
        #expect(parts.count % 2 == 1)  // fences are balanced
        #expect(!prose.contains("<script>"))
        #expect(!prose.replacingOccurrences(of: "\\*bold\\*", with: "").contains("*bold*"))
        #expect(prose.contains("\\*bold\\*"))
        #expect(!code.contains("`"))  // a backtick inside could close the fence
    }

    @Test func markdownTablesAreWellFormed() {
        let md = Self.model().markdown()
        let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tableLines = lines.filter { $0.hasPrefix("|") }
        #expect(tableLines.count == 4)  // header, rule, two rows
        for line in tableLines {
            #expect(line.hasSuffix("|"))
            #expect(markdownCells(line).count == 3 + 2)  // three columns, empty before/after the outer pipes
        }
        #expect(tableLines[1] == "| --- | ---: | ---: |")
        #expect(tableLines[2].contains("| 1.5 [1, 2.25] |"))
        #expect(tableLines[2].contains("2 KiB"))
    }

    @Test func htmlTablesRightAlignNumbersAndShowBounds() {
        let html = Self.model().html()
        #expect(html.contains("<th class=\"num\">value</th>"))
        #expect(html.contains("<td class=\"num\">1.5 [1, 2.25]</td>"))
        #expect(html.contains("<td class=\"num\">2 KiB</td>"))
        #expect(html.contains("<td>short row</td><td></td><td></td>"))
    }

    @Test func repeatedHeadingsGetDistinctAnchorsAndAContentsEntry() {
        let model = Self.model()
        #expect(model.anchors == ["error-bounds", "error-bounds-2"])
        let html = model.html()
        #expect(html.contains("<a href=\"#error-bounds\">") && html.contains("<a href=\"#error-bounds-2\">"))
        #expect(html.contains("<section id=\"error-bounds-2\">"))
        #expect(model.markdown().contains("2. [Error bounds](#error-bounds-2)"))
        #expect(Escape.anchor("Weight trajectories — fc1[3,4]!") == "weight-trajectories-fc1-3-4")
    }

    @Test func markdownFiguresBecomeSparklines() {
        #expect(MarkdownRenderer.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(MarkdownRenderer.sparkline([]) == "")
        let md = Self.model().markdown()
        #expect(md.contains("```text\n"))
        #expect(md.contains("first 3, last 1, min 1, max 3"))
    }

    @Test func clipPathIdsAreUniquePerGeometry() {
        // The demo has two "Training loss" charts with different legends (plot tops).
        let html = ReportDemo.model().html()
        var definitions: [String: String] = [:]
        var rest = Substring(html)
        while let r = rest.range(of: "<clipPath id=\"") {
            let after = rest[r.upperBound...]
            let id = String(after.prefix { $0 != "\"" })
            let rect = String(after.drop { $0 != "<" }.prefix { $0 != "/" })
            if let previous = definitions[id] { #expect(previous == rect, "clip id \(id) defined with two rects") }
            definitions[id] = rect
            rest = after
        }
        #expect(definitions.count >= 10)
    }

    @Test func cellFormatting() {
        #expect(TableCell.bounded(value: 0.12345, lower: -1e-7, upper: 123456789).formatted == "0.1235 [-1e-7, 1.235e8]")
        #expect(TableCell.percent(0.9821).formatted == "98.2 %")
        #expect(TableCell.integer(-3).formatted == "-3")
        #expect(!TableCell.text("1").isNumeric && TableCell.number(1).isNumeric)
    }
}
