import Foundation
import KymoEngine
import KymoSketches
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoRecorder

/// End-to-end: record small digits runs into a temporary lab and read them back.
@Suite struct RecordingTests {
    static func config(optimizer: OptimizerKind = .sgd, lr: Float = 0.05, weightDecay: Float = 1e-3, epochs: Int = 2) throws -> TrainingConfig {
        var c = TrainingConfig(model: try ModelSpec(layers: "64,24,10"))
        c.data = "digits"
        c.optimizer.kind = optimizer
        c.optimizer.learningRate = lr
        c.optimizer.weightDecay = weightDecay
        c.batchSize = 64
        c.epochs = epochs
        c.seed = 7
        return c
    }

    static func options(commitEverySteps: Int = 10) -> RecordingOptions {
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.commitEverySteps = commitEverySteps
        o.probeEvery = 10
        return o
    }

    /// Records a whole run; returns the lab, the recording and the run reader.
    static func record(_ config: TrainingConfig, in dir: TemporaryDirectory, options: RecordingOptions = options())
        throws -> (Lab, Recording, RunReader) {
        let lab = try Lab(path: dir.path + "/lab")
        let recording = try Recording(session: try TrainingSession(config: config), lab: lab, runName: "r", options: options)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
        return (lab, recording, try lab.openRun("r"))
    }

    static func floats(_ reader: RunReader, _ column: String, _ steps: Range<Int>) throws -> [Float] {
        guard case let .float32(v) = try reader.read(column: column, steps: steps) else {
            Issue.record("\(column) is not float32"); return []
        }
        return v
    }

