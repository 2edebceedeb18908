import KymoCore
import KymoEngine
import KymoRecorder
import KymoReplay
import KymoSketches
import KymoStore

/// A recorded run read from the store: a snapshot at the reader's last commit (`refresh()` moves
/// it forward). Column names and manifest keys are in `StoreColumns`.
package final class StoreRunData: RunData {
    package let reader: RunReader
    package private(set) var catalog: RunCatalog
    /// q_l per layer (|ŵ − w| ≤ q_l/2); empty when no trajectories were recorded.
    let quantum: [Float]
    /// Trajectory snapshots are taken after the steps whose 0-based row r has r % stride == 0
    /// (0: none).
    let trajectoryStride: Int
    /// Layer names (column suffixes of `t2/traj/<layer>`), layout order.
    let layerNames: [String]
    /// Per layer, the last trajectory chunk decoded: its rows, the layer-local ids decoded, and
    /// the values and bounds after each of its snapshots.
    /// `values[k]` is the chunk's snapshot `base + k` (wide requests keep one snapshot only).
    var trajectoryCache: [Int: (rows: Range<Int>, local: [Int], base: Int, values: [[Float]], bounds: [[Float]])] = [:]
    var probeRows: [(step: Int, loss: Float, accuracy: Float)]?
    /// The last |g| sketch read (planning and execution read the same first step).
    var quantileCache: (step: Int, sketch: MagnitudeQuantiles?)?
    /// The last chunk decoded per column (lookup only, never iterated).
    var chunkCache: [String: (info: ChunkInfo, data: ColumnData)] = [:]
    /// The last chunk of per-step blobs decoded per column (packed or one blob per chunk).
    var stepBlobCache: [String: StepBlobChunk] = [:]
    /// Per layer and epoch, the `t2/trajenv/<layer>` row as stored (nil: not recorded).
    var envelopeCache: [Int: ColumnData?] = [:]
    /// The recorder's manifest section, when the run was written by `kymo record`.
    package let recorder: RecorderManifest?

    /// Reads the run's shape from the recorder's manifest section (`config["recorder"]`, JSON,
    /// docs/RECORDING.md) or, for runs written by `StandInRecorder`, from flat config keys.
    /// - Throws: `QueryError.invalid` when the manifest lacks what the executor needs.
    /// - Complexity: O(manifest + index).
    package init(reader: RunReader) throws {
        self.reader = reader
        let config = reader.manifest.config
        if config[StoreColumns.recorderSection] != nil {
            let m: RecorderManifest
            do { m = try RecorderManifest(manifestConfig: config) } catch {
                throw QueryError.invalid(location: nil, message: "run '\(reader.name)': \(error)")
            }
            recorder = m
            guard let firstLayer = m.layers.first else { throw QueryError.invalid(location: nil, message: "run '\(reader.name)': no model layers in the manifest") }
            let layout = ParameterLayout(widths: [firstLayer.inputs] + m.layers.map(\.outputs))
            for (l, layer) in m.layers.enumerated() where layout.layers[l].weightOffset != layer.offset {
                throw QueryError.invalid(location: nil, message: "run '\(reader.name)': layer \(layer.name) starts at flat id \(layer.offset), the layout says \(layout.layers[l].weightOffset)")
            }
            layerNames = m.layers.map(\.name)
            let hasTrajectory = m.tiers.contains("t2") && m.layers.allSatisfy { $0.trajectoryQuantum > 0 }
            quantum = hasTrajectory ? m.layers.map(\.trajectoryQuantum) : []
            trajectoryStride = hasTrajectory ? m.trajectoryStride : 0
            let plain = m.measuredPlainStepNanoseconds.map { $0 / 1e9 }
            catalog = RunCatalog(
                name: reader.name, layout: layout, batchSize: m.batchSize, sampleCount: m.samples, stepsPerEpoch: m.stepsPerEpoch,
                plannedEpochs: m.epochs, steps: 0, isFinished: false, t1Ids: m.t1Ids, thresholds: m.thresholds,
                probeEvery: m.probeEvery, trajectorySteps: [], checkpointSteps: [], tiers: reader.manifest.tiers,
                secondsPerStep: ReplayCostModel.secondsPerStep(measured: plain, widths: ReplayCostModel.widths(of: layout), batch: m.batchSize),
                factorEpochs: (m.factorEpochs ?? []).map { $0 + 1 },
                uniformContributionScale: !["adam", "adamw"].contains(m.optimizer))
        } else {
            recorder = nil
            func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
                if let v = config[key].flatMap({ Int($0) }) ?? fallback { return v }
                throw QueryError.invalid(location: nil, message: "run '\(reader.name)': manifest has neither a recorder section nor '\(key)'")
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
            trajectoryStride = quantum.isEmpty ? 0 : try int(StoreColumns.Key.trajectoryStride, 1)
            layerNames = layout.layers.map(\.name)
            catalog = RunCatalog(
                name: reader.name, layout: layout, batchSize: batch, sampleCount: samples, stepsPerEpoch: perEpoch,
                plannedEpochs: try int(StoreColumns.Key.epochs), steps: 0, isFinished: false,
                t1Ids: list(StoreColumns.Key.t1Ids), thresholds: list(StoreColumns.Key.thresholds),
                probeEvery: try int(StoreColumns.Key.probeEvery, 0), trajectorySteps: [], checkpointSteps: [],
                tiers: reader.manifest.tiers,
                secondsPerStep: ReplayCostModel.secondsPerStep(measured: config[StoreColumns.Key.secondsPerStep].flatMap { Double($0) },
                                                               widths: ReplayCostModel.widths(of: layout), batch: batch))
        }
        updateCatalog()
    }

    private func updateCatalog() {
        catalog.steps = reader.committedSteps.upperBound
        catalog.isFinished = reader.manifest.status != .running
        // Trajectory snapshots: row r (r % stride == 0) holds ŵ after step r + 1; index 0 is the
        // initial weights (the checkpoint at step 0, exact).
        var steps: [Int] = reader.checkpointSteps().first == 0 ? [0] : []
        if trajectoryStride > 0, let name = layerNames.first {
            for chunk in reader.chunks(column: StoreColumns.trajectoryPrefix + name) {
                let first = (chunk.steps.lowerBound + trajectoryStride - 1) / trajectoryStride * trajectoryStride
                for r in stride(from: first, to: chunk.steps.upperBound, by: trajectoryStride) { steps.append(r + 1) }
            }
        }
        catalog.trajectorySteps = steps
        catalog.checkpointSteps = reader.checkpointSteps()
        probeRows = nil
        envelopeCache = [:]
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
        try stepBlob(column, row: row).map(Array.init)
    }

    /// The blob of `row` in a per-step blob column (a packed chunk holds many steps), from the
    /// last chunk decoded for that column when it holds the row. nil when the row is not stored.
    /// - Complexity: O(1) for a cached chunk, else O(chunk size).
    func stepBlob(_ column: String, row: Int) throws -> ArraySlice<UInt8>? {
        if let cached = stepBlobCache[column], let b = cached.blob(step: row) { return b }
        guard let info = reader.locate(column: column, steps: row..<(row + 1)).first, info.steps.contains(row) else { return nil }
        let chunk = try reader.readStepBlobs(info)
        stepBlobCache[column] = chunk
        return chunk.blob(step: row)
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
        // The common case, read step by step: straight from the cached chunk (no row copy).
        let row = t - 1
        if let cached = chunkCache[StoreColumns.order], cached.info.steps.contains(row), case .uint32(let v) = cached.data {
            let lo = min(v.count, (row - cached.info.steps.lowerBound) * cached.info.width)
            return v[lo..<min(v.count, lo + cached.info.width)].map(Int.init)
        }
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

    /// The run's training-set labels, loaded on the first `label(ofSample:)` (only answers with a
    /// label column or a label filter need them): the data set named by the run's config, split as
    /// the run split it, its fingerprint checked (`StoreCheckpointSource.trainingSet(of:)`).
    enum Labels { case notLoaded, loaded([Int32]), unavailable(String) }
    private var labels = Labels.notLoaded
    /// The training set, loaded when T3 factors of the first layer are read (its inputs are the
    /// data set's values): see `factors(layer:steps:)`.
    var factorInputs: Dataset?

    /// Why labels are not available (no checkpoint, data set missing or changed), once tried.
    /// - Complexity: O(1).
    package var labelProblem: String? { if case .unavailable(let why) = labels { return why } else { return nil } }

    /// Recorded runs store the labels (`t0/labels`, read once); runs recorded before that column
    /// existed regenerate the data set.
    /// - Complexity: O(samples) on the first call (O(data size) without `t0/labels`), O(1) after.
    package func label(ofSample id: Int) -> Int? {
        if case .notLoaded = labels {
            do {
                if !reader.chunks(column: StoreColumns.labels).isEmpty {
                    switch try reader.read(column: StoreColumns.labels, steps: 0..<1) {
                    case .int32(let v): labels = .loaded(v)
                    case .int8(let v, _): labels = .loaded(v.map(Int32.init))
                    default: labels = .unavailable("\(StoreColumns.labels) is neither Int32 nor Int8")
                    }
                } else {
                    labels = .loaded(try StoreCheckpointSource.trainingSet(of: reader).labels)
                }
            } catch {
                labels = .unavailable("\(error)")
            }
        }
        guard case .loaded(let all) = labels, all.indices.contains(id) else { return nil }
        return Int(all[id])
    }

    package func epochSums(epoch e: Int) throws -> EpochSums? {
        let row = e * catalog.stepsPerEpoch
        guard row <= catalog.steps else { return nil }
        return EpochSums(sumAbs: try floats(StoreColumns.epochSumAbs, step: row), sum: try floats(StoreColumns.epochSum, step: row),
                         sumSquares: try floats(StoreColumns.epochSumSquares, step: row), maxAbs: try floats(StoreColumns.epochMaxAbs, step: row))
    }

    /// Reads only the column asked for.
    /// - Complexity: O(P).
    package func epochSum(_ which: KeyPath<EpochSums, [Float]>, epoch e: Int) throws -> [Float]? {
        let row = e * catalog.stepsPerEpoch
        guard row <= catalog.steps else { return nil }
        let column = which == \EpochSums.sumAbs ? StoreColumns.epochSumAbs : which == \EpochSums.sum ? StoreColumns.epochSum
            : which == \EpochSums.sumSquares ? StoreColumns.epochSumSquares : StoreColumns.epochMaxAbs
        return try floats(column, step: row)
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
        try trajectoryValues(index: index, ids: nil)
    }

    /// The trajectory row `index` for the parameters `ids` only (ascending; nil: all P), decoding
    /// only their layers' chunks and, within them, only their blocks' codes.
    /// - Complexity: O(steps in the chunk · (blocks + ids)) per layer on a cache miss, else O(ids).
    package func trajectoryValues(index: Int, ids: [Int]?) throws -> TrajectoryRow? {
        guard catalog.trajectorySteps.indices.contains(index) else { return nil }
        let layout = catalog.layout
        let step = catalog.trajectorySteps[index]
        if step == 0 {
            guard let w = try checkpointWeights(step: 0) else { return nil }
            let v = ids.map { $0.map { w[$0] } } ?? w
            return TrajectoryRow(values: v, bounds: [Float](repeating: 0, count: v.count))
        }
        let row = step - 1
        guard let ids else { return try wholeTrajectoryRow(row: row) }
        let wanted = ids
        var values = [Float](repeating: 0, count: wanted.count), bounds = values
        var i = 0
        while i < wanted.count {
            let l = layout.layerIndex(of: wanted[i])
            let base = layout.layers[l].weightOffset, end = layout.layers[l].range.upperBound
            var j = i
            while j < wanted.count && wanted[j] < end && wanted[j] >= base { j += 1 }
            let local = wanted[i..<j].map { $0 - base }
            let decoded = try trajectoryChunk(layer: l, row: row, local: local)
            decoded.values.withUnsafeBufferPointer { dv in
                decoded.bounds.withUnsafeBufferPointer { db in
                    values.withUnsafeMutableBufferPointer { v in
                        bounds.withUnsafeMutableBufferPointer { b in
                            for k in 0..<local.count {
                                v[i + k] = dv[k]
                                // q/2 from the quantizer, plus a few ulps for the Float reconstruction.
                                b[i + k] = db[k] + 4 * (abs(dv[k]) + db[k]).ulp
                            }
                        }
                    }
                }
            }
            i = j
        }
        return TrajectoryRow(values: values, bounds: bounds)
    }

    /// Every parameter's ŵ and bound after row `row`: each layer's chunk decoded through the
    /// snapshot (every block in a straight loop), nothing cached.
    /// - Complexity: O(P · snapshots before it in its chunk).
    private func wholeTrajectoryRow(row: Int) throws -> TrajectoryRow {
        var values: [Float] = [], bounds: [Float] = []
        values.reserveCapacity(catalog.layout.count)
        bounds.reserveCapacity(catalog.layout.count)
        let firstOf = { (rows: Range<Int>) in (rows.lowerBound + self.trajectoryStride - 1) / self.trajectoryStride * self.trajectoryStride }
        for l in catalog.layout.layers.indices {
            let column = StoreColumns.trajectoryPrefix + layerNames[l]
            guard let info = reader.locate(column: column, steps: row..<(row + 1)).first, info.steps.contains(row),
                  case .blob(let bytes) = try reader.readChunk(info) else {
                throw QueryError.invalid(location: nil, message: "\(column): no chunk holds row \(row)")
            }
            let chunk = try TrajectoryChunk(bytes, column: column)
            let n = (row - firstOf(info.steps)) / trajectoryStride
            guard (row - firstOf(info.steps)) % trajectoryStride == 0, n < chunk.stepCount,
                  chunk.weightCount == catalog.layout.layers[l].range.count else {
                throw QueryError.invalid(location: nil, message: "\(column): row \(row) is not a snapshot of the chunk at rows \(info.steps) (stride \(trajectoryStride), \(chunk.stepCount) steps of \(chunk.weightCount) weights)")
            }
            let decoded = try chunk.decode(nil, column: column, keepFrom: n, through: n)
            let start = values.count
            values.append(contentsOf: decoded.values[0])
            bounds.append(contentsOf: decoded.bounds[0])
            values.withUnsafeBufferPointer { v in
                bounds.withUnsafeMutableBufferPointer { b in
                    // q/2 from the quantizer, plus a few ulps for the Float reconstruction.
                    for k in start..<v.count { b[k] += 4 * (abs(v[k]) + b[k]).ulp }
                }
            }
        }
        return TrajectoryRow(values: values, bounds: bounds)
    }

    private func trajectoryChunk(layer l: Int, row: Int, local: [Int]) throws -> (values: [Float], bounds: [Float]) {
        let column = StoreColumns.trajectoryPrefix + layerNames[l]
        let firstOf = { (rows: Range<Int>) in (rows.lowerBound + self.trajectoryStride - 1) / self.trajectoryStride * self.trajectoryStride }
        func pick(_ c: (rows: Range<Int>, local: [Int], base: Int, values: [[Float]], bounds: [[Float]])) -> (values: [Float], bounds: [Float])? {
            guard c.rows.contains(row) else { return nil }
            let n = (row - firstOf(c.rows)) / trajectoryStride - c.base
            guard n >= 0, n < c.values.count else { return nil }
            if c.local == local { return (c.values[n], c.bounds[n]) }
            var v: [Float] = [], b: [Float] = []
            var at = 0
            for id in local {
                while at < c.local.count && c.local[at] < id { at += 1 }
                guard at < c.local.count, c.local[at] == id else { return nil }
                v.append(c.values[n][at]); b.append(c.bounds[n][at])
            }
            return (v, b)
        }
        if let cached = trajectoryCache[l], let hit = pick(cached) { return hit }
        guard let info = reader.locate(column: column, steps: row..<(row + 1)).first, info.steps.contains(row),
              case .blob(let bytes) = try reader.readChunk(info) else {
            throw QueryError.invalid(location: nil, message: "\(column): no chunk holds row \(row)")
        }
        let chunk = try TrajectoryChunk(bytes, column: column)
        // Keep what was decoded before for this chunk too, so alternating requests don't thrash.
        var all = local
        if let cached = trajectoryCache[l], cached.rows == info.steps, cached.local.count + local.count <= 4096 {
            all = Array(Set(all + cached.local)).sorted()
        }
        // Few weights: keep every snapshot of the chunk (a weight's path is read in order).
        // Many: decode through the snapshot asked for and keep that one only.
        let n = (row - firstOf(info.steps)) / trajectoryStride
        let wide = all.count > 4096
        let decoded = try chunk.decode(all, column: column, keepFrom: wide ? n : 0, through: wide ? n : nil)
        let entry = (rows: info.steps, local: all, base: wide ? n : 0, values: decoded.values, bounds: decoded.bounds)
        trajectoryCache[l] = entry
        guard let hit = pick(entry) else {
            throw QueryError.invalid(location: nil, message: "\(column): row \(row) is not a snapshot of the chunk at rows \(info.steps) (stride \(trajectoryStride), \(chunk.stepCount) steps)")
        }
        return hit
    }

    /// Scans the step's 20-byte tuples in place and decodes only those of `weights`.
    /// - Complexity: O(kept tuples).
    package func contributionSample(step t: Int, weights: [Int]) throws -> ContributionSampleStep? {
        guard let bytes = try stepBlob(StoreColumns.contributionSample, row: t - 1) else { return nil }
        var tuples: [ContributionTuple] = []
        let single = weights.count == 1 ? UInt32(truncatingIfNeeded: weights[0]) : nil
        let wanted = single == nil ? Set(weights) : []
        try bytes.withUnsafeBytes { raw in
            guard raw.count >= 4 else { throw QueryError.invalid(location: nil, message: "\(StoreColumns.contributionSample) at step \(t): \(raw.count) bytes, no tuple count") }
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            guard raw.count == 4 + 20 * count else {
                throw QueryError.invalid(location: nil, message: "\(StoreColumns.contributionSample) at step \(t): \(raw.count) bytes for \(count) tuples of 20")
            }
            for i in 0..<count {
                let o = 4 + 20 * i
                let w = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self))
                if let single { if w != single { continue } } else if !wanted.contains(Int(w)) { continue }
                tuples.append(ContributionTuple(
                    sample: Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))), weight: Int(w),
                    contribution: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o + 8, as: UInt32.self))),
                    uniform: Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 12, as: UInt64.self)))))
            }
        }
        return ContributionSampleStep(tuples: tuples, tau: try contributionThreshold(step: t) ?? .infinity)
    }

    package func contributionSample(step t: Int) throws -> ContributionSampleStep? {
        guard let bytes = try blob(StoreColumns.contributionSample, row: t - 1) else { return nil }
        var r = ByteReader(bytes, source: StoreColumns.contributionSample)
        var tuples: [ContributionTuple] = []
        let count = Int(try r.read(UInt32.self, "count"))
        tuples.reserveCapacity(count)
        for _ in 0..<count {
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
        var ss: NeuronSketchList?
        if let maxima = try rowData(StoreColumns.neuronSpaceSavingMaxima, row: row)?.floatValues(), maxima.count == neurons,
           reader.locate(column: StoreColumns.neuronSpaceSaving, steps: row..<(row + 1)).contains(where: { $0.steps.contains(row) }) {
            // The sketches' blob is read only if a sketch is asked for.
            ss = NeuronSketchList(count: neurons, maxima: maxima, source: StoreColumns.neuronSpaceSaving) { [unowned self] in
                guard let bytes = try self.blob(StoreColumns.neuronSpaceSaving, row: row) else {
                    throw QueryError.invalid(location: nil, message: "\(StoreColumns.neuronSpaceSaving) at row \(row): missing")
                }
                return bytes
            }
        } else if let bytes = try blob(StoreColumns.neuronSpaceSaving, row: row) {
            let list = try NeuronSketchList(blob: bytes, source: StoreColumns.neuronSpaceSaving)
            ss = list.count == neurons ? list : nil
        }
        let cm = try blob(StoreColumns.neuronCountMin, row: row).map { try CountMinSketch(deserializing: $0) }
        if ss == nil && cm == nil { return nil }
        return NeuronMassSketches(spaceSaving: ss, countMin: cm, neurons: neurons)
    }

    /// Every snapshot of epoch `e` has ŵ ± bound inside the returned interval for `id`
    /// (`t2/trajenv/<layer>`, written at the epoch's last step); nil when not recorded.
    /// - Complexity: O(layer parameters) for the first id of a layer and epoch, then O(1).
    package func trajectoryEnvelope(epoch e: Int, id: Int) throws -> (lower: Float, upper: Float)? {
        let layout = catalog.layout
        guard trajectoryStride > 0, id >= 0, id < layout.count, e >= 1 else { return nil }
        let l = layout.layerIndex(of: id)
        let key = e * layerNames.count + l
        let n = layout.layers[l].range.count
        if envelopeCache[key] == nil {
            // The epoch's row only: the chunk holds this one row (written at the epoch's last step).
            let row = e * catalog.stepsPerEpoch - 1
            let column = StoreColumns.trajectoryEnvelopePrefix + layerNames[l]
            var stored: ColumnData?
            if row < catalog.steps, let info = reader.locate(column: column, steps: row..<(row + 1)).first,
               info.steps == row..<(row + 1), info.width == 2 * n {
                stored = try reader.readChunk(info)
            }
            envelopeCache[key] = .some(stored)
        }
        let local = id - layout.layers[l].weightOffset
        switch envelopeCache[key]! {
        case .float16(let v)? where v.count == 2 * n:
            return (Float(Float16(bitPattern: v[local])), Float(Float16(bitPattern: v[n + local])))
        case .float32(let v)? where v.count == 2 * n:
            return (v[local], v[n + local])
        default:
            return nil
        }
    }

    package func checkpointWeights(step: Int) throws -> [Float]? {
        guard let stored = try reader.checkpoint(atOrBefore: step), stored.step == step else { return nil }
        return try TrainerState(deserializing: stored.bytes, source: "checkpoint at step \(step)").parameters
    }
}
