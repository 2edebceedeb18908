import Foundation
import KymoCore
import KymoEngine
import KymoStore

/// Options of `kymo record` beyond the training config.
package struct RecordingOptions: Sendable {
    package var budget: RecordingBudget = .default
    /// `--budget` as the user wrote it (recorded in the manifest).
    package var budgetText = "0.2%"
    package var tiers: RecordedTiers = .default
    /// A share budget below this many bytes per epoch is raised to it (small runs: T0 alone
    /// exceeds 0.2 % of a small model's gradient tensor). nil: no floor.
    package var budgetFloorBytesPerEpoch: Int?
    /// The recorder thread's time budget per step (ns); nil = no limit. `Recording` measures a
    /// plain step and uses 0.85 × it when `measureStepTime` is set.
    package var recorderNanosecondsPerStepLimit: Double?
    package var measureStepTime = false
    /// Probe evaluation every this many steps (0: only at the end of each epoch).
    package var probeEvery = 0
    /// Commit period: every `commitEverySteps` steps when > 0, else every `commitSeconds`.
    package var commitSeconds = 2.0
    package var commitEverySteps = 0
    /// ε of the Flor-style checkpoint schedule.
    package var checkpointShare = 0.05
    /// T3's epochs (0-based; nil: every epoch), used when `tiers` contains T3.
    package var factorEpochs: [Int]?
    /// Pipeline slots (bounds how far training runs ahead of the recorder). Forty-eight at seed
    /// scale: the recorder's bursts — trajectory snapshots, commits, checkpoints, an epoch's end —
    /// no longer make training wait or help. Measured with a streamed hand-off (3 epochs, 5
    /// interleaved rounds, idle machine): record/train 1.21× against 1.25× with 16 slots and a
    /// help backlog of 8; 1 epoch: loop 2.6–2.8 s against 2.7–2.9 s (32 and 64 alike; 6 slots
    /// were far worse, 4.2–4.9 s, an earlier session). Each slot holds g, Δw, the factors and a
    /// snapshot buffer, ≈ 7 MB at seed scale; free slots are reused last-in first-out and g/Δw
    /// (4.3 of those MB) are mapped untouched (`LentStepBuffers`), so most of a slot costs memory
    /// only once training reaches it: peak RSS over 3 epochs 812 MB against 650 MB for
    /// `kymo train` (1 epoch: 691 MB).
    package var slots = 48
    /// The most memory the slots may take together (`slotCount`): a slot holds ≈ 12·P bytes
    /// (g, Δw, a snapshot) plus its factors, so a large model gets fewer slots rather than
    /// 48 × 12·P bytes (at P = 10 M that would be 5.8 GB; with this limit, 5 slots).
    package var slotMemoryLimit = 640 << 20

    /// `slots`, lowered so that the slots' memory stays within `slotMemoryLimit`, and at least 4
    /// (so the recorder can batch and the trainer run ahead). 48 at seed scale (≈ 7 MB a slot).
    /// - Complexity: O(1).
    package func slotCount(parameterCount: Int, factorFloats: Int) -> Int {
        let perSlot = max(1, 12 * parameterCount + 8 * factorFloats)
        return max(min(4, slots), min(slots, slotMemoryLimit / perSlot))
    }
    /// Steps the recorder processes per pass over the epoch accumulators (at most slots − 1).
    /// Four with the four-step kernel (`EpochAccumulators`, accumulators loaded once per four
    /// steps): the recorder thread's CPU per run was 7–10 % lower than with two (seed scale,
    /// thread CPU from `kymo record --json`); a batch only forms when the recorder is behind.
    package var batchLimit = 4
    /// Whether the training thread, instead of waiting for a free slot, does the slot-only work of
    /// a submitted step (`StepPreparer`: histogram, norms, masses, T1, the weighted sample) — the
    /// same bits either way; off only to measure or test.
    package var trainingThreadHelps = true
    /// The training thread helps before taking a free slot once this many submitted steps wait
    /// unprepared (`RecorderPipeline`'s `helpBacklog`). Eager help costs more than it saves: the
    /// training thread then streams older steps' g through its cache, and its own steps slow
    /// (backlog 3: 800 steps helped per epoch, loop 3.7–4.3 s; backlog 8: ~100, 3.0–3.1 s, with
    /// 16 slots). Half the slots with 48 (≈ 140 steps helped per epoch); never more than half
    /// of `slots` (a backlog the pipeline cannot reach would never help early).
    package var helpBacklog = 24
    /// Record-time thresholds θ_k before snapping (default 10⁻⁸ … 10⁻¹).
    package var thresholds: [Float] = (1...8).reversed().map { Float(pow(10.0, -Double($0))) }

    /// - Complexity: O(1).
    package init() {}
}

