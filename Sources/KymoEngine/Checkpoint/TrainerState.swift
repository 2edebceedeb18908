import KymoCore

/// Everything needed to continue a run bit for bit: the config (minus `threads`, an execution
/// setting), the data set's identity, the position in the data order, the random keys, the weights
/// and the optimizer state. Byte layout: docs/format/checkpoint.md.
///
/// Resuming (`Trainer(state:training:)`) and training on gives the same bits as never stopping,
/// including mid-epoch: the epoch's data order is recomputed from its key and the position,
/// dropout masks from the key and the step.
package struct TrainerState: Sendable, Equatable {
    package static let magic: [UInt8] = Array("KYMOCKPT".utf8)
    package static let formatVersion: UInt32 = 1

    /// The run's config; `threads` is always 1 here (not stored).
    package var config: TrainingConfig
    /// `Dataset.fingerprint` and count of the training set (after the probe split).
    package var datasetFingerprint: UInt64
    package var datasetCount: Int
    /// Steps completed; the epoch and data-order position of the next step.
    package var completedSteps: Int
    package var epoch: Int
    package var position: Int
    /// Root keys of the data-order and dropout streams (counters are 0: both are addressed
    /// statelessly by epoch and step). Stored so a reader need not know how they derive from the seed.
    package var dataOrderRNG: CounterRNG
    package var dropoutRNG: CounterRNG
    /// (P) global parameter vector (see `ParameterLayout`).
    package var parameters: [Float]
    /// [] (SGD), [velocity] (momentum, Nesterov) or [m, v] (Adam, AdamW), each (P).
    package var optimizerState: [[Float]]

    /// - Complexity: O(1).
    package init(config: TrainingConfig, datasetFingerprint: UInt64, datasetCount: Int, completedSteps: Int,
                 epoch: Int, position: Int, dataOrderRNG: CounterRNG, dropoutRNG: CounterRNG,
                 parameters: [Float], optimizerState: [[Float]]) {
        self.config = config
        self.datasetFingerprint = datasetFingerprint
        self.datasetCount = datasetCount
        self.completedSteps = completedSteps
        self.epoch = epoch
        self.position = position
        self.dataOrderRNG = dataOrderRNG
        self.dropoutRNG = dropoutRNG
        self.parameters = parameters
        self.optimizerState = optimizerState
    }

    /// The serialized bytes: magic, version, payload, then XXH3-64 of everything before it.
    /// - Complexity: O(P).
    package func serialized() -> [UInt8] {
        var w = ByteWriter(capacity: 256 + 4 * parameters.count * (1 + optimizerState.count))
        w.write(raw: Self.magic)
        w.write(Self.formatVersion)
        w.write(config.data)
        w.write(array: config.model.widths.map { UInt64($0) })
        w.write(UInt8(config.model.activation == .relu ? 0 : 1))
        w.write(config.model.dropout)
        w.write(UInt8(OptimizerKind.allCases.firstIndex(of: config.optimizer.kind)!))
        w.write(config.optimizer.learningRate)
        w.write(config.optimizer.momentum)
        w.write(config.optimizer.beta1)
        w.write(config.optimizer.beta2)
        w.write(config.optimizer.epsilon)
        w.write(config.optimizer.weightDecay)
        w.write(config.schedule.text)
        w.write(UInt64(config.batchSize))
        w.write(UInt64(config.epochs))
        w.write(config.seed)
        w.write(config.probeFraction)
        w.write(datasetFingerprint)
        w.write(UInt64(datasetCount))
        w.write(UInt64(completedSteps))
        w.write(UInt64(epoch))
        w.write(UInt64(position))
        w.write(dataOrderRNG.key)
        w.write(dataOrderRNG.counter)
        w.write(dropoutRNG.key)
        w.write(dropoutRNG.counter)
        w.write(array: parameters)
        w.write(UInt32(optimizerState.count))
        for slot in optimizerState { w.write(array: slot) }
        let checksum = w.bytes.withUnsafeBytes { XXH3.hash($0, seed: 0) }
        w.write(checksum)
        return w.bytes
    }

    /// XXH3-64 of the serialized state (the checkpoint's trailing checksum): equal hashes mean
    /// equal states, bit for bit.
    /// - Complexity: O(P).
    package var contentHash: UInt64 {
        let bytes = serialized()
        var r = ByteReader(bytes, source: "state", offset: bytes.count - 8)
        return (try? r.read(UInt64.self, "checksum")) ?? 0
    }

    /// Decodes and verifies a checkpoint.
    /// - Throws: `EngineError.corruptCheckpoint` naming `source`, the field and the offset: wrong
    ///   magic or version, checksum mismatch, truncation, or values that contradict each other.
    /// - Complexity: O(P).
    package init(deserializing bytes: [UInt8], source: String) throws(EngineError) {
        func fail(_ message: String) -> EngineError { .corruptCheckpoint(source: source, message: message) }
        guard bytes.count >= 20 else { throw fail("\(bytes.count) bytes is too short for a checkpoint") }
        guard Array(bytes[0..<8]) == Self.magic else { throw fail("offset 0: field 'magic' is not KYMOCKPT") }
        let expected = bytes.withUnsafeBytes { XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)]), seed: 0) }
        var r = ByteReader(bytes, source: source, offset: 8)
        do {
            let version = try r.read(UInt32.self, "version")
            guard version == Self.formatVersion else {
                throw fail("offset 8: field 'version' is \(version); this build reads version \(Self.formatVersion)")
            }
            var tail = ByteReader(bytes, source: source, offset: bytes.count - 8)
            let stored = try tail.read(UInt64.self, "checksum")
            guard stored == expected else {
                throw fail("offset \(bytes.count - 8): field 'checksum' is \(hex(stored)) but the content hashes to \(hex(expected))")
            }
            let data = try r.readString("data")
            let widthsAt = r.offset
            let widths = try r.readArray(UInt64.self, "widths")
            guard widths.count >= 2, widths.count <= 1024, widths.allSatisfy({ $0 > 0 && $0 < 1 << 31 }) else {
                throw fail("offset \(widthsAt): field 'widths' is \(widths)")
            }
            let activationAt = r.offset
            let activationCode = try r.read(UInt8.self, "activation")
            guard activationCode < 2 else { throw fail("offset \(activationAt): field 'activation' is \(activationCode)") }
            let dropout = try r.readFloat("dropout")
            let model: ModelSpec
            do { model = try ModelSpec(widths: widths.map { Int($0) }, activation: activationCode == 0 ? .relu : .tanh, dropout: dropout) }
            catch { throw fail("offset \(widthsAt): \(error.description)") }
            let kindAt = r.offset
            let kindCode = Int(try r.read(UInt8.self, "optimizer.kind"))
            guard kindCode < OptimizerKind.allCases.count else { throw fail("offset \(kindAt): field 'optimizer.kind' is \(kindCode)") }
            var optimizer = OptimizerConfig(kind: OptimizerKind.allCases[kindCode])
            optimizer.learningRate = try r.readFloat("optimizer.learningRate")
            optimizer.momentum = try r.readFloat("optimizer.momentum")
            optimizer.beta1 = try r.readFloat("optimizer.beta1")
            optimizer.beta2 = try r.readFloat("optimizer.beta2")
            optimizer.epsilon = try r.readFloat("optimizer.epsilon")
            optimizer.weightDecay = try r.readFloat("optimizer.weightDecay")
            let scheduleAt = r.offset
            let scheduleText = try r.readString("schedule")
            let schedule: LearningRateSchedule
            do { schedule = try LearningRateSchedule(parsing: scheduleText) }
            catch { throw fail("offset \(scheduleAt): field 'schedule': \(error.description)") }
            let batchSize = Int(clamping: try r.read(UInt64.self, "batchSize"))
            let epochs = Int(clamping: try r.read(UInt64.self, "epochs"))
            let seed = try r.read(UInt64.self, "seed")
            let probeFraction = try r.readDouble("probeFraction")
            config = TrainingConfig(data: data, model: model, optimizer: optimizer, schedule: schedule,
                                    batchSize: batchSize, epochs: epochs, seed: seed, threads: 1,
                                    probeFraction: probeFraction)
            do { try config.validate() } catch { throw fail("config: \(error.description)") }
            datasetFingerprint = try r.read(UInt64.self, "datasetFingerprint")
            datasetCount = Int(clamping: try r.read(UInt64.self, "datasetCount"))
            completedSteps = Int(clamping: try r.read(UInt64.self, "completedSteps"))
            epoch = Int(clamping: try r.read(UInt64.self, "epoch"))
            let positionAt = r.offset
            position = Int(clamping: try r.read(UInt64.self, "position"))
            guard position < max(datasetCount, 1) else {
                throw fail("offset \(positionAt): field 'position' \(position) is not below the data set's \(datasetCount) samples")
            }
            dataOrderRNG = CounterRNG(key: try r.read(UInt64.self, "dataOrder.key"), counter: try r.read(UInt64.self, "dataOrder.counter"))
            dropoutRNG = CounterRNG(key: try r.read(UInt64.self, "dropout.key"), counter: try r.read(UInt64.self, "dropout.counter"))
            let parametersAt = r.offset
            parameters = try r.readFloatArray("parameters")
            let expectedCount = ParameterLayout(model).count
            guard parameters.count == expectedCount else {
                throw fail("offset \(parametersAt): field 'parameters' holds \(parameters.count) values; the model \(model.layersText) has \(expectedCount)")
            }
            let slotsAt = r.offset
            let slotCount = Int(try r.read(UInt32.self, "optimizerState.count"))
            guard slotCount == optimizer.kind.slotCount else {
                throw fail("offset \(slotsAt): field 'optimizerState.count' is \(slotCount); \(optimizer.kind.rawValue) keeps \(optimizer.kind.slotCount)")
            }
            optimizerState = []
            for i in 0..<slotCount {
                let at = r.offset
                let slot = try r.readFloatArray("optimizerState[\(i)]")
                guard slot.count == expectedCount else {
                    throw fail("offset \(at): field 'optimizerState[\(i)]' holds \(slot.count) values, expected \(expectedCount)")
                }
                optimizerState.append(slot)
            }
            _ = try r.read(UInt64.self, "checksum")
            try r.expectEnd()
        } catch let error as CoreError {
            throw fail(error.description)
        } catch let error as EngineError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }
}

