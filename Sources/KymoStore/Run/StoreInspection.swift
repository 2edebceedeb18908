/// The text of `kymo inspect` for one run.
public enum StoreInspection {
    /// Tier of a column: its prefix up to the first "/" when that is t0…t3, else "other".
    /// - Complexity: O(name length).
    public static func tier(of column: String) -> String {
        if column == RunWriter.checkpointColumn { return "checkpoints" }
        let prefix = column.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        return ["t0", "t1", "t2", "t3"].contains(prefix) ? prefix : "other"
    }

    static func size(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format1(value)) + " " + units[unit]
    }

    static func format1(_ x: Double) -> String {
        let scaled = (x * 10).rounded() / 10
        return scaled.description
    }

    static func ratio(_ raw: Int, _ stored: Int) -> String {
        stored == 0 ? "-" : format1(Double(raw) / Double(stored)) + "x"
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// - Complexity: O(chunks).
    public static func describe(_ reader: RunReader) -> String {
        let chunks = reader.allChunks()
        let raw = chunks.reduce(0) { $0 + $1.rawSize }, stored = chunks.reduce(0) { $0 + $1.length }
        var lines = ["run \(reader.name): \(reader.manifest.status); steps committed \(reader.committedSteps.lowerBound)..<\(reader.committedSteps.upperBound); \(reader.commitCount) commits, \(chunks.count) chunks; raw \(size(raw)), stored \(size(stored)), ratio \(ratio(raw, stored))"]
        lines.append("  " + pad("tier", 12) + pad("column", 28) + pad("type", 9) + pad("chunks", 8) + pad("steps", 16) + pad("raw", 11) + pad("stored", 11) + pad("ratio", 7) + "filters")
        var tiers: [String: (raw: Int, stored: Int)] = [:]
        let names = reader.columns() + (reader.checkpointSteps().isEmpty ? [] : [RunWriter.checkpointColumn])
        for column in names {
            let list = reader.chunks(column: column)
            guard let first = list.first, let last = list.last else { continue }
            let r = list.reduce(0) { $0 + $1.rawSize }, s = list.reduce(0) { $0 + $1.length }
            let tier = tier(of: column)
            tiers[tier, default: (0, 0)].raw += r
            tiers[tier, default: (0, 0)].stored += s
            var filters: [String] = []
            for f in ChunkFilter.allCases {
                let n = list.filter { $0.filter == f && $0.codec != 0 }.count
                if n > 0 { filters.append("\(f) \(n)") }
            }
            let uncompressed = list.filter { $0.codec == 0 }.count
            if uncompressed > 0 { filters.append("stored raw \(uncompressed)") }
            lines.append("  " + pad(tier, 12) + pad(column, 28) + pad(first.type.description, 9) + pad(String(list.count), 8)
                         + pad("\(first.steps.lowerBound)..<\(last.steps.upperBound)", 16) + pad(size(r), 11) + pad(size(s), 11)
                         + pad(ratio(r, s), 7) + filters.joined(separator: ", "))
        }
        for tier in tiers.keys.sorted() {
            let t = tiers[tier]!
            lines.append("  tier \(tier): raw \(size(t.raw)), stored \(size(t.stored)), ratio \(ratio(t.raw, t.stored))")
        }
        return lines.joined(separator: "\n")
    }
}
