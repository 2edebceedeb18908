import KymoCore
import Testing
@testable import KymoEngine

/// Training with the zero-skipping weight gradients equals training with the dense kernel bit for
/// bit: checkpoints, summaries and every factor the observer sees, for any thread count; and the
/// norms the step reports are the norms of the buffers it hands out.
@Suite struct TrainerZeroSkippingTests {
    /// Layers wide enough (≥ 16 columns, ≥ 2¹⁶ multiply-adds) for the skipping kernel to run.
    static let configs: [TrainingConfig] = [
        try! tinyConfig(layers: "40,96,64,5", optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.2),
                        batch: 32, epochs: 2),
        try! tinyConfig(layers: "40,96,64,5", dropout: 0.2,
                        optimizer: OptimizerConfig(kind: .adamw, learningRate: 0.01, weightDecay: 0.01),
                        batch: 27, epochs: 2),
        try! tinyConfig(layers: "40,80,5", activation: .tanh, dropout: 0.3,
                        optimizer: OptimizerConfig(kind: .nesterov, learningRate: 0.05), batch: 32, epochs: 2),
    ]

    static let data = syntheticDataset(count: 150, features: 40, classes: 5, seed: 99)

    static func run(_ config: TrainingConfig, skipping: Bool, threads: Int) throws -> (Trainer, RecordingObserver) {
        let trainer = try Trainer(config: config, training: data)
        trainer.skipsZeros = skipping
        trainer.threads = threads
        let observer = RecordingObserver()
        trainer.observer = observer
        while !trainer.isFinished { try trainer.step() }
        return (trainer, observer)
    }

    @Test(arguments: configs.indices)
    func skippingEqualsDenseBitForBit(index: Int) throws {
        let config = Self.configs[index]
        let (dense, denseSteps) = try Self.run(config, skipping: false, threads: 1)
        for threads in [1, 2] {
            let (skipping, steps) = try Self.run(config, skipping: true, threads: threads)
            #expect(skipping.state.contentHash == dense.state.contentHash, "threads=\(threads)")
            #expect(steps.copies.count == denseSteps.copies.count)
            for (t, (x, y)) in zip(steps.copies, denseSteps.copies).enumerated() {
                #expect(x.summary == y.summary, "step \(t)")
                #expect(x.gradient.map(\.bitPattern) == y.gradient.map(\.bitPattern), "gradient, step \(t)")
                #expect(x.update.map(\.bitPattern) == y.update.map(\.bitPattern), "update, step \(t)")
                #expect(x.deltas.map { $0.map(\.bitPattern) } == y.deltas.map { $0.map(\.bitPattern) }, "δ, step \(t)")
                #expect(x.norms.map(\.bitPattern) == y.norms.map(\.bitPattern), "norms, step \(t)")
            }
        }
        // The ReLU runs do have zeros to skip (else this test would prove nothing).
        if config.model.activation == .relu {
            let zeros = denseSteps.copies[0].deltas[0].filter { $0 == 0 }.count
            #expect(zeros * 4 > denseSteps.copies[0].deltas[0].count, "δ of fc1 has \(zeros) zeros")
        }
    }

    /// ‖g‖ and ‖Δw‖ of the summary are the norms of the trace's gradient and update buffers (the
    /// update norm is now taken inside the optimizer's pass, the 1/B inside the GEMM's store).
    @Test(arguments: configs.indices)
    func summaryNormsAreTheBuffersNorms(index: Int) throws {
        let (_, observer) = try Self.run(Self.configs[index], skipping: true, threads: 1)
        for copy in observer.copies {
            let g = copy.gradient.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: $0.count) }
            let u = copy.update.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: $0.count) }
            #expect(copy.summary.gradientNorm.bitPattern == Float(g.squareRoot()).bitPattern)
            #expect(copy.summary.updateNorm.bitPattern == Float(u.squareRoot()).bitPattern)
            #expect(zip(copy.before, zip(copy.update, copy.after)).allSatisfy { $0 + $1.0 == $1.1 })
        }
    }

    /// Without an observer Δw is not stored, yet the run and its summaries are the same.
    @Test func noObserverSameRun() throws {
        let config = Self.configs[0]
        let (observed, observer) = try Self.run(config, skipping: true, threads: 1)
        let plain = try Trainer(config: config, training: Self.data)
        var summaries: [StepSummary] = []
        while !plain.isFinished { summaries.append(try plain.step()) }
        #expect(summaries == observer.copies.map(\.summary))
        #expect(plain.state.contentHash == observed.state.contentHash)
    }
}
