/// Reads a data set from comma-separated numbers: one sample a line, the features first, the
/// integer class label in the last column. The file may be gzipped.
///
/// - Numbers are decimal (`3`, `-0.25`, `1e-3`); features must be finite and are kept as they
///   are (no scaling). Spaces and tabs around a field are ignored; `\r\n` line ends are accepted.
/// - Labels are whole numbers in 0...65535; the class count is the largest label + 1.
/// - Empty lines are skipped. A first line in which no field is a number is a header and is
///   skipped; anywhere else a non-number is an error.
/// - Every line must have as many columns as the first data line (at least 2).
///
/// Errors name the line and column (both from 1) and the byte offset of the field (of the
/// gunzipped content, for a `.gz` file).
enum CSVLoader {
    /// The largest label accepted.
    static let maxLabel = 65_535

    /// - Complexity: O(n) in the file's size.
    static func load(path: String) throws(EngineError) -> Dataset {
        let bytes = try DataFiles.readMaybeGzipped(path)
        let source = path.hasSuffix(".gz") ? path + " (gunzipped)" : path
        let table = try parse(bytes, source: source)
        return Dataset(name: path, featureCount: table.featureCount, classCount: table.classCount,
                       features: table.features, labels: table.labels)
    }

    struct Table {
        var featureCount: Int
        var classCount: Int
        var features: [Float]
        var labels: [Int32]
    }

    /// Parses CSV text (see the type's rules).
    /// - Throws: `EngineError.malformedData` naming `source`, the line and column, and the offset.
    /// - Complexity: O(n) in the number of bytes.
    static func parse(_ bytes: [UInt8], source: String) throws(EngineError) -> Table {
        var features: [Float] = []
        var labels: [Int32] = []
        var columns = 0
        var firstDataLine = 0
        var maxLabelSeen = -1
        var lineNumber = 0
        var lineStart = 0
        var sawLine = false
        var row: [Float] = []
        let n = bytes.count
        while lineStart < n {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < n && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let nextLine = lineEnd + 1
            if lineEnd > lineStart && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { lineStart = nextLine }
            if isBlank(bytes, lineStart, lineEnd) { continue }

            // Split into fields: (start, end) byte ranges, trimmed.
            var fields: [(start: Int, end: Int)] = []
            var fieldStart = lineStart
            var i = lineStart
            while true {
                if i == lineEnd || bytes[i] == UInt8(ascii: ",") {
                    fields.append(trim(bytes, fieldStart, i))
                    if i == lineEnd { break }
                    fieldStart = i + 1
                }
                i += 1
            }

            if !sawLine {
                sawLine = true
                let isHeader = fields.allSatisfy { parseNumber(bytes, $0.start, $0.end) == nil }
                if isHeader { continue }
            }
            let location = "line \(lineNumber)"
            if columns == 0 {
                guard fields.count >= 2 else {
                    throw .malformedData(source: source, field: location, offset: lineStart,
                                         message: "a line needs at least 2 columns (features, then the label); found \(fields.count)")
                }
                columns = fields.count
                firstDataLine = lineNumber
                row.reserveCapacity(columns - 1)
            } else if fields.count != columns {
                throw .malformedData(source: source, field: location, offset: lineStart,
                                     message: "ragged row: \(fields.count) columns, expected \(columns) as on line \(firstDataLine)")
            }
            row.removeAll(keepingCapacity: true)
            for (c, field) in fields.enumerated() {
                let fieldLocation = "line \(lineNumber), column \(c + 1)"
                guard let value = parseNumber(bytes, field.start, field.end) else {
                    throw .malformedData(source: source, field: fieldLocation, offset: field.start,
                                         message: "'\(text(bytes, field))' is not a number")
                }
                if c < columns - 1 {
                    guard value.isFinite, Float(value).isFinite else {
                        throw .malformedData(source: source, field: fieldLocation, offset: field.start,
                                             message: "feature '\(text(bytes, field))' is not a finite Float")
                    }
                    // Integers below 2^24 are exact in Float; anything else is parsed again
                    // straight to Float, so it is rounded once, not twice.
                    if value == value.rounded(.towardZero) && abs(value) < 0x1p24 {
                        row.append(Float(value))
                    } else {
                        row.append(Float(String(decoding: bytes[field.start..<field.end], as: UTF8.self)) ?? Float(value))
                    }
                } else {
                    guard value == value.rounded(.towardZero), value.isFinite else {
                        throw .malformedData(source: source, field: fieldLocation + " (label)", offset: field.start,
                                             message: "label '\(text(bytes, field))' is not a whole number")
                    }
                    guard value >= 0, value <= Double(maxLabel) else {
                        throw .malformedData(source: source, field: fieldLocation + " (label)", offset: field.start,
                                             message: "label \(text(bytes, field)) is out of range 0...\(maxLabel)")
                    }
                    let label = Int(value)
                    maxLabelSeen = max(maxLabelSeen, label)
                    labels.append(Int32(label))
                }
            }
            features.append(contentsOf: row)
        }
        guard !labels.isEmpty else {
            throw .malformedData(source: source, field: "line 1", offset: 0, message: "no samples (the file is empty or holds only a header)")
        }
        return Table(featureCount: columns - 1, classCount: maxLabelSeen + 1, features: features, labels: labels)
    }

    private static func isBlank(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            if bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\t") { return false }
            i += 1
        }
        return true
    }

    private static func trim(_ bytes: [UInt8], _ start: Int, _ end: Int) -> (start: Int, end: Int) {
        var s = start, e = end
        while s < e && (bytes[s] == UInt8(ascii: " ") || bytes[s] == UInt8(ascii: "\t")) { s += 1 }
        while e > s && (bytes[e - 1] == UInt8(ascii: " ") || bytes[e - 1] == UInt8(ascii: "\t")) { e -= 1 }
        return (s, e)
    }

    private static func text(_ bytes: [UInt8], _ field: (start: Int, end: Int)) -> String {
        let end = min(field.end, field.start + 40)
        return String(decoding: bytes[field.start..<end], as: UTF8.self) + (end < field.end ? "…" : "")
    }

    /// A decimal number: a fast path for short integers (pixels, labels), the standard library's
    /// correctly rounded parser for the rest. Rejects hexadecimal, `nan` and `inf` spellings.
    static func parseNumber(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Double? {
        guard start < end else { return nil }
        var i = start
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        if i < end && end - i <= 15 {
            var value = 0
            var j = i
            while j < end, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
                value = value * 10 + Int(bytes[j] - UInt8(ascii: "0"))
                j += 1
            }
            if j == end { return negative ? -Double(value) : Double(value) }
        }
        // Only decimal syntax: digits, one point, an exponent.
        for k in i..<end {
            switch bytes[k] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                 UInt8(ascii: "-"), UInt8(ascii: "+"):
                continue
            default:
                return nil
            }
        }
        return Double(String(decoding: bytes[start..<end], as: UTF8.self))
    }
}
