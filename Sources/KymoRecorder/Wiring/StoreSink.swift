import Foundation
import KymoCore
import KymoSketches
import KymoStore

/// The recorder's `RecorderSink` over a store `RunWriter`: appends every column of
/// docs/RECORDING.md, feeds the per-epoch sketches (count-min and per-neuron Space-Saving of
/// (sample, neuron) masses), the run-level Space-Saving of weights by Σ|Δw|, the closed-loop
/// trajectories, checkpoints and probe rows, and commits every `commitSeconds` (or
/// `commitEverySteps`) so readers see the run while it trains.
///
/// Fixed-width per-step columns are buffered and written as multi-step chunks at each commit or
/// once a buffer holds `columnBytesPerChunk` bytes (a chunk per step and column would cost more
/// in headers and zstd calls than the data). Per-step
/// blobs (`t0/gradq`, `t2/contrib`) are packed up to `blobStepsPerChunk` steps or
/// `blobBytesPerChunk` bytes to a chunk
/// (`RunWriter.putStepBlobs`), flushed early at each commit. Trajectory chunks hold at most
/// `trajectorySnapshotsPerChunk` snapshots, so a reader decodes at most that many to reach one.
/// Per epoch, `t2/trajenv/<layer>` bounds every snapshot's ŵ ± bound of the epoch, so a search
/// for a weight's crossing skips epochs where it cannot happen (docs/RECORDING.md).
///
/// Used on the recorder thread only (inside the pipeline), in step order; the wiring touches the
/// writer on the training thread only before the pipeline starts and after it has finished.
package final class StoreSink: RecorderSink, @unchecked Sendable {
    /// A per-step column being buffered: rows of equal width for consecutive steps.
    private struct Buffer {
        enum Values { case f32([Float]), u32([UInt32]), i8([Int8]) }
        enum Kind {
            case f32, u32, i8
            var elementSize: Int { self == .i8 ? 1 : 4 }
        }
        var name: String
        var kind: Kind
        // One of these is used, by `kind` (separate arrays so appends stay in place).
        var f32: [Float] = []
        var u32: [UInt32] = []
        var i8: [Int8] = []
        var width = 0
        var firstStep = 0
        var rows = 0
    }

    package let writer: RunWriter
    package let layout: DenseLayout
    package let layerNames: [String]
    package let tiers: RecordedTiers
    package let plan: RecordingPlan
    package let t1Ids: [Int]
    package var t1Count: Int { t1Ids.count }
    package let stateFloats: Int
    package let commitSeconds: Double
    package let commitEverySteps: Int
    package let countMinSeed: UInt64
    package let spaceSavingSeed: UInt64
    /// Trajectory quantum per layer.
    package let quanta: [Float]
    package let trajectoryBlockSize = 64
    /// Steps per packed chunk of a per-step blob column (fewer at a commit, or once the pack
    /// holds `blobBytesPerChunk` bytes: a reader of one step decodes at most about that much).
    package static let blobStepsPerChunk = 64
    package static let blobBytesPerChunk = 1 << 20
    /// A buffered per-step column is written as a chunk once it holds this many bytes (or at a
    /// commit): the buffer and its compression stay in cache instead of growing to a commit's
    /// worth (t1/contrib: ~14 MB per commit at seed scale) and streaming through memory beside
    /// training; a reader of one step decodes at most about this much. Chunks written between
    /// commits are visible only once a commit covers them.
    package static let columnBytesPerChunk = 1 << 20
    /// Snapshots per trajectory chunk (fewer only in a run's last chunk): reading one snapshot
    /// decodes at most this many.
    package static let trajectorySnapshotsPerChunk = 16

    private var buffers: [String: Int] = [:]
    private var bufferList: [Buffer] = []
    /// The epoch's count-min and per-neuron Space-Saving of (sample, neuron) masses (T2).
    private var massSketches: EpochMassSketches?
    /// T3 (`--tiers …,t3`): the factors of the chosen epochs.
    private let factorTier: FactorTierWriter?
    private var weightHitters: SpaceSavingSketch?
    private var neuronOffsets: [Int]
    private var neurons: Int
    private var trajectories: [QuantizedTrajectory?]
    private var trajectorySteps: (first: Int, last: Int)?
    private var snapshotsInChunk = 0
    /// Per layer: the epoch's envelope of ŵ ± bound, lows then highs (empty before the epoch's first snapshot).
    private var envelopes: [[Float]]
    /// Per-step blob columns being packed: first step and the blobs since.
    private var stepBlobs: [(name: String, first: Int, blobs: [[UInt8]], bytes: Int)] = []
    private var lastCommit = ContinuousClock.now
    private var stepsSinceCommit = 0
    private var lastStep = -1
    /// Measured checkpoint write times (read by the training thread's checkpoint schedule).
    package let checkpointWriteCosts = CheckpointWriteCosts()
    /// The last checkpoint key written (checkpoints must ascend).
    package private(set) var lastCheckpointKey = -1
    package private(set) var checkpointsWritten = 0
    package private(set) var snapshotsWritten = 0

    /// - Throws: sketch errors for impossible sizes.
    /// - Complexity: O(neurons · k) to allocate the sketches.
    package init(writer: RunWriter, layout: DenseLayout, layerNames: [String], tiers: RecordedTiers, plan: RecordingPlan,
                 t1Ids: [Int], stateFloats: Int, quanta: [Float], countMinSeed: UInt64, spaceSavingSeed: UInt64,
                 commitSeconds: Double, commitEverySteps: Int, factorEpochs: Set<Int> = []) throws {
        self.writer = writer
        factorTier = tiers.contains(.t3) && !factorEpochs.isEmpty
            ? FactorTierWriter(writer: writer, layout: layout, layerNames: layerNames, epochs: factorEpochs) : nil
        self.layout = layout
        self.layerNames = layerNames
        self.tiers = tiers
        self.plan = plan
        self.t1Ids = t1Ids
        self.stateFloats = stateFloats
        self.quanta = quanta
        self.countMinSeed = countMinSeed
        self.spaceSavingSeed = spaceSavingSeed
        self.commitSeconds = commitSeconds
        self.commitEverySteps = commitEverySteps
        var offsets = [0]
        for l in layout.layers { offsets.append(offsets.last! + l.outputs) }
        neuronOffsets = offsets
        neurons = offsets.last!
        trajectories = Array(repeating: nil, count: layout.layers.count)
        envelopes = Array(repeating: [], count: layout.layers.count)
        if tiers.contains(.t2) {
            try resetEpochSketches()
            weightHitters = try SpaceSavingSketch(capacity: max(1, plan.weightHeavyHitters), seed: spaceSavingSeed)
        }
    }

    private func resetEpochSketches() throws {
        massSketches = try EpochMassSketches(neurons: neurons, countMinWidth: plan.countMinWidth, countMinDepth: plan.countMinDepth,
                                              countMinSeed: countMinSeed, spaceSavingCapacity: plan.spaceSavingPerNeuron,
                                              spaceSavingSeed: spaceSavingSeed)
    }

    // MARK: RecorderSink

    /// - Complexity: O(B·out·depth) count-min counter additions (vectorized) plus O(B·out)
    ///   compares against the Space-Saving admission thresholds (`EpochMassSketches.add`).
    package func neuronMasses(step: Int, epoch: Int, layer: Int, sampleIDs: ArraySlice<UInt32>, masses: [Float]) throws {
        guard tiers.contains(.t2), var sketches = massSketches else { return }
        // Moved out and back (no copy-on-write of the sketches' storage).
        massSketches = nil
        defer { massSketches = sketches }
        masses.withUnsafeBufferPointer {
            sketches.add(sampleIDs: sampleIDs, firstNeuron: neuronOffsets[layer], outputs: layout.layers[layer].outputs, masses: $0)
        }
    }

    /// - Complexity: O(P/stride + B·n₁ + histogram buckets) amortized, plus the chunk writes.
    package func record(_ record: StepRecord, slot: StepSlot) throws {
        let t = record.step
        let b = record.batch
        try put("t0/order", t, .u32(record.sampleIDs))
        try put("t0/loss", t, .f32([record.loss]))
        try put("t0/accuracy", t, .f32([record.accuracy]))
        try put("t0/lr", t, .f32([record.learningRate]))
        try put("t0/gnorm", t, .f32([record.gradientNorm]))
        try put("t0/unorm", t, .f32([record.updateNorm]))
        if !record.aboveCounts.isEmpty { try put("t0/above", t, .u32(record.aboveCounts.map { UInt32(clamping: $0) })) }
        try putStepBlob("t0/gradq", t, try Self.quantiles(of: record.histogram).serialized())
        try put("t0/sample/loss", t, .f32(record.sampleLoss))
        try put("t0/sample/correct", t, .i8(record.sampleCorrect.map { Int8(bitPattern: $0) }))
        try put("t0/sample/gnorm", t, .f32(record.sampleGradientNorm))
        if let probe = slot.probe { try put("t0/probe", t, .f32([probe.loss, probe.accuracy])) }
        if t1Count > 0 {
            try put("t1/value", t, .f32(record.t1Values))
            try put("t1/update", t, .f32(record.t1Updates))
            if stateFloats > 0 { try put("t1/state", t, .f32(record.t1State)) }
            try put("t1/contrib", t, .f32(record.t1Contributions))
            if let scales = slot.perParameterScales {
                try put("t1/scale", t, .f32(t1Ids.map { scales[$0] }))
            } else {
                try put("t1/scale", t, .f32([Float](repeating: slot.contributionScale, count: t1Count)))
            }
            _ = b
        }
        if tiers.contains(.t2) {
            try putStepBlob("t2/contrib", t, Self.contributionBlob(record.sampled))
            try put("t2/contrib/tau", t, .f32([record.tau]))
            if slot.hasSnapshot { try snapshot(slot.weightsAfter, step: t) }
        }
        if let factorTier { try factorTier.append(slot) }
        if let c = slot.checkpoint {
            try writeCheckpoint(key: c.key, bytes: c.bytes, hash: c.hash)
        }
        lastStep = t
    }

    /// - Complexity: O(P) (four columns, the run-level heavy hitters) plus the sketch blobs.
    package func epochEnded(epoch: Int, lastStep: Int, accumulators: EpochAccumulators) throws {
        let steps = lastStep..<(lastStep + 1)
        try writer.append(column: "t0/epoch/sumabs", steps: steps, .float32(accumulators.sumAbsUpdate))
        try writer.append(column: "t0/epoch/sum", steps: steps, .float32(accumulators.sumUpdate))
        try writer.append(column: "t0/epoch/sumsq", steps: steps, .float32(accumulators.sumSquaredGradient))
        try writer.append(column: "t0/epoch/maxabs", steps: steps, .float32(accumulators.maxAbsGradient))
        try writeEnvelopes(steps)
        guard tiers.contains(.t2), let sketches = massSketches else { return }
        var w = ByteWriter(capacity: 16 + sketches.spaceSaving.count * 64)
        w.write(UInt32(sketches.spaceSaving.count))
        for s in sketches.spaceSaving {
            let bytes = s.serialized()
            w.write(UInt64(bytes.count))
            w.write(raw: bytes)
        }
        try writer.putBlob(column: "t2/ss", steps: steps, bytes: w.bytes)
        // Per neuron, the largest upper bound the sketch states (its top entry's), rounded up to
        // Float: a query's planning reads these 4 bytes per neuron instead of the sketches.
        let maxima: [Float] = sketches.spaceSaving.map { s in
            let x = s.topK(1).first?.upperBound ?? 0
            let f = Float(x)
            return Double(f) < x ? f.nextUp : f
        }
        try writer.append(column: "t2/ssmax", steps: steps, .float32(maxima))
        try writer.putBlob(column: "t2/cm", steps: steps, bytes: sketches.countMin.serialized())
        accumulators.sumAbsUpdate.withUnsafeBufferPointer { s in
            for id in s.indices where s[id] > 0 { weightHitters!.offer(UInt64(id), weight: Double(s[id])) }
        }
        try writer.putBlob(column: "t2/hh", steps: steps, bytes: weightHitters!.serialized())
        try resetEpochSketches()
    }

    // MARK: Commits, checkpoints, trajectories

    /// Commits when the period has passed; call after the sink has recorded every step through
    /// `step` (`count` of them since the last call: a batch is committed whole, never up to one
    /// of its steps while the buffers already hold the next, which a reader would see beyond the
    /// commit).
    /// - Complexity: O(1), or the flush and commit.
    package func stepsProcessed(through step: Int, count: Int = 1) throws {
        stepsSinceCommit += count
        let due = commitEverySteps > 0 ? stepsSinceCommit >= commitEverySteps
            : (ContinuousClock.now - lastCommit) >= .milliseconds(Int64(commitSeconds * 1000))
        if due { try commit(through: step) }
    }

    /// Writes the buffered rows, then commits steps 0...step. The open trajectory chunk is
    /// written only with `closingTrajectories` (the run's last commit): a periodic commit leaves
    /// it open, so trajectory chunks always end after `trajectorySnapshotsPerChunk` snapshots or
    /// at the run's end. The closed-loop codes restart at each chunk, so chunk ends that fell at
    /// commits — every ~2 s of wall clock — made two recordings of one run store different
    /// reconstructions (each within its bound); now they depend on the steps alone. The price:
    /// while recording, a reader sees trajectories up to the last full chunk (at seed scale
    /// 16 snapshots × stride 50 = 800 steps behind at most).
    /// - Complexity: O(buffered bytes) plus the fsyncs.
    package func commit(through step: Int, closingTrajectories: Bool = false) throws {
        try flush(closingTrajectories: closingTrajectories)
        if step >= 0 { try writer.commit(through: step) } else { try writer.commit() }
        lastCommit = .now
        stepsSinceCommit = 0
    }

    /// Writes the buffered rows, packed blobs and, with `closingTrajectories`, the open
    /// trajectory chunks (no commit).
    /// - Complexity: O(buffered bytes).
    package func flush(closingTrajectories: Bool) throws {
        for i in bufferList.indices where bufferList[i].rows > 0 { try write(&bufferList[i]) }
        for i in stepBlobs.indices { try writeStepBlobs(i) }
        if closingTrajectories { try flushTrajectories() }
        try factorTier?.flush()
    }

    /// Stores the training set's labels (data-set id order) as `t0/labels`, one row at step 0,
    /// so queries show and filter by label without regenerating the data. Call once, before the
    /// first step's chunks.
    /// - Complexity: O(samples).
    package func writeLabels(_ labels: [Int32]) throws {
        guard !labels.isEmpty else { return }
        try writer.append(column: "t0/labels", steps: 0..<1, .int32(labels))
    }

    /// Stores a checkpoint (keys ascend; a repeated key is skipped) and records how long the
    /// write took in `checkpointWriteCosts`.
    /// - Complexity: O(bytes).
    package func writeCheckpoint(key: Int, bytes: [UInt8], hash: UInt64) throws {
        guard key > lastCheckpointKey else { return }
        let start = ContinuousClock.now
        try writer.writeCheckpoint(step: key, bytes: bytes, hash: hash)
        checkpointWriteCosts.record(seconds: (ContinuousClock.now - start).secondsValue)
        lastCheckpointKey = key
        checkpointsWritten += 1
    }

    private func snapshot(_ weights: [Float], step: Int) throws {
        try weights.withUnsafeBufferPointer { w in
            for l in layout.layers.indices {
                if trajectories[l] == nil {
                    trajectories[l] = try QuantizedTrajectory(weightCount: layout.layers[l].parameterCount, blockSize: trajectoryBlockSize,
                                                              codeBits: plan.trajectoryBits, quantum: quanta[l])
                }
                trajectories[l]!.append(UnsafeBufferPointer(rebasing: w[layout.offsets[l]..<layout.offsets[l + 1]]))
                widenEnvelope(layer: l)
            }
        }
        trajectorySteps = (trajectorySteps?.first ?? step, step)
        snapshotsWritten += 1
        snapshotsInChunk += 1
        if snapshotsInChunk >= Self.trajectorySnapshotsPerChunk { try flushTrajectories() }
    }

    /// Widens layer `l`'s envelope to hold the last snapshot's ŵ ± m, m = q/2 (the trajectory's
    /// bound at shift 0; raw blocks have 0) plus 8 ulps of |ŵ| + q/2 (a query states ŵ ± (b + 4 ulps)),
    /// rounded outward.
    /// - Complexity: O(layer parameters).
    private func widenEnvelope(layer l: Int) {
        let n = layout.layers[l].parameterCount
        let half = quanta[l] / 2
        if envelopes[l].isEmpty {
            envelopes[l] = [Float](repeating: .infinity, count: n) + [Float](repeating: -.infinity, count: n)
        }
        trajectories[l]!.reconstruction.withUnsafeBufferPointer { v in
            envelopes[l].withUnsafeMutableBufferPointer { e in
                for i in 0..<n {
                    let x = v[i]
                    let m = half + 8 * (abs(x) + half).ulp
                    e[i] = min(e[i], (x - m).nextDown)
                    e[n + i] = max(e[n + i], (x + m).nextUp)
                }
            }
        }
    }

    /// Writes every layer's envelope of the epoch ending at `steps` (when it had snapshots) as
    /// Float16 rounded outward (lows down, highs up; beyond Float16's range they become ∓∞, still
    /// bounds) — half the bytes of Float32 — and resets them.
    /// - Complexity: O(P).
    private func writeEnvelopes(_ steps: Range<Int>) throws {
        for l in envelopes.indices where !envelopes[l].isEmpty {
            let n = envelopes[l].count / 2
            let bits: [UInt16] = envelopes[l].enumerated().map { i, x in
                var h = Float16(x)
                if i < n { if Float(h) > x { h = h.nextDown } } else if Float(h) < x { h = h.nextUp }
                return h.bitPattern
            }
            try writer.append(column: "t2/trajenv/\(layerNames[l])", steps: steps, .float16(bits))
            envelopes[l] = []
        }
    }

    private func flushTrajectories() throws {
        guard let range = trajectorySteps else { return }
        for l in layout.layers.indices {
            if let traj = trajectories[l] {
                try writer.putBlob(column: "t2/traj/\(layerNames[l])", steps: range.first..<(range.last + 1), bytes: traj.serialized())
            }
            trajectories[l] = nil
        }
        trajectorySteps = nil
        snapshotsInChunk = 0
    }

    // MARK: Packed per-step blobs

    private func putStepBlob(_ name: String, _ step: Int, _ bytes: [UInt8]) throws {
        var i = stepBlobs.firstIndex { $0.name == name } ?? -1
        if i < 0 {
            stepBlobs.append((name, step, [], 0))
            i = stepBlobs.count - 1
        }
        if !stepBlobs[i].blobs.isEmpty && stepBlobs[i].first + stepBlobs[i].blobs.count != step { try writeStepBlobs(i) }
        if stepBlobs[i].blobs.isEmpty { stepBlobs[i].first = step }
        stepBlobs[i].blobs.append(bytes)
        stepBlobs[i].bytes += bytes.count
        if stepBlobs[i].blobs.count >= Self.blobStepsPerChunk || stepBlobs[i].bytes >= Self.blobBytesPerChunk { try writeStepBlobs(i) }
    }

    private func writeStepBlobs(_ i: Int) throws {
        guard !stepBlobs[i].blobs.isEmpty else { return }
        // t2/contrib's tuples (random ids, Float contributions, Double uniforms) shrink ~10 % under
        // zstd and decode at ~1 GB/s: stored raw they cost readers a copy instead.
        try writer.putStepBlobs(column: stepBlobs[i].name, firstStep: stepBlobs[i].first, blobs: stepBlobs[i].blobs,
                                compress: stepBlobs[i].name != "t2/contrib")
        stepBlobs[i].blobs.removeAll(keepingCapacity: true)
        stepBlobs[i].bytes = 0
    }

    // MARK: Buffered columns

    private func put(_ name: String, _ step: Int, _ row: Buffer.Values) throws {
        let width: Int, kind: Buffer.Kind
        switch row {
        case let .f32(v): (width, kind) = (v.count, .f32)
        case let .u32(v): (width, kind) = (v.count, .u32)
        case let .i8(v): (width, kind) = (v.count, .i8)
        }
        let index: Int
        if let i = buffers[name] {
            index = i
        } else {
            index = bufferList.count
            buffers[name] = index
            bufferList.append(Buffer(name: name, kind: kind))
        }
        guard bufferList[index].kind == kind else {
            throw RecorderError.invalidConfiguration(field: name, message: "column written with two types")
        }
        if bufferList[index].rows > 0 && (bufferList[index].width != width || bufferList[index].firstStep + bufferList[index].rows != step) {
            try write(&bufferList[index])
        }
        if bufferList[index].rows == 0 {
            bufferList[index].width = width
            bufferList[index].firstStep = step
        }
        switch row {
        case let .f32(v): bufferList[index].f32.append(contentsOf: v)
        case let .u32(v): bufferList[index].u32.append(contentsOf: v)
        case let .i8(v): bufferList[index].i8.append(contentsOf: v)
        }
        bufferList[index].rows += 1
        if bufferList[index].rows * bufferList[index].width * kind.elementSize >= Self.columnBytesPerChunk {
            try write(&bufferList[index])
        }
    }

    private func write(_ buffer: inout Buffer) throws {
        let steps = buffer.firstStep..<(buffer.firstStep + buffer.rows)
        if buffer.width > 0 {
            switch buffer.kind {
            case .f32: try writer.append(column: buffer.name, steps: steps, .float32(buffer.f32))
            case .u32: try writer.append(column: buffer.name, steps: steps, .uint32(buffer.u32))
            case .i8: try writer.append(column: buffer.name, steps: steps, .int8(codes: buffer.i8, scale: 1))
            }
        }
        buffer.f32.removeAll(keepingCapacity: true)
        buffer.u32.removeAll(keepingCapacity: true)
        buffer.i8.removeAll(keepingCapacity: true)
        buffer.rows = 0
    }

    // MARK: Helpers

    /// The `t2/contrib` blob: UInt32 count, then per tuple sample (UInt32), weight (UInt32),
    /// contribution (Float bits), uniform (Double bits), little-endian — the same bytes as
    /// `ByteWriter.write` field by field, packed in one pass (the generic per-field writes ran
    /// unspecialized across modules, ~4 calls per tuple per step on the recorder thread).
    /// - Complexity: O(tuples).
    static func contributionBlob(_ sampled: [SampledContribution]) -> [UInt8] {
        var w = ByteWriter(capacity: 4 + 20 * sampled.count)
        w.write(UInt32(sampled.count))
        var packed = [UInt8](repeating: 0, count: 20 * sampled.count)
        packed.withUnsafeMutableBytes { raw in
            for (i, c) in sampled.enumerated() {
                let o = 20 * i
                raw.storeBytes(of: c.sample.littleEndian, toByteOffset: o, as: UInt32.self)
                raw.storeBytes(of: c.weight.littleEndian, toByteOffset: o + 4, as: UInt32.self)
                raw.storeBytes(of: c.contribution.bitPattern.littleEndian, toByteOffset: o + 8, as: UInt32.self)
                raw.storeBytes(of: c.uniform.bitPattern.littleEndian, toByteOffset: o + 12, as: UInt64.self)
            }
        }
        w.write(raw: packed)
        return w.bytes
    }

    /// The step's |g| histogram as a KymoSketches `MagnitudeQuantiles` (same bit mapping, so the
    /// counts carry over exactly): each bucket's count at its lower bound; values below the
    /// histogram's range (zeros, tiny) at 0; above it at 2^(maxExponent+1); NaNs as NaN.
    /// - Complexity: O(buckets).
    package static func quantiles(of h: MagnitudeHistogram) throws -> MagnitudeQuantiles {
        var q = try MagnitudeQuantiles(precisionBits: h.mantissaBits)
        if h.underflow > 0 { q.update(0, weight: h.underflow) }
        for (i, c) in h.counts.enumerated() where c > 0 { q.update(h.lowerBound(ofBucket: i), weight: UInt64(c)) }
        if h.overflow > 0 { q.update(Float(sign: .plus, exponent: h.maxExponent + 1, significand: 1), weight: h.overflow) }
        if h.nan > 0 { q.update(.nan, weight: h.nan) }
        return q
    }
}