    @Test func everyColumnHasItsRows() throws {
        let dir = try TemporaryDirectory()
        let config = try Self.config(optimizer: .momentum)
        let (lab, recording, reader) = try Self.record(config, in: dir)
        let trainer = recording.trainer
        let steps = trainer.totalSteps
        let p = trainer.layout.count
        let n1 = recording.plan.t1Count
        #expect(n1 > 0)
        #expect(reader.committedSteps == 0..<steps)
        #expect(reader.manifest.status == .finished)
        for column in ["t0/loss", "t0/accuracy", "t0/lr", "t0/gnorm", "t0/unorm", "t2/contrib/tau"] {
            #expect(try reader.read(column: column, steps: 0..<steps).count == steps, "\(column)")
        }
        #expect(try reader.read(column: "t0/above", steps: 0..<steps).count == steps * 8)
        let samples = trainer.training.count * config.epochs
        for column in ["t0/order", "t0/sample/loss", "t0/sample/correct", "t0/sample/gnorm"] {
            #expect(try reader.read(column: column, steps: 0..<steps).count == samples, "\(column)")
        }
        #expect(try reader.read(column: "t1/value", steps: 0..<steps).count == steps * n1)
        #expect(try reader.read(column: "t1/update", steps: 0..<steps).count == steps * n1)
        #expect(try reader.read(column: "t1/state", steps: 0..<steps).count == steps * n1)
        #expect(try reader.read(column: "t1/scale", steps: 0..<steps).count == steps * n1)
        #expect(try reader.read(column: "t1/contrib", steps: 0..<steps).count == samples * n1)
        for column in ["t0/epoch/sumabs", "t0/epoch/sum", "t0/epoch/sumsq", "t0/epoch/maxabs"] {
            #expect(reader.chunks(column: column).count == config.epochs)
            #expect(try reader.read(column: column, steps: 0..<steps).count == config.epochs * p, "\(column)")
        }
        for column in ["t2/ss", "t2/cm", "t2/hh"] { #expect(reader.chunks(column: column).count == config.epochs, "\(column)") }
        // Per-step blobs are packed many steps to a chunk (docs/RECORDING.md, "Chunking"): every
        // step has its blob.
        for column in ["t2/contrib", "t0/gradq"] {
            let chunks = reader.chunks(column: column)
            #expect(chunks.allSatisfy { $0.tag == StepBlobs.tag }, "\(column)")
            #expect(chunks.map(\.steps.count).reduce(0, +) == steps, "\(column)")
            #expect(chunks.count < steps, "\(column)")
        }
        // The |g| sketch of a step holds all P values.
        let pack = try reader.readStepBlobs(try #require(reader.locate(column: "t0/gradq", steps: 3..<4).first))
        #expect(try MagnitudeQuantiles(deserializing: Array(try #require(pack.blob(step: 3)))).count == UInt64(p))
        #expect(reader.checkpointSteps().first == 0)
        #expect(reader.checkpointSteps().last == steps)
        #expect(try reader.read(column: "t0/probe", steps: 0..<steps).count == 2 * (steps / 10))
        let section = try RecorderManifest(manifestConfig: reader.manifest.config)
        #expect(section.t1Ids.count == n1)
        #expect(section.layers.map(\.name) == ["fc1", "fc2"])
        #expect(lab.verify(run: "r").isSound)
    }

    /// The training thread's help (`StepPreparer` run on a submitted slot instead of waiting, or
    /// past a backlog) changes no stored bit: runs recorded with and without it store the same
    /// chunks with the same values (checkpoints included) — momentum on two slots, and Adam
    /// (per-parameter scales) with batches of 4 and help at a backlog of 1.
    @Test(arguments: [(OptimizerKind.momentum, 2, 1, 8), (OptimizerKind.adam, 6, 4, 1)])
    func trainingThreadHelpChangesNoStoredValue(optimizer: OptimizerKind, slots: Int, batchLimit: Int, helpBacklog: Int) throws {
        let config = try Self.config(optimizer: optimizer, lr: optimizer == .adam ? 0.005 : 0.05, epochs: 2)
        var stores: [[(ChunkInfo, ColumnData)]] = []
        var dirs: [TemporaryDirectory] = []
        var helped = 0
        for helps in [false, true, true] {
            var options = Self.options()
            options.trainingThreadHelps = helps
            options.slots = slots
            options.batchLimit = batchLimit
            options.helpBacklog = helpBacklog
            let dir = try TemporaryDirectory()
            dirs.append(dir)
            let lab = try Lab(path: dir.path + "/lab")
            let recording = try Recording(session: try TrainingSession(config: config), lab: lab, runName: "r", options: options)
            while !recording.trainer.isFinished { try recording.step() }
            helped += try recording.finish().threads.stepsPreparedByTraining
            let reader = try lab.openRun("r")
            stores.append(try reader.allChunks().map { ($0, try reader.readChunk($0)) })
        }
        // A recorder slower than this tiny model's steps: the training thread helps.
        #expect(helped > 0)
        for other in stores.dropFirst() {
            #expect(other.count == stores[0].count)
            for (a, b) in zip(stores[0], other) {
                #expect(a.0.column == b.0.column && a.0.steps == b.0.steps && a.1 == b.1, "\(a.0.column) \(a.0.steps)")
            }
        }
    }

    /// The summary states what the checkpoints cost: serializing plus the store writes the
    /// recorder thread measured, for every checkpoint written (initial, scheduled, final).
    /// Trajectory chunks end after a fixed number of snapshots, not at commits: two recordings
    /// of one run committed at different cadences store the same trajectory chunks, bit for bit
    /// (the closed-loop reconstructions restart at each chunk, so commit-made boundaries used to
    /// change them).
    @Test func trajectoryChunksDoNotDependOnCommits() throws {
        let config = try Self.config(optimizer: .momentum, lr: 0.05, epochs: 2)
        var stores: [[(ChunkInfo, ColumnData)]] = []
        var dirs: [TemporaryDirectory] = []
        for every in [3, 11] {
            let dir = try TemporaryDirectory()
            dirs.append(dir)
            let lab = try Lab(path: dir.path + "/lab")
            let recording = try Recording(session: try TrainingSession(config: config), lab: lab, runName: "r",
                                          options: Self.options(commitEverySteps: every))
            while !recording.trainer.isFinished { try recording.step() }
            try recording.finish()
            let reader = try lab.openRun("r")
            stores.append(try reader.allChunks().filter { $0.column.hasPrefix("t2/traj/") }.map { ($0, try reader.readChunk($0)) })
        }
        #expect(stores[0].count > 2, "several trajectory chunks")
        #expect(stores[0].count == stores[1].count)
        for (a, b) in zip(stores[0], stores[1]) {
            #expect(a.0.column == b.0.column && a.0.steps == b.0.steps && a.1 == b.1, "\(a.0.column) \(a.0.steps)")
        }
    }

    /// 48 slots at seed scale; a large model gets fewer (the slots' memory stays within the
    /// limit), never fewer than 4, and never more than asked for.
    @Test func slotCountFollowsTheMemoryLimit() {
        let options = RecordingOptions()
        let seedFactors = 64 * (784 + 512 + 512 + 256 + 256 + 10)
        #expect(options.slotCount(parameterCount: 535_818, factorFloats: seedFactors) == 48)
        let large = options.slotCount(parameterCount: 10_000_000, factorFloats: seedFactors)
        #expect(large == 5)
        #expect(large * (12 * 10_000_000 + 8 * seedFactors) <= options.slotMemoryLimit)
        #expect(options.slotCount(parameterCount: 1_000_000_000, factorFloats: seedFactors) == 4)
        var two = RecordingOptions()
        two.slots = 2
        #expect(two.slotCount(parameterCount: 535_818, factorFloats: seedFactors) == 2)
    }

    @Test func summaryStatesTheMeasuredCheckpointCost() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let recording = try Recording(session: try TrainingSession(config: try Self.config(optimizer: .momentum)), lab: lab,
                                      runName: "r", options: Self.options())
        while !recording.trainer.isFinished { try recording.step() }
        let summary = try recording.finish()
        #expect(summary.checkpoints >= 2)
        #expect(summary.checkpointSeconds > 0)
        #expect(summary.checkpointSeconds.isFinite)
    }

    @Test func recorderDoesNotPerturbTrainingAndT1IsBitExact() throws {
        let dir = try TemporaryDirectory()
        let config = try Self.config(optimizer: .momentum)
        let (_, recording, reader) = try Self.record(config, in: dir)
        let section = try RecorderManifest(manifestConfig: reader.manifest.config)
        let plain = try TrainingSession(config: config).trainer
        let steps = plain.totalSteps
        let values = try Self.floats(reader, "t1/value", 0..<steps)
        let updates = try Self.floats(reader, "t1/update", 0..<steps)
        let n1 = section.t1Ids.count
        var mismatches = 0
        for t in 0..<steps {
            let before = plain.parameterValues
            try plain.step()
            let after = plain.parameterValues
            for (i, id) in section.t1Ids.enumerated() {
                if values[t * n1 + i].bitPattern != before[id].bitPattern { mismatches += 1 }
                if (values[t * n1 + i] + updates[t * n1 + i]).bitPattern != after[id].bitPattern { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(plain.state.contentHash == recording.trainer.state.contentHash)
        #expect(try reader.checkpoint(atOrBefore: steps)?.hash == plain.state.contentHash)
    }

    @Test func sgdContributionsPlusDecaySumToTheUpdate() throws {
        let dir = try TemporaryDirectory()
        let config = try Self.config(optimizer: .sgd, weightDecay: 1e-2, epochs: 1)
        let (_, recording, reader) = try Self.record(config, in: dir)
        let section = try RecorderManifest(manifestConfig: reader.manifest.config)
        let steps = recording.trainer.totalSteps
        let n1 = section.t1Ids.count
        let lr = try Self.floats(reader, "t0/lr", 0..<steps)
        var checked = 0
        for t in [0, 5, steps - 1] {
            let values = try Self.floats(reader, "t1/value", t..<(t + 1))
            let updates = try Self.floats(reader, "t1/update", t..<(t + 1))
            let contrib = try Self.floats(reader, "t1/contrib", t..<(t + 1))
            let b = contrib.count / n1
            for i in 0..<n1 {
                let decay = -lr[t] * config.optimizer.weightDecay * values[i]
                var sum = decay, scale = abs(decay)
                for s in 0..<b { sum += contrib[i * b + s]; scale += abs(contrib[i * b + s]) }
                #expect(abs(sum - updates[i]) <= 1e-5 * max(scale, 1e-30) + 1e-12, "step \(t) weight \(section.t1Ids[i])")
                checked += 1
            }
        }
        #expect(checked == 3 * n1)
    }

    @Test func trajectoriesStayWithinHalfAQuantum() throws {
        let dir = try TemporaryDirectory()
        let config = try Self.config(optimizer: .momentum, epochs: 1)
        let (_, _, reader) = try Self.record(config, in: dir)
        let section = try RecorderManifest(manifestConfig: reader.manifest.config)
        let stride = section.trajectoryStride
        #expect(stride >= 1)
        let plain = try TrainingSession(config: config).trainer
        var exact: [Int: [Float]] = [:]
        for t in 0..<plain.totalSteps {
            try plain.step()
            if t % stride == 0 { exact[t] = plain.parameterValues }
        }
        var compared = 0
        for (l, layer) in section.layers.enumerated() {
            var snapshotSteps = exact.keys.sorted()[...]
            for chunk in reader.chunks(column: "t2/traj/\(layer.name)") {
                guard case let .blob(bytes) = try reader.readChunk(chunk) else { Issue.record("not a blob"); continue }
                let trajectory = try QuantizedTrajectory(deserializing: bytes)
                for step in trajectory.decoded() {
                    let t = snapshotSteps.removeFirst()
                    #expect(chunk.steps.contains(t))
                    let w = exact[t]!
                    for j in 0..<step.values.count {
                        #expect(abs(step.values[j] - w[layer.offset + j]) <= layer.trajectoryQuantum / 2)
                        compared += 1
                    }
                }
            }
            #expect(snapshotSteps.isEmpty, "layer \(l): every snapshot step is stored")
        }
        #expect(compared > 0)
    }

    @Test func runIsReadableWhileRecording() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let recording = try Recording(session: try TrainingSession(config: try Self.config(epochs: 1)), lab: lab, runName: "live",
                                      options: Self.options(commitEverySteps: 4))
        let reader = try lab.openRun("live")
        #expect(reader.checkpointSteps() == [0])
        for _ in 0..<12 { try recording.step() }
        // The recorder thread commits every 4 steps; wait until it has caught up (bounded).
        var waited = 0
        while reader.committedSteps.upperBound < 12 && waited < 500 {
            _ = try reader.refresh()
            if reader.committedSteps.upperBound < 12 { usleep(10_000); waited += 1 }
        }
        #expect(reader.committedSteps == 0..<12)
        #expect(reader.manifest.status == .running)
        #expect(try reader.read(column: "t0/loss", steps: 0..<12).count == 12)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
        #expect(try reader.refresh())
        #expect(reader.committedSteps.upperBound == recording.trainer.totalSteps)
        #expect(reader.manifest.status == .finished)
    }

    /// With batches of steps on the recorder thread, a commit still never exposes a step beyond
    /// it: every chunk a reader sees ends at or before the committed steps (checkpoints, keyed by
    /// completed steps, and the run's label column, written with the initial commit, aside).
    /// Checked after every step of a run committed every 3 steps.
    @Test func commitsNeverExposeStepsBeyondThem() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        var o = Self.options(commitEverySteps: 3)
        o.probeEvery = 0
        let recording = try Recording(session: try TrainingSession(config: try Self.config(optimizer: .momentum)), lab: lab,
                                      runName: "c", options: o)
        var observations = 0, latest = 0
        while !recording.trainer.isFinished {
            try recording.step()
            let reader = try lab.openRun("c")
            let committed = reader.committedSteps.upperBound
            latest = max(latest, committed)
            for chunk in reader.allChunks() where chunk.column != RunWriter.checkpointColumn && chunk.column != "t0/labels" {
                #expect(chunk.steps.upperBound <= committed, "\(chunk.column) \(chunk.steps) beyond committed 0..<\(committed)")
            }
            observations += 1
        }
        try recording.finish()
        #expect(observations == recording.trainer.totalSteps && latest > 0)
    }

    @Test func divergenceMarksTheRunAndKeepsCommittedSteps() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let recording = try Recording(session: try TrainingSession(config: try Self.config(optimizer: .sgd, lr: 1e8, epochs: 2)), lab: lab,
                                      runName: "boom", options: Self.options(commitEverySteps: 3))
        var divergedAt: Int?
        do {
            while !recording.trainer.isFinished { try recording.step() }
        } catch let RecorderError.diverged(step, _) {
            divergedAt = step
        }
        let step = try #require(divergedAt)
        #expect(step > 0)
        let reader = try lab.openRun("boom")
        guard case let .diverged(at, message) = reader.manifest.status else {
            Issue.record("status is \(reader.manifest.status)"); return
        }
        #expect(at == step)
        #expect(message.contains("non-finite"))
        #expect(reader.committedSteps == 0..<step)
        #expect(try reader.read(column: "t0/loss", steps: 0..<step).count == step)
        #expect(reader.checkpointSteps().last == step)
        #expect(lab.verify(run: "boom").isSound)
    }
}
