import Foundation
import KymoCore
import KymoEngine
import KymoRecorder
import KymoReplay
import KymoSketches
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoQuery

/// The store layout the recorder writes for fast queries (docs/RECORDING.md, "Chunking"): packed
/// per-step blobs, short trajectory chunks, per-epoch trajectory envelopes, Space-Saving maxima
/// and stored labels — each read back and checked against what it stands for, and the query
/// shortcuts built on them checked against the plain paths they replace.
@Suite struct StoreLayoutTests {
    // MARK: Packed per-step blobs (KymoStore)

    @Test func packedStepBlobsRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let writer = try lab.createRun("a", manifest: RunManifest(tiers: ["t0"]))
        // Steps 0..<40 in packs of varying sizes, one stored raw; empty blobs included.
        var rng = CounterRNG(key: 11)
        var expected: [[UInt8]] = []
        for step in 0..<40 {
            let n = step % 7 == 3 ? 0 : Int(rng.next() % 300)
            expected.append((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        try writer.putStepBlobs(column: "x", firstStep: 0, blobs: Array(expected[0..<13]))
        try writer.putStepBlobs(column: "x", firstStep: 13, blobs: Array(expected[13..<14]))
        try writer.putStepBlobs(column: "x", firstStep: 14, blobs: Array(expected[14..<31]), compress: false)
        try writer.putBlob(column: "x", steps: 31..<32, bytes: expected[31])
        try writer.putStepBlobs(column: "x", firstStep: 32, blobs: Array(expected[32..<40]))
        try writer.commit(through: 39)
        #expect(throws: StoreError.self) { try writer.putStepBlobs(column: "x", firstStep: 45, blobs: []) }
        try writer.finish()

        let reader = try lab.openRun("a")
        let chunks = reader.chunks(column: "x")
        #expect(chunks.map(\.steps) == [0..<13, 13..<14, 14..<31, 31..<32, 32..<40])
        #expect(chunks.map { $0.tag == StepBlobs.tag } == [true, true, true, false, true])
        #expect(chunks[2].codec == 0)
        var got: [[UInt8]] = []
        for chunk in chunks {
            let pack = try reader.readStepBlobs(chunk)
            for step in chunk.steps { got.append(Array(try #require(pack.blob(step: step)))) }
            #expect(pack.blob(step: chunk.steps.upperBound) == nil)
        }
        #expect(got == expected)

        // A damaged offset table is reported, not read past.
        guard case let .blob(packed) = try reader.readChunk(chunks[0]) else { Issue.record("not a blob"); return }
        func damaged(_ change: (inout [UInt8]) -> Void) -> [UInt8] { var b = packed; change(&b); return b }
        func setOffset(_ i: Int, _ v: UInt64, in b: inout [UInt8]) { for k in 0..<8 { b[8 * i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) } }
        #expect(throws: StoreError.self) { try StepBlobs.ranges(of: chunks[0], bytes: damaged { setOffset(0, 1, in: &$0) }) }
        #expect(throws: StoreError.self) { try StepBlobs.ranges(of: chunks[0], bytes: damaged { setOffset(2, 0, in: &$0) }) }
        #expect(throws: StoreError.self) { try StepBlobs.ranges(of: chunks[0], bytes: damaged { setOffset(5, UInt64.max, in: &$0) }) }
        #expect(throws: StoreError.self) { try StepBlobs.ranges(of: chunks[0], bytes: damaged { $0.removeLast() }) }
        #expect(throws: StoreError.self) { try StepBlobs.ranges(of: chunks[0], bytes: Array(packed.prefix(20))) }
        #expect(try StepBlobs.ranges(of: chunks[0], bytes: packed).count == 13)
    }

    // MARK: Query shortcuts against the plain paths

    @Test func conditionPossibleOnAnInterval() {
        func cmp(_ q: Quantity, _ op: ComparisonOperator, _ v: Double) -> Condition {
            .comparison(Comparison(q, op, .number(v)))
        }
        // Some point of [l, h] meets the condition ⇔ conditionPossible, on a grid of intervals.
        let conditions: [Condition] = [.zero, cmp(.absValue, .lessOrEqual, 0.5), cmp(.absValue, .less, 0.5),
                                       cmp(.absValue, .greaterOrEqual, 1), cmp(.value, .lessOrEqual, -0.5),
                                       cmp(.value, .greater, 0.75), cmp(.absValue, .greater, 2)]
        let grid = Swift.stride(from: -2.0, through: 2.0, by: 0.25).map { $0 }
        for c in conditions {
            for w0 in [-1.0, 0, 1] {
                for l in grid {
                    for h in grid where h >= l {
                        let points = Swift.stride(from: l, through: h, by: 0.0625)
                        let anyMeets = points.contains { x in
                            switch c {
                            case .zero: return x == 0 || (w0 > 0 && x < 0) || (w0 < 0 && x > 0)
                            case .comparison(let k):
                                return Executor.compareValues(k.quantity == .absValue ? abs(x) : x, k.op, k.value.fraction)
                            }
                        }
                        #expect(Executor.conditionPossible(c, in: l...h, w0: w0) == anyMeets, "\(c) on [\(l), \(h)], w0 \(w0)")
                    }
                }
            }
        }
    }

    // MARK: Live

    /// A run read while the recorder writes it: the reader sees every column up to its last
    /// commit (packs are flushed at each commit; trajectories through their last full chunk),
    /// and more after refresh.
    @Test func liveRunReadMidPack() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.commitEverySteps = 7
        let session = try TrainingSession(config: try RecordedLab.config(seed: 9))
        let recording = try Recording(session: session, lab: lab, runName: "live", options: o)
        for _ in 0..<40 { try recording.step() }
        // Give the recorder thread time to reach a commit (it runs behind the trainer).
        var data = try StoreRunData(reader: try lab.openRun("live"))
        for _ in 0..<200 where data.catalog.steps < 14 {
            usleep(10_000)
            data = try StoreRunData(reader: try lab.openRun("live"))
        }
        let seen = data.catalog.steps
        #expect(seen >= 14 && seen <= 40)
        #expect(!data.catalog.isFinished)
        for t in 1...seen {
            #expect(try data.contributionSample(step: t) != nil)
            #expect(try data.gradientQuantiles(step: t) != nil)
        }
        #expect(try data.contributionSample(step: seen + 1) == nil)
        for i in data.catalog.trajectorySteps.indices { #expect(try data.trajectory(index: i) != nil) }
        #expect(data.label(ofSample: 0) != nil)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
        #expect(try data.refresh())
        #expect(data.catalog.isFinished)
        #expect(data.catalog.steps == recording.trainer.totalSteps)
        #expect(try data.contributionSample(step: data.catalog.steps) != nil)
    }
}

/// The recorded layout on the shared lab — in `RecordedRunTests` (serialized): the shared lab's
/// readers are not used from two threads.
extension RecordedRunTests {
    // MARK: What the recorder writes

    @Test func recorderPacksBlobsAndKeepsTrajectoryChunksWhole() throws {
        let lab = fixture
        let reader = lab.r1.reader
        for column in [StoreColumns.contributionSample, StoreColumns.gradientQuantiles] {
            let chunks = reader.chunks(column: column)
            #expect(chunks.allSatisfy { $0.tag == StepBlobs.tag })
            #expect(chunks.contains { $0.steps.count > 1 })
            #expect(chunks.reduce(0) { $0 + $1.steps.count } == lab.r1.catalog.steps)
        }
        let stride = lab.r1.trajectoryStride
        #expect(stride > 0)
        for name in lab.r1.layerNames {
            let chunks = reader.chunks(column: StoreColumns.trajectoryPrefix + name)
            #expect(!chunks.isEmpty)
            for (i, chunk) in chunks.enumerated() {
                let snapshots = chunk.steps.filter { $0 % stride == 0 }.count
                // Full chunks whenever commits fell; only the run's last may be shorter.
                if i < chunks.count - 1 {
                    #expect(snapshots == StoreSink.trajectorySnapshotsPerChunk, "\(name) chunk \(i): \(snapshots)")
                } else {
                    #expect(snapshots >= 1 && snapshots <= StoreSink.trajectorySnapshotsPerChunk)
                }
            }
        }
    }

    @Test func storedLabelsAreTheTrainingSetsLabels() throws {
        let lab = fixture
        #expect(!lab.r1.reader.chunks(column: StoreColumns.labels).isEmpty)
        let training = try StoreCheckpointSourceLabels.training(of: lab.r1)
        #expect(training.count == lab.r1.catalog.sampleCount)
        for id in 0..<training.count { #expect(lab.r1.label(ofSample: id) == Int(training[id])) }
        #expect(lab.r1.label(ofSample: training.count) == nil)
    }

    @Test func spaceSavingMaximaAreTheSketchesTopBounds() throws {
        let lab = fixture
        let r1 = lab.r1
        for e in 1...r1.catalog.completeEpochs {
            let row = e * r1.catalog.stepsPerEpoch - 1
            let maxima = try #require(try r1.rowData(StoreColumns.neuronSpaceSavingMaxima, row: row)?.floatValues())
            let blob = try #require(try r1.blob(StoreColumns.neuronSpaceSaving, row: row))
            let list = try NeuronSketchList(blob: blob, source: "t2/ss")
            #expect(maxima.count == list.count)
            for n in 0..<list.count {
                let top = try list[n].topK(1).first?.upperBound ?? 0
                #expect(Double(maxima[n]) >= top)
                #expect(Double(maxima[n].nextDown) < top || maxima[n] == 0)
            }
        }
    }

    @Test func envelopesHoldEverySnapshotOfTheirEpoch() throws {
        let lab = fixture
        let r1 = lab.r1
        let catalog = r1.catalog
        var checked = 0
        for (index, step) in catalog.trajectorySteps.enumerated() where step > 0 {
            let e = catalog.epoch(ofStep: step)
            guard e <= catalog.completeEpochs else { continue }
            let row = try #require(try r1.trajectory(index: index))
            for id in Swift.stride(from: 0, to: catalog.layout.count, by: 7) {
                let (lower, upper) = try #require(try r1.trajectoryEnvelope(epoch: e, id: id))
                #expect(lower <= row.values[id] - row.bounds[id])
                #expect(row.values[id] + row.bounds[id] <= upper)
                checked += 1
            }
        }
        #expect(checked > 1000)
        #expect(try r1.trajectoryEnvelope(epoch: catalog.completeEpochs + 1, id: 0) == nil)
    }

    /// What lets planning skip the Space-Saving sketches: the error Space-Saving states for a
    /// weight over whole epochs is at least its neuron's largest upper bound in any one epoch
    /// (halved for |c|) — the top sample's own bound — read from `t2/ssmax`.
    @Test func spaceSavingErrorIsAtLeastItsLargestCount() throws {
        let lab = fixture
        let r1 = lab.r1, catalog = r1.catalog
        let executor = lab.executor()
        var checked = 0
        for e in 1...catalog.completeEpochs {
            let m = try #require(try r1.neuronMass(epoch: e))
            for id in Swift.stride(from: 3, to: catalog.layout.count, by: 97) {
                let top = try m.spaceSaving!.largestUpperBound(Executor.neuron(of: id, catalog.layout))
                for absolute in [true, false] {
                    let intervals = try executor.massIntervals([id], data: r1, window: catalog.steps(ofEpoch: e), sketches: [m],
                                                               countMin: false, absolute: absolute)
                    let deviation = intervals.reduce(0) { max($0, $1.1.value - $1.1.lower, $1.1.upper - $1.1.value) }
                    #expect(deviation >= Double(Float(top).nextDown) * (absolute ? 0.5 : 1))
                    checked += 1
                }
            }
        }
        #expect(checked > 10)
    }

    /// The same queries through the shortcuts (envelopes, in-place tuple filtering, skipped
    /// Space-Saving reads) and through the plain paths give the same answers, including windows
    /// that cross the packed chunks' boundaries and crossings searched over several epochs.
    @Test func shortcutsAnswerLikeThePlainPaths() throws {
        let lab = fixture
        let plain = PlainRunData(lab.r1)
        let shortcut = Executor(runs: RunSet(runs: [("r1", lab.r1)], defaultRun: "r1"))
        var reference = Executor(runs: RunSet(runs: [("r1", plain)], defaultRun: "r1"))
        reference.prunes = false
        let catalog = lab.r1.catalog
        let layer = catalog.layout.layers[1]
        let w1 = catalog.layout.name(of: layer.weightOffset + 5)
        let w2 = catalog.layout.name(of: catalog.layout.layers[0].weightOffset + 3 * catalog.layout.layers[0].inFeatures + 20)
        var queries = [
            "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(w1) IN STEPS 7..33",
            "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(w2) IN EPOCH 2",
            "BOTTOM 4 SAMPLES BY CONTRIBUTION FOR WEIGHT \(w1) IN EPOCHS 1..3",
            "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR EACH WEIGHT IN fc2[2,*] IN STEPS 12..21",
        ]
        for w in [w1, w2] {
            queries += ["TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(w) IN EPOCHS 1..3 UNTIL ABS VALUE <= 1e-3",
                        "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(w) IN EPOCHS 1..3 UNTIL ZERO",
                        "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(w) IN EPOCHS 2..3 UNTIL VALUE >= 0.05"]
        }
        for text in queries {
            let q = try Parser.parse(text)
            let a = try shortcut.execute(q), b = try reference.execute(q)
            #expect(a.answer == b.answer, "\(text)")
            #expect(a.plans.map(\.chosen) == b.plans.map(\.chosen), "\(text)")
        }
        // The envelope shortcut was taken: some epochs ruled out.
        var ruledOut = 0
        let condition = Condition.comparison(Comparison(.absValue, .lessOrEqual, .number(1e-3)))
        for id in Swift.stride(from: 0, to: catalog.layout.count, by: 11) {
            for e in 1...catalog.completeEpochs {
                if let (l, h) = try lab.r1.trajectoryEnvelope(epoch: e, id: id),
                   !Executor.conditionPossible(condition, in: Double(l)...Double(h), w0: 1) { ruledOut += 1 }
            }
        }
        #expect(ruledOut > 0)
    }
}

/// The training-set labels as replay loads them (the data set regenerated and checked).
enum StoreCheckpointSourceLabels {
    static func training(of run: StoreRunData) throws -> [Int32] {
        try StoreCheckpointSource.trainingSet(of: run.reader).labels
    }
}

/// A run seen only through the plain paths: every call forwarded except the shortcuts, which
/// take the protocol's defaults (the whole step's tuples filtered; no envelopes) — and a
/// Space-Saving list that always holds its sketches.
final class PlainRunData: RunData {
    let base: StoreRunData
    init(_ base: StoreRunData) { self.base = base }
    var catalog: RunCatalog { base.catalog }
    func refresh() throws -> Bool { try base.refresh() }
    func scalars(steps: ClosedRange<Int>) throws -> [StepScalars] { try base.scalars(steps: steps) }
    func probe(atOrBefore step: Int) throws -> (step: Int, loss: Float, accuracy: Float)? { try base.probe(atOrBefore: step) }
    func samples(step: Int) throws -> SampleStats { try base.samples(step: step) }
    func batch(step: Int) throws -> [Int] { try base.batch(step: step) }
    func label(ofSample id: Int) -> Int? { base.label(ofSample: id) }
    func epochSums(epoch e: Int) throws -> EpochSums? { try base.epochSums(epoch: e) }
    func t1(step: Int) throws -> T1Step? { try base.t1(step: step) }
    func aboveCounts(step: Int) throws -> [UInt32]? { try base.aboveCounts(step: step) }
    func gradientQuantiles(step: Int) throws -> MagnitudeQuantiles? { try base.gradientQuantiles(step: step) }
    func trajectory(index: Int) throws -> TrajectoryRow? { try base.trajectory(index: index) }
    func contributionSample(step: Int) throws -> ContributionSampleStep? { try base.contributionSample(step: step) }
    func contributionThreshold(step: Int) throws -> Float? { try base.contributionThreshold(step: step) }
    func neuronMass(epoch e: Int) throws -> NeuronMassSketches? {
        guard var m = try base.neuronMass(epoch: e) else { return nil }
        let row = e * catalog.stepsPerEpoch - 1
        if m.spaceSaving != nil, let blob = try base.blob(StoreColumns.neuronSpaceSaving, row: row) {
            m.spaceSaving = try NeuronSketchList(blob: blob, source: StoreColumns.neuronSpaceSaving)
        }
        return m
    }
    func checkpointWeights(step: Int) throws -> [Float]? { try base.checkpointWeights(step: step) }
}
