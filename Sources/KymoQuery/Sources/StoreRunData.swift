import KymoCore
import KymoEngine
import KymoSketches
import KymoStore

/// A recorded run read from the store: a snapshot at the reader's last commit (`refresh()` moves
/// it forward). Column names and manifest keys are in `StoreColumns`.
package final class StoreRunData: RunData {
    package let reader: RunReader
    package private(set) var catalog: RunCatalog
    let quantum: [Float]
    /// Decoded trajectory cursor: row index and ŵ after it (closed-loop deltas decode in order).
    var trajectoryCursor: (index: Int, values: [Float])?
    var probeRows: [(step: Int, loss: Float, accuracy: Float)]?
    /// The last |g| sketch read (planning and execution read the same first step).
    var quantileCache: (step: Int, sketch: MagnitudeQuantiles?)?
    /// The last chunk decoded per column (lookup only, never iterated).
    var chunkCache: [String: (info: ChunkInfo, data: ColumnData)] = [:]

    /// - Throws: `QueryError.invalid` when the manifest lacks what the executor needs.
    /// - Complexity: O(manifest + index).
    package init(reader: RunReader) throws {
        self.reader = reader
        let config = reader.manifest.config
        func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
            if let v = config[key].flatMap({ Int($0) }) ?? fallback { return v }
            throw QueryError.invalid(location: nil, message: "run '\(reader.name)': manifest has no '\(key)'")
        }
        func list<T: LosslessStringConvertible>(_ key: String) -> [T] {
            (config[key] ?? "").split(separator: ",").compactMap { T(String($0.filter { $0 != " " })) }
        }
        let listed: [Int] = list(StoreColumns.Key.layers)
        let widths = listed.isEmpty ? reader.manifest.modelSpec.split(separator: ",").compactMap { Int($0) } : listed
        guard widths.count >= 2 else { throw QueryError.invalid(location: nil, message: "run '\(reader.name)': no model layers in the manifest") }
        let layout = ParameterLayout(widths: widths)
        let batch = try int(StoreColumns.Key.batchSize)
        let samples = try int(StoreColumns.Key.samples)
        let perEpoch = try int(StoreColumns.Key.stepsPerEpoch, (samples + batch - 1) / batch)
        quantum = list(StoreColumns.Key.trajectoryQuantum)
        catalog = RunCatalog(
            name: reader.name, layout: layout, batchSize: batch, sampleCount: samples, stepsPerEpoch: perEpoch,
            plannedEpochs: try int(StoreColumns.Key.epochs), steps: 0, isFinished: false,
            t1Ids: list(StoreColumns.Key.t1Ids), thresholds: list(StoreColumns.Key.thresholds),
            probeEvery: try int(StoreColumns.Key.probeEvery, 0), trajectorySteps: [], checkpointSteps: [],
            tiers: reader.manifest.tiers,
            secondsPerStep: config[StoreColumns.Key.secondsPerStep].flatMap { Double($0) } ?? 6e-9 * Double(layout.count * batch))
        updateCatalog()
    }

    private func updateCatalog() {
        catalog.steps = reader.committedSteps.upperBound
        catalog.isFinished = reader.manifest.status != .running
        // Trajectory rows: store row i holds ŵ after step i + 1, decoded from the initial weights
        // (the checkpoint at step 0), which are row 0 of the trajectory.
        var steps: [Int] = reader.checkpointSteps().first == 0 ? [0] : []
        for chunk in reader.chunks(column: StoreColumns.trajectory) { for s in chunk.steps { steps.append(s + 1) } }
        catalog.trajectorySteps = steps
        catalog.checkpointSteps = reader.checkpointSteps()
        probeRows = nil
    }

    package func refresh() throws -> Bool {
        let grew = try reader.refresh()
        if grew { updateCatalog() }
        return grew
    }

    /// Row `row` of `column`, from the last chunk decoded for that column when it holds the row
    /// (recorders write many steps per chunk; reading step by step must not decode a chunk per step).
    /// Blob chunks come whole. nil when the row is not stored.
    /// - Complexity: O(1) for a cached chunk, else O(chunk size).
    func rowData(_ column: String, row: Int) throws -> ColumnData? {
        if let cached = chunkCache[column], cached.info.steps.contains(row) { return Self.row(cached.data, of: cached.info, row) }
        guard let info = reader.locate(column: column, steps: row..<(row + 1)).first, info.steps.contains(row) else { return nil }
        let data = try reader.readChunk(info)
        chunkCache[column] = (info, data)
        return Self.row(data, of: info, row)
    }

    static func row(_ data: ColumnData, of info: ChunkInfo, _ row: Int) -> ColumnData {
        let width = info.width
        let lo = (row - info.steps.lowerBound) * width, hi = lo + width
        switch data {
        case .float32(let v): return .float32(Array(v[min(lo, v.count)..<min(hi, v.count)]))
        case .float16(let v): return .float16(Array(v[min(lo, v.count)..<min(hi, v.count)]))
        case .int8(let v, let scale): return .int8(codes: Array(v[min(lo, v.count)..<min(hi, v.count)]), scale: scale)
        case .int16(let v, let scale): return .int16(codes: Array(v[min(lo, v.count)..<min(hi, v.count)]), scale: scale)
        case .uint32(let v): return .uint32(Array(v[min(lo, v.count)..<min(hi, v.count)]))
        case .int32(let v): return .int32(Array(v[min(lo, v.count)..<min(hi, v.count)]))
        case .blob: return data
        }
    }

    func floats(_ column: String, step t: Int) throws -> [Float] {
        try rowData(column, row: t - 1)?.floatValues() ?? []
    }

    func blob(_ column: String, row: Int) throws -> [UInt8]? {
        guard case .blob(let bytes)? = try rowData(column, row: row) else { return nil }
        return bytes
    }

    package func scalars(steps: ClosedRange<Int>) throws -> [StepScalars] {
        let range = (steps.lowerBound - 1)..<steps.upperBound
        func column(_ name: String) throws -> [Float] { try reader.read(column: name, steps: range).floatValues() ?? [] }
        let (l, a, lr, g, u) = (try column(StoreColumns.loss), try column(StoreColumns.accuracy), try column(StoreColumns.learningRate),
                                try column(StoreColumns.gradientNorm), try column(StoreColumns.updateNorm))
        return l.indices.map { StepScalars(loss: l[$0], accuracy: a[$0], learningRate: lr[$0], gradientNorm: g[$0], updateNorm: u[$0]) }
    }

    package func probe(atOrBefore step: Int) throws -> (step: Int, loss: Float, accuracy: Float)? {
        if probeRows == nil {
            var rows: [(Int, Float, Float)] = []
            if reader.columns().contains(StoreColumns.probe) {
                for slice in try reader.readSlices(column: StoreColumns.probe, steps: 0..<catalog.steps) {
                    let v = slice.data.floatValues() ?? []
                    for (i, s) in slice.steps.enumerated() where 2 * i + 1 < v.count { rows.append((s + 1, v[2 * i], v[2 * i + 1])) }
                }
            }
            probeRows = rows
        }
        return probeRows?.last { $0.step <= step }
    }

    package func batch(step t: Int) throws -> [Int] {
        guard case .uint32(let ids)? = try rowData(StoreColumns.order, row: t - 1) else {
            throw QueryError.invalid(location: nil, message: "\(StoreColumns.order) at step \(t): missing or not U32")
        }
        return ids.map(Int.init)
    }

    package func samples(step t: Int) throws -> SampleStats {
        let ids = try batch(step: t)
        let correct: [UInt8]
        switch try rowData(StoreColumns.sampleCorrect, row: t - 1) {
        case .int8(let codes, _)?: correct = codes.map { UInt8(bitPattern: $0) }
        case .blob(let bytes)?: correct = bytes
        default: correct = []
        }
        return SampleStats(ids: ids, loss: try floats(StoreColumns.sampleLoss, step: t), correct: correct,
                           gradientNorm: try floats(StoreColumns.sampleGradientNorm, step: t))
    }

    package func label(ofSample id: Int) -> Int? { nil }

    package func epochSums(epoch e: Int) throws -> EpochSums? {
        let row = e * catalog.stepsPerEpoch
        guard row <= catalog.steps else { return nil }
        return EpochSums(sumAbs: try floats(StoreColumns.epochSumAbs, step: row), sum: try floats(StoreColumns.epochSum, step: row),
                         sumSquares: try floats(StoreColumns.epochSumSquares, step: row), maxAbs: try floats(StoreColumns.epochMaxAbs, step: row))
    }

    package func t1(step t: Int) throws -> T1Step? {
        guard !catalog.t1Ids.isEmpty, !reader.chunks(column: StoreColumns.t1Value).isEmpty else { return nil }
        return T1Step(value: try floats(StoreColumns.t1Value, step: t), update: try floats(StoreColumns.t1Update, step: t),
                      contributions: try floats(StoreColumns.t1Contributions, step: t))
    }

    package func aboveCounts(step t: Int) throws -> [UInt32]? {
        guard case .uint32(let v)? = try rowData(StoreColumns.above, row: t - 1) else { return nil }
        return v
    }

    package func gradientQuantiles(step t: Int) throws -> MagnitudeQuantiles? {
        if let cached = quantileCache, cached.step == t { return cached.sketch }
        let sketch = try blob(StoreColumns.gradientQuantiles, row: t - 1).map { try MagnitudeQuantiles(deserializing: $0) }
        quantileCache = (t, sketch)
        return sketch
    }

    package func trajectory(index: Int) throws -> TrajectoryRow? {
        guard catalog.trajectorySteps.indices.contains(index) else { return nil }
        let layout = catalog.layout
        var q = [Float](repeating: 0, count: layout.count)
        for (l, layer) in layout.layers.enumerated() where l < quantum.count { for i in layer.range { q[i] = quantum[l] } }
        let fromCheckpoint = catalog.trajectorySteps.first == 0
        if trajectoryCursor.map({ $0.index > index }) ?? true {
            let start = fromCheckpoint ? try checkpointWeights(step: 0) : nil
            trajectoryCursor = start.map { (0, $0) } ?? (-1, [Float](repeating: 0, count: layout.count))
        }
        var cursor = trajectoryCursor!
        while cursor.index < index {
            let row = catalog.trajectorySteps[cursor.index + 1] - 1
            let codes: [Float]
            switch try rowData(StoreColumns.trajectory, row: row) {
            case .int8(let c, _)?: codes = c.map { Float($0) }
            case .int16(let c, _)?: codes = c.map { Float($0) }
            default: throw QueryError.invalid(location: nil, message: "\(StoreColumns.trajectory) holds neither I8 nor I16 codes")
            }
            for i in 0..<min(codes.count, layout.count) { cursor.values[i] = cursor.values[i] + codes[i] * q[i] }
            cursor.index += 1
        }
        trajectoryCursor = cursor
        if fromCheckpoint && index == 0 { return TrajectoryRow(values: cursor.values, bounds: [Float](repeating: 0, count: layout.count)) }
        // q/2 from the quantizer, plus a few ulps for the Float reconstruction.
        return TrajectoryRow(values: cursor.values, bounds: zip(q, cursor.values).map { q, v in q / 2 + 4 * (abs(v) + q).ulp })
    }

    package func contributionSample(step t: Int) throws -> ContributionSampleStep? {
        guard let bytes = try blob(StoreColumns.contributionSample, row: t - 1) else { return nil }
        var r = ByteReader(bytes, source: StoreColumns.contributionSample)
        var tuples: [ContributionTuple] = []
        while !r.isAtEnd {
            tuples.append(ContributionTuple(sample: Int(try r.read(UInt32.self, "sample")), weight: Int(try r.read(UInt32.self, "weight")),
                                            contribution: try r.readFloat("contribution"), uniform: try r.readDouble("uniform")))
        }
        return ContributionSampleStep(tuples: tuples, tau: try floats(StoreColumns.contributionTau, step: t).first ?? .infinity)
    }

    package func contributionThreshold(step t: Int) throws -> Float? {
        try rowData(StoreColumns.contributionTau, row: t - 1)?.floatValues()?.first
    }

    package func neuronMass(epoch e: Int) throws -> NeuronMassSketches? {
        let row = e * catalog.stepsPerEpoch - 1
        let neurons = catalog.layout.layers.reduce(0) { $0 + $1.outFeatures }
        var ss: [SpaceSavingSketch]?
        if let bytes = try blob(StoreColumns.neuronSpaceSaving, row: row) {
            var r = ByteReader(bytes, source: StoreColumns.neuronSpaceSaving)
            var list: [SpaceSavingSketch] = []
            while !r.isAtEnd {
                let n = Int(try r.read(UInt32.self, "sketch length"))
                list.append(try SpaceSavingSketch(deserializing: Array(try r.readRaw(count: n, "sketch"))))
            }
            ss = list.count == neurons ? list : nil
        }
        let cm = try blob(StoreColumns.neuronCountMin, row: row).map { try CountMinSketch(deserializing: $0) }
        if ss == nil && cm == nil { return nil }
        return NeuronMassSketches(spaceSaving: ss, countMin: cm, neurons: neurons)
    }

    package func checkpointWeights(step: Int) throws -> [Float]? {
        guard let stored = try reader.checkpoint(atOrBefore: step), stored.step == step else { return nil }
        return try TrainerState(deserializing: stored.bytes, source: "checkpoint at step \(step)").parameters
    }
}
