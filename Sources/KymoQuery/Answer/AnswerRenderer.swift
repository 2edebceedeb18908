/// Renders answers for terminals (`table`), programs (`json`) and data tools (`csv`).
/// All three are deterministic: columns in answer order, keys in a fixed order, no hash order.
package enum AnswerRenderer {
    /// An aligned table. Each estimate column shows as three: the value, its bounds `[lo, hi]`, and
    /// its source (with `@95%` when the confidence is below 1). Values to 4 significant digits.
    /// Notes follow the table, one per line, after `note: `.
    /// - Complexity: O(cells).
    package static func table(_ answer: Answer) -> String {
        var header: [String] = []
        var right: [Bool] = []
        for column in answer.columns {
            switch column.kind {
            case .estimate:
                header += [column.name, "[lo, hi]", "source"]
                right += [true, false, false]
            case .integer:
                header.append(column.name)
                right.append(true)
            case .text:
                header.append(column.name)
                right.append(false)
            }
        }
        var table = TextTable(header: header, rightAligned: right)
        for row in answer.rows {
            var cells: [String] = []
            for (i, column) in answer.columns.enumerated() {
                let cell = i < row.count ? row[i] : .missing
                if column.kind == .estimate {
                    if case .estimate(let e) = cell {
                        cells += [NumberFormat.significant(e.value),
                                  "[" + NumberFormat.significant(e.lower) + ", " + NumberFormat.significant(e.upper) + "]",
                                  e.source.description + (e.confidence < 1 ? " @" + percent(e.confidence) : "")]
                    } else {
                        cells += [text(cell), "", ""]
                    }
                } else {
                    cells.append(text(cell))
                }
            }
            table.rows.append(cells)
        }
        var out = table.rendered()
        if answer.rows.isEmpty { out += "\n(no rows)" }
        for note in answer.notes { out += "\nnote: " + note }
        return out
    }

    private static func percent(_ fraction: Double) -> String {
        NumberFormat.significant(fraction * 100, digits: 4) + "%"
    }

    private static func text(_ cell: Cell) -> String {
        switch cell {
        case .estimate(let e): return NumberFormat.significant(e.value)
        case .integer(let i): return String(i)
        case .text(let s): return s
        case .missing: return "-"
        }
    }

    /// One JSON object, keys in this order: `query` (if known), `columns` (`name`, `type`), `rows`
    /// (one object per row, keys in column order; an estimate is `{value, lower, upper, confidence,
    /// source}`), `notes`. Numbers in full precision; non-finite numbers and missing cells as null.
    /// Two-space indentation, one row per line.
    /// - Complexity: O(cells).
    package static func json(_ answer: Answer) -> String {
        var out = "{\n"
        if let query = answer.query { out += "  \"query\": \(jsonString(query)),\n" }
        out += "  \"columns\": ["
        out += answer.columns.map { "{\"name\": \(jsonString($0.name)), \"type\": \"\($0.kind.rawValue)\"}" }
            .joined(separator: ", ")
        out += "],\n  \"rows\": ["
        if !answer.rows.isEmpty {
            out += "\n" + answer.rows.map { row in
                "    {" + answer.columns.enumerated().map { i, column in
                    jsonString(column.name) + ": " + jsonValue(i < row.count ? row[i] : .missing)
                }.joined(separator: ", ") + "}"
            }.joined(separator: ",\n") + "\n  "
        }
        out += "],\n  \"notes\": [" + answer.notes.map(jsonString).joined(separator: ", ") + "]\n}"
        return out
    }

    private static func jsonNumber(_ x: Double) -> String {
        x.isFinite ? NumberFormat.full(x) : "null"
    }

    private static func jsonValue(_ cell: Cell) -> String {
        switch cell {
        case .estimate(let e):
            return "{\"value\": \(jsonNumber(e.value)), \"lower\": \(jsonNumber(e.lower)), "
                + "\"upper\": \(jsonNumber(e.upper)), \"confidence\": \(jsonNumber(e.confidence)), "
                + "\"source\": \(jsonString(e.source.description))}"
        case .integer(let i): return String(i)
        case .text(let s): return jsonString(s)
        case .missing: return "null"
        }
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t` or `\u00XX`.
    /// - Complexity: O(|s|).
    package static func jsonString(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + s + "\""
        }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// RFC 4180 CSV with a header row; an estimate column `c` becomes five: `c`, `c_lower`, `c_upper`,
    /// `c_confidence`, `c_source`. Numbers in full precision, missing cells empty, lines end in `\n`.
    /// Notes are not part of the CSV (they go to standard error).
    /// - Complexity: O(cells).
    package static func csv(_ answer: Answer) -> String {
        var header: [String] = []
        for column in answer.columns {
            if column.kind == .estimate {
                header += ["", "_lower", "_upper", "_confidence", "_source"].map { column.name + $0 }
            } else {
                header.append(column.name)
            }
        }
        var lines = [header.map(csvField).joined(separator: ",")]
        for row in answer.rows {
            var fields: [String] = []
            for (i, column) in answer.columns.enumerated() {
                let cell = i < row.count ? row[i] : .missing
                switch cell {
                case .estimate(let e):
                    fields += [NumberFormat.full(e.value), NumberFormat.full(e.lower), NumberFormat.full(e.upper),
                               NumberFormat.full(e.confidence), e.source.description]
                case .integer(let v): fields.append(String(v))
                case .text(let s): fields.append(csvField(s))
                case .missing: fields += Array(repeating: "", count: column.kind == .estimate ? 5 : 1)
                }
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
