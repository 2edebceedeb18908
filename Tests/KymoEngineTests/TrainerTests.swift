import Foundation
import KymoCore
import Testing
@testable import KymoEngine

/// An independent Double implementation of one sample's forward and backward pass (no dropout):
/// returns the loss and the full per-sample gradient over all parameters (global ids).
func referenceSampleGradient(parameters: [Float], layout: ParameterLayout, activation: Activation,
                             x: [Float], label: Int, masks: [[Float]]? = nil) -> (loss: Double, gradient: [Double]) {
    var a = x.map(Double.init)
    var inputs: [[Double]] = []
    var zs: [[Double]] = []
    for (l, layer) in layout.layers.enumerated() {
        inputs.append(a)
        var z = [Double](repeating: 0, count: layer.outFeatures)
        for j in 0..<layer.outFeatures {
            var sum = Double(parameters[layer.biasOffset + j])
            for k in 0..<layer.inFeatures { sum += Double(parameters[layer.weightOffset + j * layer.inFeatures + k]) * a[k] }
            z[j] = sum
        }
        zs.append(z)
        if l < layout.layers.count - 1 {
            a = z.map { activation == .relu ? max($0, 0) : Foundation.tanh($0) }
            if let masks { a = zip(a, masks[l]).map { $0 * Double($1) } }
        } else {
            a = z
        }
    }
    let m = a.max()!
    let lse = Foundation.log(a.map { Foundation.exp($0 - m) }.reduce(0, +)) + m
    var delta = a.enumerated().map { Foundation.exp($0.element - lse) - ($0.offset == label ? 1 : 0) }
    var gradient = [Double](repeating: 0, count: layout.count)
    for l in stride(from: layout.layers.count - 1, through: 0, by: -1) {
        let layer = layout.layers[l]
        for j in 0..<layer.outFeatures {
            gradient[layer.biasOffset + j] = delta[j]
            for k in 0..<layer.inFeatures { gradient[layer.weightOffset + j * layer.inFeatures + k] = delta[j] * inputs[l][k] }
        }
        if l == 0 { break }
        var previous = [Double](repeating: 0, count: layer.inFeatures)
        for k in 0..<layer.inFeatures {
            var sum = 0.0
            for j in 0..<layer.outFeatures { sum += delta[j] * Double(parameters[layer.weightOffset + j * layer.inFeatures + k]) }
            let z = zs[l - 1][k]
            if let masks { sum *= Double(masks[l - 1][k]) }
            previous[k] = sum * (activation == .relu ? (z > 0 ? 1 : 0) : 1 - Foundation.tanh(z) * Foundation.tanh(z))
        }
        delta = previous
    }
    return (lse - a[label], gradient)
}

@Suite struct TrainerTests {
    let data = syntheticDataset(count: 20, features: 6, classes: 3, seed: 42)

