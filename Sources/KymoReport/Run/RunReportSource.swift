import KymoRecorder
import KymoSketches
import KymoStore

/// One recorded run read for `kymo report`: its columns through KymoStore's `RunReader` per
/// docs/RECORDING.md (store rows are 0-based; the report counts steps from 1, so step t is row
/// t − 1) and the recorder's manifest section.
package final class RunReportSource {
    package let name: String
    package let reader: RunReader
    package let manifest: RecorderManifest
    /// Committed rows: steps 1…rows.
    package let rows: Int
    /// Total parameter count P.
    package let parameterCount: Int

    /// - Complexity: O(chunks) (opening the run).
    package init(reader: RunReader) throws {
        self.reader = reader
        name = reader.name
        do { manifest = try RecorderManifest(manifestConfig: reader.manifest.config) } catch {
            throw ReportError.manifest(run: reader.name, problem: "no recorder section (\(error))")
        }
        rows = reader.committedSteps.upperBound
        parameterCount = manifest.layers.reduce(0) { $0 + $1.outputs * ($1.inputs + 1) }
    }

    /// Opens `run` in the lab at `labPath`.
    /// - Complexity: O(chunks).
    package convenience init(labPath: String, run: String) throws {
        let lab = try Lab(existing: labPath)
        try self.init(reader: try lab.openRun(run))
    }

    package func has(_ column: String) -> Bool { !reader.chunks(column: column).isEmpty }

    /// The float values of a column over all committed rows (empty when absent).
    /// - Complexity: O(column bytes).
    package func floats(_ column: String) throws -> [Float] {
        guard has(column) else { return [] }
        var out: [Float] = []
        for slice in try reader.readSlices(column: column, steps: 0..<rows) {
            guard let v = slice.data.floatValues() else {
                throw ReportError.column(run: name, column: column, problem: "expected floats, found \(slice.data.type)")
            }
            out += v
        }
        return out
    }

    /// Rows of a fixed-width float column: (row, values) in row order.
    /// - Complexity: O(column bytes).
    package func floatRows(_ column: String) throws -> [(row: Int, values: [Float])] {
        guard has(column) else { return [] }
        var out: [(row: Int, values: [Float])] = []
        for slice in try reader.readSlices(column: column, steps: 0..<rows) {
            guard let v = slice.data.floatValues() else {
                throw ReportError.column(run: name, column: column, problem: "expected floats, found \(slice.data.type)")
            }
            let n = slice.steps.count
            guard n > 0, v.count % n == 0 else { continue }
            let w = v.count / n
            for (i, r) in slice.steps.enumerated() { out.append((r, Array(v[(i * w)..<((i + 1) * w)]))) }
        }
        return out
    }

    /// Rows of a U32 column.
    /// - Complexity: O(column bytes).
    package func uintRows(_ column: String) throws -> [(row: Int, values: [UInt32])] {
        guard has(column) else { return [] }
        var out: [(row: Int, values: [UInt32])] = []
        for slice in try reader.readSlices(column: column, steps: 0..<rows) {
            guard case let .uint32(v) = slice.data else {
                throw ReportError.column(run: name, column: column, problem: "expected U32, found \(slice.data.type)")
            }
            let n = slice.steps.count
            guard n > 0, v.count % n == 0 else { continue }
            let w = v.count / n
            for (i, r) in slice.steps.enumerated() { out.append((r, Array(v[(i * w)..<((i + 1) * w)]))) }
        }
        return out
    }

    /// The blob chunks of a column: (first row of the chunk, rows, bytes), in row order.
    /// - Complexity: O(column bytes).
    package func blobs(_ column: String) throws -> [(steps: Range<Int>, bytes: [UInt8])] {
        try reader.chunks(column: column).filter { $0.steps.lowerBound < rows }.flatMap { chunk in
            guard chunk.type == .blob else {
                throw ReportError.column(run: name, column: column, problem: "expected blobs, found \(chunk.type)")
            }
            // A packed chunk (many steps' blobs, `StepBlobs`) is split into one blob per step.
            guard chunk.tag == StepBlobs.tag else {
                guard case let .blob(bytes) = try reader.readChunk(chunk) else { return [(steps: Range<Int>, bytes: [UInt8])]() }
                return [(chunk.steps, bytes)]
            }
            let pack = try reader.readStepBlobs(chunk)
            return pack.steps.filter { $0 < rows }.map { (($0..<($0 + 1)), Array(pack.blob(step: $0)!)) }
        }
    }

    // MARK: - Parameters

    /// The layer holding flat id `id` and the id's index inside it.
    /// - Complexity: O(layers).
    package func layer(of id: Int) -> (layer: Int, local: Int) {
        var l = 0
        while l + 1 < manifest.layers.count, manifest.layers[l + 1].offset <= id { l += 1 }
        return (l, id - manifest.layers[l].offset)
    }

    /// `fc1[3, 17]` for a weight, `fc1.bias[3]` for a bias.
    /// - Complexity: O(layers).
    package func parameterName(_ id: Int) -> String {
        let (l, local) = layer(of: id)
        let info = manifest.layers[l]
        let weights = info.outputs * info.inputs
        return local < weights ? "\(info.name)[\(local / info.inputs), \(local % info.inputs)]" : "\(info.name).bias[\(local - weights)]"
    }

    // MARK: - T2 trajectories

    /// Snapshot rows and decoded ŵ (all P, layers in order) after each of them, in row order.
    /// Calls `body(row, values, bounds)` once per snapshot; values and bounds are P floats.
    /// - Complexity: O(P · snapshots).
    package func forEachSnapshot(_ body: (Int, [Float], [Float]) throws -> Void) throws {
        let layers = manifest.layers
        let stride = manifest.trajectoryStride
        guard stride > 0, !layers.isEmpty else { return }
        let columns = layers.map { "t2/traj/\($0.name)" }
        let chunkLists = columns.map { reader.chunks(column: $0) }
        guard let first = chunkLists.first, chunkLists.allSatisfy({ $0.count == first.count }) else { return }
        for c in first.indices {
            var steps: [[TrajectoryStep]] = []
            for l in layers.indices {
                let chunk = chunkLists[l][c]
                guard case let .blob(bytes) = try reader.readChunk(chunk) else {
                    throw ReportError.column(run: name, column: columns[l], problem: "expected blobs")
                }
                steps.append(try QuantizedTrajectory(deserializing: bytes).decoded())
            }
            let range = chunkLists[0][c].steps
            let snapshotRows = range.filter { $0 % stride == 0 }
            for (k, row) in snapshotRows.enumerated() where row < rows {
                var v: [Float] = [], b: [Float] = []
                v.reserveCapacity(parameterCount); b.reserveCapacity(parameterCount)
                var ok = true
                for l in layers.indices {
                    guard k < steps[l].count else { ok = false; break }
                    v += steps[l][k].values
                    b += steps[l][k].bounds
                }
                if ok { try body(row, v, b) }
            }
        }
    }
}