private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

extension Trainer {
    /// A snapshot of the full state.
    /// - Complexity: O(P).
    package var state: TrainerState {
        var stored = config
        stored.threads = 1
        return TrainerState(
            config: stored, datasetFingerprint: trainingFingerprint, datasetCount: training.count,
            completedSteps: completedSteps, epoch: epoch, position: position,
            dataOrderRNG: dataOrderKey, dropoutRNG: CounterRNG(key: config.seed).stream(RandomStream.dropout),
            parameters: parameterValues, optimizerState: (0..<slots.count).map { optimizerSlot($0) })
    }

    /// Resumes a run from `state` on the same training set.
    /// - Throws: `EngineError.invalidSpec` when `training` is not the data set the state was
    ///   trained on (count or fingerprint differ) or does not fit the model.
    /// - Complexity: O(P + count).
    package convenience init(state: TrainerState, training: Dataset, threads: Int = 1) throws(EngineError) {
        guard training.count == state.datasetCount, training.fingerprint == state.datasetFingerprint else {
            throw .invalidSpec("the checkpoint was trained on a data set of \(state.datasetCount) samples (fingerprint \(hex(state.datasetFingerprint))); this one (\(training.name)) has \(training.count) (fingerprint \(hex(training.fingerprint)))")
        }
        var config = state.config
        config.threads = threads
        try self.init(config: config, training: training)
        restore(step: state.completedSteps, epoch: state.epoch, position: state.position,
                parameters: state.parameters, slots: state.optimizerState)
    }
}
