import Foundation
import KymoTestSupport
import Testing
@testable import KymoEngine

@Suite struct CheckpointTests {
    let data = syntheticDataset(count: 20, features: 6, classes: 3, seed: 42)

    func trainedState() throws -> TrainerState {
        let config = try tinyConfig(optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01), batch: 8)
        let trainer = try Trainer(config: config, training: data)
        for _ in 0..<4 { try trainer.step() }
        return trainer.state
    }

    @Test func roundTrips() throws {
        let state = try trainedState()
        let bytes = state.serialized()
        let decoded = try TrainerState(deserializing: bytes, source: "memory")
        #expect(decoded == state)
        #expect(decoded.serialized() == bytes)
        #expect(decoded.contentHash == state.contentHash)
        #expect(decoded.optimizerState.count == 2)
        #expect(decoded.completedSteps == 4)
        #expect(decoded.epoch == 1 && decoded.position == 8)
    }

    @Test func everyFlippedByteIsDetected() throws {
        let bytes = try trainedState().serialized()
        for offset in stride(from: 0, to: bytes.count, by: 7) {
            var damaged = bytes
            damaged[offset] ^= 0x10
            #expect(throws: EngineError.self, "offset \(offset)") { try TrainerState(deserializing: damaged, source: "ckpt") }
        }
        for length in [0, 10, 19, bytes.count / 2, bytes.count - 1] {
            #expect(throws: EngineError.self) { try TrainerState(deserializing: Array(bytes[0..<length]), source: "ckpt") }
        }
        var damaged = bytes
        damaged[40] ^= 1
        do {
            _ = try TrainerState(deserializing: damaged, source: "run.ckpt")
        } catch {
            #expect(error.description.contains("run.ckpt"))
            #expect(error.description.contains("checksum"))
        }
    }

    @Test func atomicFileWriteAndRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("run.ckpt")
        let state = try trainedState()
        try state.write(to: path)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        #expect(try TrainerState(contentsOf: path) == state)
        #expect(throws: EngineError.self) { try TrainerState(contentsOf: directory.file("missing.ckpt")) }
    }

    @Test func resumeRefusesAnotherDataSet() throws {
        let state = try trainedState()
        let other = syntheticDataset(count: 21, features: 6, classes: 3, seed: 42)
        #expect(throws: EngineError.self) { try Trainer(state: state, training: other) }
    }
}