    @Test(arguments: [Activation.relu, .tanh])
    func perSampleFactorsMatchBruteForce(activation: Activation) throws {
        let config = try tinyConfig(layers: "6,5,4,3", activation: activation, batch: 8)
        let trainer = try Trainer(config: config, training: data)
        let observer = RecordingObserver()
        var checkedSteps = 0
        observer.check = { trace in
            checkedSteps += 1
            let before = Array(trace.parametersBefore)
            var mean = [Double](repeating: 0, count: trace.layout.count)
            for s in 0..<trace.batchSize {
                let id = trace.sampleIDs[s]
                let x = Array(self.data.features[(id * 6)..<(id * 6 + 6)])
                let reference = referenceSampleGradient(parameters: before, layout: trace.layout, activation: activation,
                                                        x: x, label: Int(self.data.labels[id]))
                #expect(abs(Double(trace.sampleLosses[s]) - reference.loss) <= 1e-5)
                var normSquared = 0.0
                for w in 0..<trace.layout.count {
                    let g = reference.gradient[w]
                    normSquared += g * g
                    mean[w] += g / Double(trace.batchSize)
                    // The factors' rank-one product (and the bias) equal the brute-force gradient.
                    #expect(abs(Double(trace.sampleGradient(sample: s, parameter: w)) - g) <= 1e-5 * max(1, abs(g)),
                            "step \(trace.step) sample \(s) \(trace.layout.name(of: w))")
                }
                #expect(abs(Double(trace.sampleGradientNorms[s]) - normSquared.squareRoot()) <= 1e-5 * max(1, normSquared.squareRoot()))
            }
            for w in 0..<trace.layout.count {
                #expect(abs(Double(trace.gradient[w]) - mean[w]) <= 1e-5 * max(1, abs(mean[w])))
            }
        }
        trainer.observer = observer
        for _ in 0..<4 { try trainer.step() }
        #expect(checkedSteps == 4)
        #expect(observer.copies.map(\.summary.batchSize) == [8, 8, 4, 8])
    }

    /// With dropout: the reference regenerates each step's masks from the run's keys (what a
    /// replay does) and must agree with the factors.
    @Test func perSampleFactorsMatchBruteForceWithDropout() throws {
        let config = try tinyConfig(layers: "6,7,5,3", dropout: 0.3, batch: 8)
        let trainer = try Trainer(config: config, training: data)
        let observer = RecordingObserver()
        var checked = 0
        observer.check = { trace in
            let before = Array(trace.parametersBefore)
            let masks = (0..<2).map { l -> [Float] in
                let units = trace.layout.layers[l].outFeatures
                var mask = [Float](repeating: 0, count: trace.batchSize * units)
                Dropout.makeMask(key: trainer.dropoutKeys[l], step: trace.step, probability: 0.3,
                                 batch: trace.batchSize, units: units, mask: &mask)
                return mask
            }
            for s in 0..<trace.batchSize {
                let id = trace.sampleIDs[s]
                let rows = (0..<2).map { l -> [Float] in
                    let units = trace.layout.layers[l].outFeatures
                    return Array(masks[l][(s * units)..<((s + 1) * units)])
                }
                let reference = referenceSampleGradient(
                    parameters: before, layout: trace.layout, activation: .relu,
                    x: Array(self.data.features[(id * 6)..<(id * 6 + 6)]), label: Int(self.data.labels[id]), masks: rows)
                #expect(abs(Double(trace.sampleLosses[s]) - reference.loss) <= 1e-5)
                for w in 0..<trace.layout.count {
                    let g = reference.gradient[w]
                    #expect(abs(Double(trace.sampleGradient(sample: s, parameter: w)) - g) <= 1e-5 * max(1, abs(g)))
                }
                checked += 1
            }
            #expect(masks[0].contains(0) && masks[1].contains(0))
        }
        trainer.observer = observer
        for _ in 0..<3 { try trainer.step() }
        #expect(checked == 20)
    }

    /// Adam's first step has no history (m₀ = 0): the whole update is the samples' contributions
    /// plus decay, which checks `contributionScale` for Adam independently of `carriedPart`.
    @Test(arguments: [OptimizerKind.adam, .adamw])
    func adamFirstStepIsAllContributions(kind: OptimizerKind) throws {
        let config = try tinyConfig(optimizer: OptimizerConfig(kind: kind, learningRate: 0.01, weightDecay: 0.01), batch: 8)
        let trainer = try Trainer(config: config, training: data)
        let observer = RecordingObserver()
        trainer.observer = observer
        try trainer.step()
        try trainer.step()
        let first = observer.copies[0]
        for w in first.update.indices {
            #expect(abs(first.contributionsPlusDecay[w] - first.update[w]) <= 1e-4 * abs(first.update[w]) + 1e-9)
        }
        #expect(observer.copies[1].carried.contains { abs($0) > 1e-6 })
    }

    @Test func sgdContributionsPlusWeightDecaySumToUpdate() throws {
        let config = try tinyConfig(optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.1, weightDecay: 0.01), batch: 8)
        let trainer = try Trainer(config: config, training: data)
        let observer = RecordingObserver()
        trainer.observer = observer
        for _ in 0..<5 { try trainer.step() }
        for copy in observer.copies {
            for w in copy.update.indices {
                #expect(abs(copy.contributionsPlusDecay[w] - copy.update[w]) <= 1e-6 * max(1e-3, abs(copy.update[w])) + 1e-9,
                        "step \(copy.summary.step) id \(w)")
                #expect(copy.carried[w] == 0)
                #expect(copy.after[w] == copy.before[w] + copy.update[w])
            }
            #expect(copy.update.contains { $0 != 0 })
        }
    }

    @Test(arguments: [OptimizerKind.momentum, .nesterov])
    func momentumContributionsDecayAndCarrySumToUpdate(kind: OptimizerKind) throws {
        let config = try tinyConfig(optimizer: OptimizerConfig(kind: kind, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01), batch: 8)
        let trainer = try Trainer(config: config, training: data)
        let observer = RecordingObserver()
        trainer.observer = observer
        for _ in 0..<5 { try trainer.step() }
        for copy in observer.copies {
            for w in copy.update.indices {
                let total = copy.contributionsPlusDecay[w] + copy.carried[w]
                #expect(abs(total - copy.update[w]) <= 1e-5 * max(1e-3, abs(copy.update[w])) + 1e-8)
            }
        }
        #expect(observer.copies.last!.carried.contains { $0 != 0 })
    }

    @Test func dataOrderVisitsEverySampleOncePerEpochKeepingThePartialBatch() throws {
        let trainer = try Trainer(config: try tinyConfig(batch: 8, epochs: 2), training: data)
        let observer = RecordingObserver()
        trainer.observer = observer
        #expect(trainer.stepsPerEpoch == 3)
        while !trainer.isFinished { try trainer.step() }
        #expect(trainer.completedSteps == 6)
        #expect(observer.copies.map(\.summary.epoch) == [0, 0, 0, 1, 1, 1])
        let epoch0 = observer.copies[0..<3].flatMap(\.ids)
        let epoch1 = observer.copies[3..<6].flatMap(\.ids)
        #expect(epoch0.sorted() == Array(0..<20))
        #expect(epoch1.sorted() == Array(0..<20))
        #expect(epoch0 != epoch1)
        #expect(epoch0 == trainer.dataOrder(epoch: 0))
        var rng = CounterRNG(key: 7).stream(RandomStream.dataOrder).stream(1)
        var expected = Array(0..<20)
        rng.shuffle(&expected)
        #expect(epoch1 == expected)
    }

    static func train(_ config: TrainingConfig, _ data: Dataset, threads: Int = 1) throws -> (Trainer, [StepSummary]) {
        let trainer = try Trainer(config: config, training: data)
        trainer.threads = threads
        var summaries: [StepSummary] = []
        while !trainer.isFinished { summaries.append(try trainer.step()) }
        return (trainer, summaries)
    }

    static let stressConfigs: [TrainingConfig] = [
        try! tinyConfig(layers: "6,7,5,3", dropout: 0.25,
                        optimizer: OptimizerConfig(kind: .momentum, learningRate: 0.1, weightDecay: 1e-3),
                        schedule: .warmup(steps: 2, then: .cosine(minimum: 0.1)), batch: 8, epochs: 3),
        try! tinyConfig(layers: "6,9,3", activation: .tanh, dropout: 0.1,
                        optimizer: OptimizerConfig(kind: .adamw, learningRate: 0.01, weightDecay: 0.01),
                        schedule: .step(every: 2, gamma: 0.7), batch: 6, epochs: 3),
    ]

    @Test(arguments: stressConfigs)
    func sameSeedSameCheckpointHash(config: TrainingConfig) throws {
        let (a, summariesA) = try Self.train(config, data)
        let (b, summariesB) = try Self.train(config, data)
        #expect(a.state.contentHash == b.state.contentHash)
        #expect(summariesA == summariesB)
        var other = config
        other.seed += 1
        let (c, _) = try Self.train(other, data)
        #expect(c.state.contentHash != a.state.contentHash)
    }

    @Test(arguments: stressConfigs)
    func oneThreadEqualsTwoThreads(config: TrainingConfig) throws {
        let (a, summariesA) = try Self.train(config, data, threads: 1)
        let (b, summariesB) = try Self.train(config, data, threads: 2)
        #expect(a.state.contentHash == b.state.contentHash)
        #expect(summariesA.map(\.loss.bitPattern) == summariesB.map(\.loss.bitPattern))
    }

    @Test(arguments: stressConfigs)
    func resumeMidEpochEqualsNeverStopping(config: TrainingConfig) throws {
        let (uninterrupted, summaries) = try Self.train(config, data)
        let first = try Trainer(config: config, training: data)
        for _ in 0..<5 { try first.step() }
        #expect(first.position != 0) // mid-epoch
        let bytes = first.state.serialized()
        let restored = try TrainerState(deserializing: bytes, source: "memory")
        #expect(restored == first.state)
        let resumed = try Trainer(state: restored, training: data)
        var rest: [StepSummary] = []
        while !resumed.isFinished { rest.append(try resumed.step()) }
        #expect(Array(summaries[5...]) == rest)
        #expect(resumed.state.contentHash == uninterrupted.state.contentHash)
        #expect(resumed.parameterValues.map(\.bitPattern) == uninterrupted.parameterValues.map(\.bitPattern))
    }

    /// A fixed tiny run: its per-step losses, bit for bit. A change here means every recorded run
    /// would replay differently; update only with a deliberate change of the numerics.
    @Test func goldenLossTrace() throws {
        let config = try tinyConfig(layers: "6,5,3", dropout: 0.2,
                                    optimizer: OptimizerConfig(kind: .momentum, learningRate: 0.1, momentum: 0.9),
                                    batch: 8, epochs: 2)
        let (_, summaries) = try Self.train(config, data)
        let bits = summaries.map(\.loss.bitPattern)
        let expected: [UInt32] = GoldenTrace.losses
        #expect(bits == expected, "losses: \(summaries.map(\.loss)) bits: \(bits.map { "0x" + String($0, radix: 16) })")
    }

    @Test func learnsASeparableProblem() throws {
        let big = syntheticDataset(count: 300, features: 6, classes: 3, seed: 5)
        let config = try tinyConfig(layers: "6,16,3", optimizer: OptimizerConfig(kind: .momentum, learningRate: 0.05), batch: 16, epochs: 15)
        let trainer = try Trainer(config: config, training: big)
        let before = try trainer.evaluate(on: big)
        while !trainer.isFinished { try trainer.step() }
        let after = try trainer.evaluate(on: big)
        #expect(after.loss < before.loss * 0.5)
        #expect(after.accuracy > 0.9, "accuracy \(after.accuracy)")
    }

    @Test func nonFiniteLossStopsWithoutTouchingState() throws {
        var bad = data
        bad.features[3 * 6 + 2] = .nan
        let trainer = try Trainer(config: try tinyConfig(batch: 4, epochs: 2), training: bad)
        let order = trainer.dataOrder(epoch: 0)
        let badStep = order.firstIndex(of: 3)! / 4
        for _ in 0..<badStep { try trainer.step() }
        let stateBefore = trainer.state
        do {
            try trainer.step()
            Issue.record("expected nonFiniteLoss")
        } catch {
            guard case let .nonFiniteLoss(step, epoch, loss) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step == badStep)
            #expect(epoch == 0)
            #expect(loss.isNaN)
            #expect(error.description.contains("step \(badStep)"))
        }
        #expect(trainer.state == stateBefore)
        #expect(trainer.state.contentHash == stateBefore.contentHash)
        #expect(trainer.completedSteps == badStep)
    }

    @Test func rejectsAModelThatDoesNotFitTheData() throws {
        #expect(throws: EngineError.self) { try Trainer(config: try tinyConfig(layers: "7,5,3"), training: self.data) }
        #expect(throws: EngineError.self) { try Trainer(config: try tinyConfig(layers: "6,5,2"), training: self.data) }
        #expect(throws: EngineError.self) { try Trainer(config: try tinyConfig(batch: 0), training: self.data) }
    }
}