/// What a finished recording wrote.
package struct RecordingSummary: Sendable {
    package var run: String
    package var directory: String
    package var steps: Int
    package var checkpoints: Int
    /// What the checkpoints cost: the training thread's serializing plus the store writes as
    /// measured on the recorder thread (zstd, checksum, the disk), in seconds — the cost Flor's
    /// rule keeps near `RecordingOptions.checkpointShare` of the compute.
    package var checkpointSeconds: Double
    package var snapshots: Int
    /// Stored bytes per tier ("T0", "T1", "T2", "T3", "checkpoints").
    package var bytesByTier: [(tier: String, bytes: Int)]
    package var totalBytes: Int
    package var plan: RecordingPlan
    package var finalStateHash: UInt64
    package var status: String
    /// Where the time went: the training thread's CPU seconds inside `step()` (training, the
    /// hand-off copies, checkpoints, probes, and the steps it prepared for the recorder), its
    /// seconds waiting for a free pipeline slot (the recorder falling behind), the recorder
    /// thread's CPU seconds, and how many steps the training thread prepared.
    package var threads: (trainingCPUSeconds: Double, trainingWaitSeconds: Double, recorderCPUSeconds: Double, stepsPreparedByTraining: Int)
}

/// A run being recorded: the trainer with a `RecorderObserver`, the recorder pipeline and its
/// thread, the `StoreSink`, the checkpoint schedule and the run's writer. `kymo record` and the
/// tests drive it: `step()` until the trainer is finished (or stop early), then `finish()`.
///
/// Training thread per step: `trainer.step()` (the observer copies into a slot), a checkpoint
/// when the schedule says so (state bytes + hash, written by the recorder thread in step order),
/// a probe evaluation every `probeEvery` steps, and the submit. A non-finite loss: the pipeline
/// drains, everything up to the last good step is committed, the manifest is marked diverged,
/// and `step()` throws `RecorderError.diverged`.
package final class Recording {
    package let session: TrainingSession
    package var trainer: Trainer { session.trainer }
    package let plan: RecordingPlan
    package let manifest: RecorderManifest
    package let options: RecordingOptions
    package let runName: String
    private let writer: RunWriter
    private let sink: StoreSink
    private let observer: RecorderObserver
    private let pipeline: RecorderPipeline<StepSlot>
    private var schedule: CheckpointSchedule
    private var finished = false
    private var stepsSinceCheckpoint = 0
    /// Seconds the training thread spent serializing checkpoints (`RecordingSummary.checkpointSeconds`).
    private var checkpointSerializeSeconds = 0.0
    /// CPU seconds of the training thread inside `step()` (`RecordingSummary.threads`).
    private var trainingCPUSeconds = 0.0

    /// Creates the run in `lab` and starts the recorder thread. Writes the initial checkpoint
    /// (key 0) and commits the empty run, so a reader can open it at once.
    /// - Throws: `RecorderError` for the plan, `StoreError` for the run (it exists, the disk…).
    /// - Complexity: O(P + data) plus a few plain steps when `measureStepTime`.
    package init(session: TrainingSession, lab: Lab, runName: String, options: RecordingOptions) throws {
        self.session = session
        self.options = options
        self.runName = runName
        let trainer = session.trainer
        let config = trainer.config
        let engineLayout = trainer.layout
        let layers = engineLayout.layers.map { RunShape.Dense(inputs: $0.inFeatures, outputs: $0.outFeatures) }
        let layout = DenseLayout(layers: layers)
        // The recorder's flat ids are the engine's: per layer, weight row-major then bias.
        for (l, layer) in engineLayout.layers.enumerated() {
            guard layer.weightOffset == layout.offsets[l], layer.biasOffset == layout.offsets[l] + layer.weightCount else {
                throw RecorderError.invalidConfiguration(field: "layout", message: "engine layer \(layer.name) offsets differ from the recorder's")
            }
        }
        let stateFloats = config.optimizer.kind.slotCount
        let shape = RunShape(layers: layers, samples: trainer.training.count, batchSize: config.batchSize,
                             epochs: config.epochs, optimizerStateFloats: stateFloats)

        var limit = options.recorderNanosecondsPerStepLimit
        var plainStep: Double?
        if options.measureStepTime && limit == nil {
            let ns = try Self.measurePlainStep(trainer)
            plainStep = ns
            // Below 1 ms per step (small models) the cost model's fixed costs dominate and the
            // run is short anyway: no limit, so trajectories keep the budget's stride.
            limit = ns >= 1e6 ? 0.85 * ns : nil
        }
        var budget = options.budget
        if case .shareOfGradientTensor = budget, let floor = options.budgetFloorBytesPerEpoch, budget.bytesPerEpoch(for: shape) < floor {
            budget = .bytesPerEpoch(floor)
        }
        let plan = try RecordingPlan(budget: budget, shape: shape, tiers: options.tiers, thresholdCount: options.thresholds.count,
                                     recorderNanosecondsPerStepLimit: limit,
                                     factorEpochs: options.tiers.contains(.t3) ? (options.factorEpochs.map { Set($0).count } ?? config.epochs) : 0)
        self.plan = plan
        let factorEpochs = options.tiers.contains(.t3) ? Set(options.factorEpochs ?? Array(0..<config.epochs)) : []
        if let bad = factorEpochs.sorted().first(where: { $0 < 0 || $0 >= config.epochs }) {
            throw RecorderError.invalidConfiguration(field: "factor-epochs", message: "epoch \(bad + 1) is not in 1...\(config.epochs)")
        }
        let histogram = try MagnitudeHistogram(mantissaBits: plan.histogramMantissaBits)
        let thresholds = options.thresholds.sorted().map { MagnitudeHistogram.snap($0, mantissaBits: plan.histogramMantissaBits) }
        let runSeed = config.seed
        let t1Ids = plan.t1Count > 0 ? try WeightSelection(rule: .count(plan.t1Count), parameterCount: layout.parameterCount, seed: runSeed).ids : []
        let countMinSeed = XXH3.hash(runSeed, seed: 0x7432_636D_0000_0000)
        let spaceSavingSeed = XXH3.hash(runSeed, seed: 0x7432_7373_0000_0000)

        // Trajectory quanta: q_l = a power of two ≤ max|w_l| at the start / (0.875·(2^(bits−1) − 1)),
        // so the first snapshot's codes fit (|ŵ − w| ≤ q_l/2 always; blocks that do not fit are stored raw).
        let initial = trainer.parameterValues
        var quanta: [Float] = []
        for l in layout.layers.indices {
            var m: Float = 0
            for id in layout.offsets[l]..<layout.offsets[l + 1] { m = max(m, abs(initial[id])) }
            if m == 0 { m = 1 }
            let bits = max(plan.trajectoryBits, 8)
            let q = m / (0.875 * Float((1 << (bits - 1)) - 1))
            quanta.append(Float(sign: .plus, exponent: q.exponent, significand: 1))
        }
        let trajectoryOn = options.tiers.contains(.t2) && plan.trajectoryStride > 0 && plan.trajectoryStride <= trainer.totalSteps
        let names = engineLayout.layers.map(\.name)
        let probeEvery = options.probeEvery
        let manifest = RecorderManifest(
            tiers: ["t0"] + (options.tiers.contains(.t1) ? ["t1"] : []) + (options.tiers.contains(.t2) ? ["t2"] : [])
                + (options.tiers.contains(.t3) ? ["t3"] : []),
            factorEpochs: factorEpochs.sorted(),
            budget: options.budgetText, plan: plan, t1Ids: t1Ids, stateFloats: stateFloats, thresholds: thresholds,
            histogram: histogram,
            layers: layout.layers.indices.map {
                .init(name: names[$0], inputs: layout.layers[$0].inputs, outputs: layout.layers[$0].outputs,
                      offset: layout.offsets[$0], trajectoryQuantum: trajectoryOn ? quanta[$0] : 0)
            },
            shape: shape,
            optimizer: (config.optimizer.kind.rawValue, config.optimizer.momentum, config.optimizer.beta1, config.optimizer.beta2,
                        config.optimizer.epsilon, config.optimizer.weightDecay),
            countMinSeed: countMinSeed, spaceSavingSeed: spaceSavingSeed, probeEvery: probeEvery,
            commitSeconds: options.commitSeconds, checkpointShare: options.checkpointShare, limit: limit, plainStep: plainStep,
            trajectoryBlockSize: 64)
        self.manifest = manifest

        var runManifest = RunManifest(
            config: Self.configEntries(config), seeds: ["run": runSeed, "countMin": countMinSeed, "spaceSaving": spaceSavingSeed,
                                                         "t1": runSeed ^ WeightSelection.domain],
            modelSpec: "\(config.model.layersText) \(config.model.activation.rawValue) dropout \(config.model.dropout)",
            datasetFingerprint: String(trainer.trainingFingerprint, radix: 16),
            toolchain: Self.toolchain, tiers: manifest.tiers)
        runManifest.config[RecorderManifest.configKey] = manifest.jsonText()
        let writer = try lab.createRun(runName, manifest: runManifest)
        self.writer = writer
        let sink = try StoreSink(writer: writer, layout: layout, layerNames: names, tiers: options.tiers, plan: plan, t1Ids: t1Ids,
                                 stateFloats: stateFloats, quanta: quanta, countMinSeed: countMinSeed, spaceSavingSeed: spaceSavingSeed,
                                 commitSeconds: options.commitSeconds, commitEverySteps: options.commitEverySteps,
                                 factorEpochs: factorEpochs)
        self.sink = sink
        // Initial checkpoint (replay of step 0 starts here), committed before any step.
        let start = trainer.state
        try sink.writeCheckpoint(key: start.completedSteps, bytes: start.serialized(), hash: start.contentHash)
        if start.completedSteps == 0 { try sink.writeLabels(trainer.training.labels) }
        try sink.commit(through: -1)
        let stepRecorder = try StepRecorder(layout: layout, t1Ids: t1Ids, thresholds: thresholds, histogram: histogram,
                                            samplesPerStep: options.tiers.contains(.t2) ? plan.sampledContributionsPerStep : 0,
                                            runSeed: runSeed, sink: sink)
        let slotCount = max(1, options.slotCount(parameterCount: layout.parameterCount,
                                                 factorFloats: config.batchSize * layout.layers.reduce(0) { $0 + $1.inputs + $1.outputs }))
        let slots = (0..<slotCount).map { _ in
            StepSlot(layout: layout, maxBatch: config.batchSize, t1Count: t1Ids.count, stateFloats: stateFloats)
        }
        // Up to `batchLimit` steps at a time where the epoch allows (one pass over the P-sized
        // accumulators for all); the output is that of one step at a time.
        let workerPreparer = stepRecorder.preparer
        pipeline = RecorderPipeline(slots: slots, batchLimit: options.batchLimit, joinsNext: StepRecorder.joinsNext,
                                    prepare: { workerPreparer.prepare($0) },
                                    helpBacklog: min(options.helpBacklog, max(1, slotCount / 2))) { batch, _ in
            try stepRecorder.process(batch)
            if let last = batch.last { try sink.stepsProcessed(through: last.step, count: batch.count) }
        }
        observer = RecorderObserver(pipeline: pipeline, t1Ids: t1Ids, stateFloats: stateFloats, trainingCount: trainer.training.count,
                                    stride: trajectoryOn ? plan.trajectoryStride : 0)
        if options.trainingThreadHelps {
            let preparer = stepRecorder.preparer.sibling()
            observer.help = { preparer.prepare($0) }
        }
        let stateBytes = Double(4 * layout.parameterCount * (1 + stateFloats))
        schedule = try CheckpointSchedule(overheadShare: options.checkpointShare, initialCheckpointSeconds: stateBytes / 400e6)
        trainer.observer = observer
    }

    deinit {
        if !finished { session.trainer.observer = nil }
    }

    /// One recorded step.
    /// - Throws: `RecorderError.diverged` (the run is then committed up to the last good step,
    ///   marked diverged and closed), `RecorderError.workerFailed` / `.store` when recording
    ///   failed (what was committed stays readable).
    /// - Complexity: a training step plus the hand-off copies.
    @discardableResult
    package func step() throws -> StepSummary {
        let cpuStart = ThreadCPUClock.seconds()
        defer { trainingCPUSeconds += ThreadCPUClock.seconds() - cpuStart }
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: Result<StepSummary, EngineError>
        do { outcome = .success(try trainer.step()) } catch { outcome = .failure(error) }
        let summary: StepSummary
        switch outcome {
        case let .success(s):
            summary = s
        case let .failure(error):
            if case let .nonFiniteLoss(step, _, loss) = error {
                try diverge(step: step, message: "non-finite loss \(loss)")
            }
            throw error
        }
        let computeSeconds = (clock.now - start).secondsValue
        if let failure = observer.failure { try abandon(failure) }
        guard let slot = observer.takePending() else {
            try abandon(RecorderError.invalidConfiguration(field: "observer", message: "step \(summary.step) was not observed"))
        }
        stepsSinceCheckpoint += 1
        // Flor's rule (cost < ε of the compute since the last one), within the plan's checkpoint
        // bytes: at most `checkpointsPerEpoch` per epoch.
        let floorSpacing = max(1, trainer.stepsPerEpoch / max(1, plan.checkpointsPerEpoch))
        let flor = schedule.stepFinished(computeSeconds: computeSeconds)
        if (flor && stepsSinceCheckpoint >= floorSpacing) || trainer.isFinished {
            stepsSinceCheckpoint = 0
            let t0 = clock.now
            let state = trainer.state
            slot.checkpoint = (state.completedSteps, state.serialized(), state.contentHash)
            // The write happens later on the recorder thread: it is charged what the latest
            // write measured there (zstd and the disk), or, before any, the bytes at 400 MB/s.
            let serializing = (clock.now - t0).secondsValue
            checkpointSerializeSeconds += serializing
            let writing = sink.checkpointWriteCosts.latest ?? Double(slot.checkpoint!.bytes.count) / 400e6
            schedule.checkpointWritten(seconds: serializing + writing)
        }
        let probeDue = options.probeEvery > 0 ? trainer.completedSteps % options.probeEvery == 0
            : trainer.position == 0 // end of an epoch
        if probeDue && session.probe.count > 0 {
            let (loss, accuracy) = try trainer.evaluate(on: session.probe)
            slot.probe = (loss, accuracy)
        }
        do { try pipeline.submit(slot) } catch { try abandon(error) }
        return summary
    }

    /// Drains the recorder, writes the final checkpoint, commits and closes the run.
    /// `interrupted`: the run stopped early (Ctrl-C); the manifest says after how many steps.
    /// - Complexity: the recorder's remaining work plus the final commit.
    @discardableResult
    package func finish(interrupted: Bool = false) throws -> RecordingSummary {
        trainer.observer = nil
        do { try pipeline.finish() } catch {
            finished = true
            throw RecorderError.store(message: "\(error)")
        }
        let state = trainer.state
        try sink.writeCheckpoint(key: state.completedSteps, bytes: state.serialized(), hash: state.contentHash)
        try sink.commit(through: trainer.completedSteps - 1, closingTrajectories: true)
        if interrupted {
            var m = manifest
            m.stoppedAfterSteps = trainer.completedSteps
            var run = writer.manifest
            run.config[RecorderManifest.configKey] = m.jsonText()
            try writer.updateManifest(run)
        }
        try writer.finish()
        finished = true
        return try summary(hash: state.contentHash)
    }

    private func summary(hash: UInt64) throws -> RecordingSummary {
        let reader = try Lab(existing: URL(fileURLWithPath: writer.directory).deletingLastPathComponent().deletingLastPathComponent().path)
            .openRun(runName)
        var tiers: [String: Int] = [:]
        var total = 0
        for chunk in reader.allChunks() {
            let tier = chunk.column.hasPrefix("_checkpoint") ? "checkpoints" : String(chunk.column.prefix(2)).uppercased()
            tiers[tier, default: 0] += chunk.length
            total += chunk.length
        }
        let order = ["T0", "T1", "T2", "T3", "checkpoints"]
        return RecordingSummary(
            run: runName, directory: writer.directory, steps: trainer.completedSteps, checkpoints: reader.checkpointSteps().count,
            checkpointSeconds: checkpointSerializeSeconds + sink.checkpointWriteCosts.total.seconds,
            snapshots: sink.snapshotsWritten,
            bytesByTier: order.filter { tiers[$0] != nil }.map { ($0, tiers[$0]!) }, totalBytes: total, plan: plan,
            finalStateHash: hash, status: reader.manifest.status.description,
            threads: (trainingCPUSeconds, pipeline.accounting.acquireWaitSeconds, pipeline.accounting.workerCPUSeconds,
                      pipeline.accounting.helped))
    }

    /// Divergence at `step`: drain, commit the good prefix, mark the run, close it, throw.
    private func diverge(step: Int, message: String) throws -> Never {
        trainer.observer = nil
        finished = true
        let drained = Result { try pipeline.finish() }
        if case let .failure(error) = drained { throw RecorderError.store(message: "\(error)") }
        let state = trainer.state // the last good state (the failed step applied nothing)
        try sink.writeCheckpoint(key: state.completedSteps, bytes: state.serialized(), hash: state.contentHash)
        try sink.commit(through: step - 1, closingTrajectories: true)
        try writer.markDiverged(step: step, message: message)
        try writer.finish()
        throw RecorderError.diverged(step: step, message: message)
    }

    /// Recording failed: stop the recorder thread and surface its error (the committed prefix
    /// stays readable; the run stays "running" and can be reopened).
    private func abandon(_ error: any Error) throws -> Never {
        trainer.observer = nil
        finished = true
        _ = try? pipeline.finish()
        throw RecorderError.store(message: "\(pipeline.failure.map { "\($0)" } ?? "\(error)")")
    }

    /// The fastest of a few plain steps on a throwaway copy of the trainer (no observer), after
    /// two warm-up steps. The minimum, not the median: on a shared machine other processes only
    /// ever make a step slower, and a step inflated by them would loosen the recorder's time
    /// limit exactly when the second core is scarce.
    private static func measurePlainStep(_ trainer: Trainer) throws -> Double {
        let copy = try Trainer(state: trainer.state, training: trainer.training, threads: trainer.threads)
        let clock = ContinuousClock()
        var times: [Double] = []
        for i in 0..<min(11, copy.totalSteps) {
            let t = clock.now
            try copy.step()
            if i >= 2 || copy.totalSteps <= 2 { times.append((clock.now - t).secondsValue * 1e9) }
        }
        return times.min() ?? 3e6
    }

    static func configEntries(_ config: TrainingConfig) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(config),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in object {
            if let s = value as? String { result[key] = s; continue }
            if let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
                result[key] = String(decoding: d, as: UTF8.self)
            }
        }
        return result
    }

    static var toolchain: String {
        #if compiler(>=6.3)
        "swift 6.3+"
        #elseif compiler(>=6.2)
        "swift 6.2"
        #else
        "swift <6.2"
        #endif
    }
}

extension Duration {
    var secondsValue: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
