import Testing
@testable import KymoEngine

/// `RecordingObserver` that also lends the trainer g/Δw buffers, `pairs` of them in turn.
private final class LendingObserver: StepObserver {
    let inner = RecordingObserver()
    let lent: [LentStepBuffers]
    var next = 0
    var lentThisStep: LentStepBuffers?

    init(pairs: Int, parameterCount: Int) {
        lent = (0..<pairs).map { _ in LentStepBuffers(count: parameterCount) }
    }

    func buffersForNextStep(parameterCount: Int) -> LentStepBuffers? {
        next = (next + 1) % lent.count
        lentThisStep = lent[next]
        return lent[next]
    }

    func observe(_ trace: StepTrace) {
        // The trace points at the lent buffers, filled before the call.
        #expect(trace.gradient.baseAddress == UnsafePointer(lentThisStep!.gradient.baseAddress))
        #expect(trace.update.baseAddress == UnsafePointer(lentThisStep!.update.baseAddress))
        inner.observe(trace)
    }
}

@Suite struct TrainerHandOffTests {
    /// Lent buffers (filled by the optimizer's pass with streaming stores) change no bit of
    /// training or of the trace: g, Δw, w and the state equal those of a trainer whose observer
    /// lends nothing, step by step, for every optimizer; odd P so the pass has a tail.
    @Test(arguments: [OptimizerKind.sgd, .momentum, .nesterov, .adam, .adamw])
    func lentBuffersChangeNoBit(kind: OptimizerKind) throws {
        let data = syntheticDataset(count: 40, features: 6, classes: 3, seed: 5)
        let config = try tinyConfig(layers: "6,5,3", optimizer: OptimizerConfig(kind: kind, learningRate: 0.05, momentum: 0.9,
                                                                                 weightDecay: 0.01), batch: 8, epochs: 2)
        let plain = try Trainer(config: config, training: data)
        let lending = try Trainer(config: config, training: data)
        #expect(plain.layout.count % 16 != 0)
        let reference = RecordingObserver()
        let observer = LendingObserver(pairs: 3, parameterCount: lending.layout.count)
        plain.observer = reference
        lending.observer = observer
        while !plain.isFinished {
            try plain.step()
            try lending.step()
        }
        #expect(observer.inner.copies.count == reference.copies.count)
        for (a, b) in zip(reference.copies, observer.inner.copies) {
            #expect(a.gradient.map(\.bitPattern) == b.gradient.map(\.bitPattern), "g, step \(a.summary.step)")
            #expect(a.update.map(\.bitPattern) == b.update.map(\.bitPattern), "Δw, step \(a.summary.step)")
            #expect(a.after.map(\.bitPattern) == b.after.map(\.bitPattern), "w, step \(a.summary.step)")
            #expect(a.summary == b.summary)
        }
        #expect(plain.state.contentHash == lending.state.contentHash)
    }

    /// A non-finite loss stops the step before its optimizer pass: the lent buffers stay as
    /// they were (zero), and nothing of the state changes.
    @Test func nonFiniteStepLeavesLentBuffersUntouched() throws {
        var bad = syntheticDataset(count: 16, features: 6, classes: 3, seed: 6)
        for s in 0..<16 { bad.features[s * 6] = .nan }
        let trainer = try Trainer(config: try tinyConfig(batch: 4, epochs: 1), training: bad)
        let observer = LendingObserver(pairs: 1, parameterCount: trainer.layout.count)
        trainer.observer = observer
        let before = trainer.state
        #expect(throws: EngineError.self) { try trainer.step() }
        #expect(trainer.state == before)
        #expect(observer.lent[0].gradient.allSatisfy { $0.bitPattern == 0 })
        #expect(observer.lent[0].update.allSatisfy { $0.bitPattern == 0 })
        #expect(observer.inner.copies.isEmpty)
    }
}