enum GoldenTrace {
    /// Config: 6-5-3 ReLU, dropout 0.2, momentum 0.9, η 0.1, batch 8, 2 epochs, seed 7, on
    /// syntheticDataset(count: 20, features: 6, classes: 3, seed: 42). Losses 0.7336181, 0.85090804,
    /// 0.868664, 0.4242566, 0.46231833, 0.94093376.
    static let losses: [UInt32] = [0x3f3b_ce65, 0x3f59_d51c, 0x3f5e_60c4, 0x3ed9_3829, 0x3eec_b4fd, 0x3f70_e109]
}

@Suite struct StepTraceTests {
    @Test func contributionScales() throws {
        let data = syntheticDataset(count: 16, features: 6, classes: 3, seed: 1)
        for kind in OptimizerKind.allCases {
            let trainer = try Trainer(config: try tinyConfig(optimizer: OptimizerConfig(kind: kind, learningRate: 0.02), batch: 8), training: data)
            let observer = RecordingObserver()
            var scales: [Float] = []
            var uniform: Float?
            var individual: [Float] = []
            var eta: Float = 0
            observer.check = { trace in
                scales = trace.contributionScales(for: 0..<trace.layout.count)
                uniform = trace.uniformContributionScale
                individual = (0..<trace.layout.count).map { trace.contributionScale(of: $0) }
                eta = trace.learningRate
                #expect(trace.optimizerValues(of: 3).count == kind.slotCount)
            }
            trainer.observer = observer
            try trainer.step()
            #expect(scales == individual)
            switch kind {
            case .sgd, .momentum: #expect(uniform == -eta / 8)
            case .nesterov: #expect(uniform == -eta * 1.9 / 8)
            case .adam, .adamw:
                #expect(uniform == nil)
                #expect(Set(scales).count > 1)
            }
        }
    }
}
