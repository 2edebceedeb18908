import KymoCore
import Testing
@testable import KymoEngine

/// ‖g‖² taken inside the optimizer's pass (when the factors bound it as finite) gives the same
/// bits as the separate pass; a gradient whose norm overflows still stops the step before
/// anything is applied.
@Suite struct TrainerGradientNormTests {
    static let data = syntheticDataset(count: 150, features: 40, classes: 5, seed: 41)

    static let configs: [TrainingConfig] = [
        try! tinyConfig(layers: "40,96,64,5", optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.2),
                        batch: 32, epochs: 2),
        try! tinyConfig(layers: "40,48,5", activation: .tanh, dropout: 0.2,
                        optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01, weightDecay: 0.01),
                        batch: 27, epochs: 2),
        try! tinyConfig(layers: "40,33,17,5",
                        optimizer: OptimizerConfig(kind: .nesterov, learningRate: 0.05, weightDecay: 0.001),
                        batch: 13, epochs: 1),
    ]

    static func run(_ config: TrainingConfig, fused: Bool) throws -> (Trainer, RecordingObserver) {
        let trainer = try Trainer(config: config, training: data)
        trainer.fusesGradientNorm = fused
        let observer = RecordingObserver()
        trainer.observer = observer
        while !trainer.isFinished { try trainer.step() }
        return (trainer, observer)
    }

    @Test(arguments: configs.indices)
    func fusedNormEqualsSeparatePassBitForBit(index: Int) throws {
        let (separate, separateSteps) = try Self.run(Self.configs[index], fused: false)
        let (fused, fusedSteps) = try Self.run(Self.configs[index], fused: true)
        #expect(fused.state.contentHash == separate.state.contentHash)
        #expect(fusedSteps.copies.count == separateSteps.copies.count)
        for (t, (x, y)) in zip(fusedSteps.copies, separateSteps.copies).enumerated() {
            #expect(x.summary.gradientNorm.bitPattern == y.summary.gradientNorm.bitPattern, "step \(t)")
            #expect(x.summary == y.summary, "step \(t)")
        }
        // The norms are real (a test of zeros would prove nothing).
        #expect(fusedSteps.copies.allSatisfy { $0.summary.gradientNorm > 0 })
    }

    @Test func maximumMagnitudeIsExactAndFlagsNonFiniteValues() {
        for count in [0, 1, 7, 8, 9, 23, 64] {
            var rng = CounterRNG(key: UInt64(count) + 5)
            var x = (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * 1e3 }
            let expected = x.map(\.magnitude).max() ?? 0
            #expect(VectorMath.maximumMagnitude(x, count: count) == expected, "count \(count)")
            if count > 0 {
                let negative = -Float.greatestFiniteMagnitude
                x[count - 1] = negative
                #expect(VectorMath.maximumMagnitude(x, count: count) == Float.greatestFiniteMagnitude)
                for bad in [Float.nan, -Float.infinity, Float.infinity] {
                    x[count / 2] = bad
                    #expect(VectorMath.maximumMagnitude(x, count: count) == .infinity, "count \(count) \(bad)")
                }
            }
        }
    }

    /// A finite loss whose gradient norm overflows Float: every feature 1, fc1's weights 1e37
    /// (hidden activations 6e37), fc2's weights (c+1)·1e-39 (logits 15, 31, 46), so fc2's
    /// gradient rows reach ~4e37 in each of 256 entries and ‖g‖ ≈ 7e38 > Float.max. The bound
    /// declines, the separate pass finds ‖g‖ = ∞, and the step throws with nothing applied.
    @Test func overflowingGradientNormStopsWithoutTouchingState() throws {
        let data = Dataset(name: "ones", featureCount: 6, classCount: 3,
                           features: [Float](repeating: 1, count: 32 * 6),
                           labels: (0..<32).map { Int32($0 % 3) })
        let config = try tinyConfig(layers: "6,256,3", batch: 16, epochs: 1)
        let trainer = try Trainer(config: config, training: data)
        var w = trainer.parameterValues
        let (fc1, fc2) = (trainer.layout.layers[0], trainer.layout.layers[1])
        for i in fc1.weightRange { w[i] = 1e37 }
        for c in 0..<3 {
            for i in 0..<256 { w[fc2.weightOffset + c * 256 + i] = Float(c + 1) * Float(1e-39 as Double) }   // subnormal: converted at run time
        }
        trainer.restore(step: 0, epoch: 0, position: 0, parameters: w, slots: [])
        let hashBefore = trainer.state.contentHash
        do {
            try trainer.step()
            Issue.record("expected nonFiniteLoss")
        } catch {
            guard case let .nonFiniteLoss(step, _, loss) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step == 0)
            #expect(loss.isFinite, "the loss itself is finite: only the gradient overflows")
        }
        #expect(trainer.state.contentHash == hashBefore)
        #expect(trainer.parameterValues.map(\.bitPattern) == w.map(\.bitPattern))
        #expect(trainer.completedSteps == 0)
    }
}
