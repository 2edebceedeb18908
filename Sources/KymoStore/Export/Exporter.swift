import KymoCore

/// Export formats that Python (NumPy, pandas, DuckDB) reads with no help from us.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// The values: shape (rows,) when a step holds one value, else (rows, width).
    case npy
    /// `steps.npy` (int64, one per row) and `values.npy`, stored uncompressed.
    case npz
    /// `step,value` or `step,v0,v1,…`; NaN as `nan`, infinities as `inf` / `-inf`.
    case csv
    /// One object per step: `{"step":3,"value":0.5}` or `{"step":3,"values":[…]}`; NaN and
    /// infinities as null.
    case jsonl
}

/// Turns a column into export bytes. Same store, same bytes: no timestamps, fixed order.
/// Quantized codes (int8, int16) are exported as their float32 values (code × scale).
public enum Exporter {
    /// The exported file's bytes for all committed steps of `column`.
    /// - Complexity: O(values).
    public static func export(_ reader: RunReader, column: String, format: ExportFormat) throws(StoreError) -> [UInt8] {
        let slices = try reader.readSlices(column: column, steps: 0..<Int.max)
        guard let first = slices.first else { throw .notFound("column '\(column)' has no chunks") }
        guard first.data.type != .blob else { throw .invalidArgument("column '\(column)' holds opaque blobs; only numeric columns export") }
        let width = first.width
        guard slices.allSatisfy({ $0.width == width }) else {
            throw .invalidArgument("column '\(column)' changes width between chunks; export its step ranges separately")
        }
        var steps: [Int64] = []
        for slice in slices { for s in slice.steps { steps.append(Int64(s)) } }
        let shape = width == 1 ? [steps.count] : [steps.count, width]
        let (descr, data) = values(slices)
        switch format {
        case .npy:
            return Npy.file(descr: descr, shape: shape, data: data)
        case .npz:
            var stepBytes = ByteWriter(capacity: steps.count * 8)
            for s in steps { stepBytes.write(s) }
            return try Zip.archive([("steps.npy", Npy.file(descr: "<i8", shape: [steps.count], data: stepBytes.bytes)),
                                    ("values.npy", Npy.file(descr: descr, shape: shape, data: data))])
        case .csv, .jsonl:
            return text(slices, steps: steps, width: width, csv: format == .csv)
        }
    }

    /// Writes the export to `path`.
    /// - Complexity: O(values).
    public static func export(_ reader: RunReader, column: String, format: ExportFormat, to path: String) throws(StoreError) {
        let bytes = try export(reader, column: column, format: format)
        let file = try StoreFile.openForWriting(path, create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
    }

    private static func values(_ slices: [ColumnSlice]) -> (String, [UInt8]) {
        var w = ByteWriter(capacity: slices.reduce(0) { $0 + $1.data.count * 4 })
        let type = slices[0].data.type
        for slice in slices {
            switch slice.data {
            case let .float32(v): for x in v { w.write(x) }
            case let .float16(v): for x in v { w.write(x) }
            case let .int8(v, s): for x in v { w.write(Float(x) * s) }
            case let .int16(v, s): for x in v { w.write(Float(x) * s) }
            case let .uint32(v): for x in v { w.write(x) }
            case let .int32(v): for x in v { w.write(x) }
            case .blob: break
            }
        }
        let descr = switch type {
        case .float16: "<f2"
        case .uint32: "<u4"
        case .int32: "<i4"
        default: "<f4"
        }
        return (descr, w.bytes)
    }

    private static func text(_ slices: [ColumnSlice], steps: [Int64], width: Int, csv: Bool) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        func number(_ x: Float) -> String {
            if x.isNaN { return csv ? "nan" : "null" }
            if x.isInfinite { return csv ? (x < 0 ? "-inf" : "inf") : "null" }
            return x.description
        }
        if csv {
            put(width == 1 ? "step,value\n" : "step," + (0..<width).map { "v\($0)" }.joined(separator: ",") + "\n")
        }
        var row = 0
        for slice in slices {
            let strings: [String] = switch slice.data {
            case let .uint32(v): v.map { String($0) }
            case let .int32(v): v.map { String($0) }
            default: (slice.data.floatValues() ?? []).map(number)
            }
            for r in 0..<slice.steps.count {
                let cells = strings[(r * width)..<((r + 1) * width)]
                let step = steps[row]
                row += 1
                if csv {
                    put("\(step)," + cells.joined(separator: ",") + "\n")
                } else if width == 1 {
                    put("{\"step\":\(step),\"value\":\(cells.first!)}\n")
                } else {
                    put("{\"step\":\(step),\"values\":[" + cells.joined(separator: ",") + "]}\n")
                }
            }
        }
        return out
    }
}
