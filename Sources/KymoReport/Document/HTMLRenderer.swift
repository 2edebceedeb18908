/// Renders a `ReportModel` as one self-contained HTML5 file: inline CSS and SVG, no script, no
/// external resource.
package enum HTMLRenderer {
    /// - Complexity: O(size of the output).
    package static func render(_ model: ReportModel) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<meta name=\"generator\" content=\"kymo report\">\n"
        out += "<title>" + Escape.html(model.title) + "</title>\n<style>\n" + css + "</style>\n</head>\n<body>\n<main>\n"
        out += "<header>\n<h1>" + Escape.html(model.title) + "</h1>\n"
        for line in model.subtitle { out += "<p class=\"subtitle\">" + Escape.html(line) + "</p>\n" }
        out += "</header>\n"
        let anchors = model.anchors
        if model.sections.count > 1 {
            out += "<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>\n"
            for (section, anchor) in zip(model.sections, anchors) {
                out += "<li><a href=\"#" + anchor + "\">" + Escape.html(section.heading) + "</a></li>\n"
            }
            out += "</ol>\n</nav>\n"
        }
        var figureNumber = 0
        var tableNumber = 0
        for (section, anchor) in zip(model.sections, anchors) {
            out += "<section id=\"" + anchor + "\">\n<h2>" + Escape.html(section.heading) + "</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    out += "<p>" + Escape.html(text) + "</p>\n"
                case .code(let text):
                    out += "<pre><code>" + Escape.html(text) + "</code></pre>\n"
                case .table(let table):
                    tableNumber += 1
                    out += renderTable(table, number: tableNumber)
                case .figure(let chart, let caption):
                    figureNumber += 1
                    out += "<figure>\n<div class=\"chart\">"
                    chart.svg().render(into: &out)
                    out += "</div>\n<figcaption><b>Figure \(figureNumber).</b> " + Escape.html(caption) + "</figcaption>\n</figure>\n"
                }
            }
            out += "</section>\n"
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    static func renderTable(_ table: ReportTable, number: Int) -> String {
        let numeric = table.columns.indices.map { table.isNumericColumn($0) }
        var out = "<div class=\"table-wrap\"><table>\n"
        if let caption = table.caption {
            out += "<caption><b>Table \(number).</b> " + Escape.html(caption) + "</caption>\n"
        }
        out += "<thead><tr>"
        for (i, column) in table.columns.enumerated() {
            out += (numeric[i] ? "<th class=\"num\">" : "<th>") + Escape.html(column) + "</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for row in table.rows {
            out += "<tr>"
            for i in table.columns.indices {
                let cell = i < row.count ? row[i] : .text("")
                let right = cell == .missing ? numeric[i] : cell.isNumeric
                out += (right ? "<td class=\"num\">" : "<td>") + Escape.html(cell.formatted) + "</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table></div>\n"
        return out
    }

    static let css = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f9fafb; color: #1f2937; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
    main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 64px; background: #fff; min-height: 100vh; box-shadow: 0 0 0 1px #e5e7eb; }
    h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
    h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 1px solid #e5e7eb; }
    .subtitle { margin: 0; color: #6b7280; font-size: 14px; }
    nav.toc { margin: 18px 0 6px; padding: 10px 18px; background: #f3f4f6; border-radius: 6px; }
    nav.toc h2 { font-size: 14px; margin: 0 0 4px; border: 0; padding: 0; text-transform: uppercase; letter-spacing: .05em; color: #6b7280; }
    nav.toc ol { margin: 0; padding-left: 22px; columns: 2; }
    a { color: #2563eb; text-decoration: none; }
    p { max-width: 78ch; }
    figure { margin: 16px 0 22px; }
    .chart { overflow-x: auto; }
    .chart svg { display: block; max-width: 100%; height: auto; }
    figcaption { color: #4b5563; font-size: 13.5px; margin-top: 6px; max-width: 90ch; }
    .table-wrap { overflow-x: auto; margin: 12px 0 18px; }
    table { border-collapse: collapse; font-size: 13.5px; }
    caption { caption-side: top; text-align: left; color: #4b5563; padding-bottom: 6px; }
    th, td { padding: 5px 12px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
    th { background: #f3f4f6; font-weight: 600; border-bottom: 1px solid #d1d5db; }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    tbody tr:nth-child(even) td { background: #fafafa; }
    pre { background: #f3f4f6; padding: 10px 14px; border-radius: 6px; overflow-x: auto; font-size: 13px; }
    @media print { body { background: #fff; } main { box-shadow: none; } }

    """
}
