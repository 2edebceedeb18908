import KymoEngine
import KymoStore
import Synchronization

/// The checkpoints of a run in a lab, as `kymo record` wrote them, for `SegmentReplayer`.
///
/// The run's config, data-set fingerprint and size come from its first checkpoint (a checkpoint
/// holds the whole `TrainerState`, config included), so nothing else of the manifest must be
/// trusted. The recorded data order (`t0/order`) and batch losses (`t0/loss`) are loaded once, so
/// replay compares every replayed step against them and names the first divergent step.
///
/// Thread safety: `RunReader` is single-threaded, so checkpoint reads are serialized by a mutex;
/// parallel segment replays only contend while a checkpoint decodes.
package final class StoreCheckpointSource: CheckpointSource {
    package let runConfig: TrainingConfig
    package let datasetFingerprint: UInt64
    package let datasetCount: Int
    package let checkpoints: [CheckpointInfo]
    private let recorded: [RecordedStep]
    private let reader: Mutex<RunReader>

    /// Column names this source reads (docs/RECORDING.md).
    package enum Column {
        package static let order = "t0/order"
        package static let loss = "t0/loss"
    }

    /// Opens run `run` of `lab` at its last commit: its checkpoints and the T0 log of its steps.
    /// - Throws: `ReplayError.noCheckpoint` when the run has none, `.store` when a read fails,
    ///   `.corruptCheckpoint` when the first one does not decode.
    /// - Complexity: O(checkpoints + committed steps × batch) reads, one checkpoint decode.
    package init(lab: Lab, run: String) throws(ReplayError) {
        let reader: RunReader
        do { reader = try lab.openRun(run) } catch { throw .store(error.description) }
        let chunks = reader.chunks(column: RunWriter.checkpointColumn)
        checkpoints = chunks.map { CheckpointInfo(step: $0.steps.lowerBound, contentHash: $0.tag) }
        guard let first = checkpoints.first else { throw .noCheckpoint(atOrBefore: Int.max) }
        let state = try Self.load(reader, atOrBefore: first.step)
        runConfig = state.config
        datasetFingerprint = state.datasetFingerprint
        datasetCount = state.datasetCount
        recorded = try Self.recordedSteps(reader)
        // The mutex owns a reader of its own: the one above stays in this initializer's region.
        do { self.reader = Mutex(try Lab(existing: lab.path).openRun(run)) } catch { throw .store(error.description) }
    }

    /// - Complexity: O(checkpoint size).
    package func state(atOrBefore step: Int) throws(ReplayError) -> TrainerState {
        try reader.withLock { (reader) throws(ReplayError) -> TrainerState in
            try Self.load(reader, atOrBefore: step)
        }
    }

    /// - Complexity: O(1).
    package func recordedStep(_ step: Int) -> RecordedStep? {
        recorded.indices.contains(step) ? recorded[step] : nil
    }

    private static func load(_ reader: RunReader, atOrBefore step: Int) throws(ReplayError) -> TrainerState {
        let stored: StoredCheckpoint?
        do { stored = try reader.checkpoint(atOrBefore: step) } catch { throw .store(error.description) }
        guard let stored else { throw .noCheckpoint(atOrBefore: step) }
        do {
            return try TrainerState(deserializing: stored.bytes, source: "checkpoint at step \(stored.step)")
        } catch {
            throw .corruptCheckpoint(step: stored.step, message: error.description)
        }
    }

    /// The batch order and loss of every committed step, or none when the run lacks T0.
    private static func recordedSteps(_ reader: RunReader) throws(ReplayError) -> [RecordedStep] {
        let columns = Set(reader.columns())
        guard columns.contains(Column.order), columns.contains(Column.loss), !reader.committedSteps.isEmpty else { return [] }
        let steps = reader.committedSteps
        let order: [UInt32], losses: [Float]
        do {
            guard case let .uint32(o) = try reader.read(column: Column.order, steps: steps),
                  case let .float32(l) = try reader.read(column: Column.loss, steps: steps) else { return [] }
            order = o; losses = l
        } catch { throw .store("\(error)") }
        // Batches are B samples except the last of an epoch; widths come from the chunk index.
        var result: [RecordedStep] = []
        result.reserveCapacity(losses.count)
        var cursor = 0
        for chunk in reader.chunks(column: Column.order) {
            for step in chunk.steps where step < losses.count {
                let ids = order[cursor..<min(cursor + chunk.width, order.count)].map { Int($0) }
                cursor += chunk.width
                result.append(RecordedStep(step: step, sampleIDs: ids, loss: losses[step]))
            }
        }
        return result.count == losses.count ? result : []
    }
}

extension StoreCheckpointSource {
    /// The run's training set, loaded as `SegmentReplayer(source:)` loads it (`DataSource(parsing:
    /// config.data)` from the config in the run's first checkpoint, then the probe split by the
    /// run's seed), and checked against that checkpoint's data-set fingerprint and size. For
    /// readers that need the data only for labels (the query module).
    /// - Throws: `ReplayError.noCheckpoint` when the run has none, `.engine` when the data cannot
    ///   be loaded, `.datasetMismatch` when it changed since the run.
    /// - Complexity: O(data size) plus one checkpoint decode.
    package static func trainingSet(of reader: RunReader) throws(ReplayError) -> Dataset {
        guard let first = reader.chunks(column: RunWriter.checkpointColumn).first else { throw .noCheckpoint(atOrBefore: Int.max) }
        let state = try load(reader, atOrBefore: first.steps.lowerBound)
        let config = state.config
        let data: Dataset
        do { data = try DataSource(parsing: config.data).load(seed: config.seed) } catch { throw .engine(error) }
        let training = data.split(probeFraction: config.probeFraction, seed: config.seed).train
        let fingerprint = training.fingerprint
        guard fingerprint == state.datasetFingerprint, training.count == state.datasetCount else {
            throw .datasetMismatch(expectedFingerprint: state.datasetFingerprint, expectedCount: state.datasetCount,
                                   foundFingerprint: fingerprint, foundCount: training.count, name: training.name)
        }
        return training
    }
}
