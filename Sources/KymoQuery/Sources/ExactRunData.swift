import KymoCore
import KymoEngine
import KymoReplay
import KymoSketches

/// A small run trained in memory and recorded *completely*: every sample's rank-one factors and
/// every parameter's contribution scale at every step, every weight after every step, every batch
/// gradient. It answers queries through the same `RunData` interface as a store, with every tier
/// simulated from that full record (T1 for a hashed subset of weights, the |g| sketches, the
/// trajectories, the contribution sample, the per-neuron Space-Saving and count-min, checkpoints),
/// and it also holds the ground truth the bound-coverage tests compare against (`truth…`).
///
/// Immutable once built (hence `@unchecked Sendable`: tests share one).
/// Feasible for small models only: memory is O(steps·(P + B·Σ(in+out))) floats.
package final class ExactRunData: RunData, @unchecked Sendable {
    /// How the simulated tiers are sized.
    package struct Options: Sendable {
        /// Fraction of weights in T1 (chosen by XXH3 of the id).
        package var t1Fraction: Double = 0.1
        /// Record-time thresholds θ_k.
        package var thresholds: [Float] = [1e-3, 1e-2]
        /// Mantissa bits of the |g| sketch.
        package var quantileBits: Int = 6
        /// Trajectory quantum q (bound q/2) and stride in steps.
        package var trajectoryQuantum: Float = 1e-3
        package var trajectoryStride: Int = 1
        /// Expected kept contribution tuples per step (τ_t = Σ|c| / m).
        package var sampleTarget: Double = 200
        /// Per-neuron Space-Saving capacity, count-min width and depth.
        package var spaceSavingCapacity: Int = 32
        package var countMinWidth: Int = 1024
        package var countMinDepth: Int = 4
        /// Checkpoint period in steps (step 0 always).
        package var checkpointEvery: Int = 25
        /// Probe evaluation period in steps.
        package var probeEvery: Int = 10
        /// Seed of the sketches and sampler.
        package var sketchSeed: UInt64 = 0x4B59_4D4F

        package init() {}
    }

    package private(set) var catalog: RunCatalog
    package let options: Options
    package let config: TrainingConfig
    let labels: [Int32]

    // The full record, index t−1 for step t.
    var stepScalars: [StepScalars] = []
    var sampleStats: [SampleStats] = []
    /// Per step, per layer: a (B × in) and δ (B × out).
    var inputs: [[[Float]]] = []
    var deltas: [[[Float]]] = []
    /// Per step: the contribution scale of every parameter.
    var scales: [[Float]] = []
    /// Per step: Δw and the batch gradient g.
    var updates: [[Float]] = []
    var gradients: [[Float]] = []
    /// weightsAfter[t] = weights after step t; [0] the initial weights.
    var weightsAfter: [[Float]] = []
    var probes: [(step: Int, loss: Float, accuracy: Float)] = []
    /// optimizerState[t] = the optimizer's state vectors after step t ([0]: zeros).
    var optimizerState: [[[Float]]] = []

    // Simulated tiers.
    var sums: [EpochSums] = []
    var quantiles: [MagnitudeQuantiles] = []
    var above: [[UInt32]] = []
    var trajectoryRows: [TrajectoryRow] = []
    var samples: [ContributionSampleStep] = []
    var masses: [NeuronMassSketches] = []

    /// Trains `config` on `training` for `steps` steps (default: all its epochs), evaluating
    /// `probe` every `options.probeEvery` steps, and records everything.
    /// - Complexity: O(steps·(B·P)) for training and O(steps·B·P) for the contribution sample.
    package init(name: String = "exact", config: TrainingConfig, training: Dataset, probe: Dataset,
                 steps: Int? = nil, options: Options = Options()) throws {
        self.config = config
        self.options = options
        self.labels = training.labels
        let trainer = try Trainer(config: config, training: training)
        let layout = trainer.layout
        let total = min(steps ?? trainer.totalSteps, trainer.totalSteps)
        catalog = RunCatalog(
            name: name, layout: layout, batchSize: config.batchSize, sampleCount: training.count,
            stepsPerEpoch: trainer.stepsPerEpoch, plannedEpochs: config.epochs, steps: total, isFinished: true,
            t1Ids: ExactRunData.t1Selection(count: layout.count, fraction: options.t1Fraction, seed: config.seed),
            thresholds: options.thresholds, probeEvery: options.probeEvery, trajectorySteps: [],
            checkpointSteps: Array(stride(from: 0, through: total, by: max(1, options.checkpointEvery))),
            tiers: ["t0", "t1", "t2"], secondsPerStep: ReplayCostModel.secondsPerStep(widths: ReplayCostModel.widths(of: layout), batch: config.batchSize))
        weightsAfter.append(trainer.parameterValues)
        let recorder = FullRecorder()
        trainer.observer = recorder
        for t in 1...max(1, total) where t <= total {
            try trainer.step()
            if options.probeEvery > 0, t % options.probeEvery == 0 {
                let (loss, accuracy) = try trainer.evaluate(on: probe)
                probes.append((t, loss, accuracy))
            }
        }
        trainer.observer = nil
        stepScalars = recorder.scalars
        sampleStats = recorder.stats
        inputs = recorder.inputs
        deltas = recorder.deltas
        scales = recorder.scales
        updates = recorder.updates
        gradients = recorder.gradients
        weightsAfter += recorder.after
        optimizerState = [[[Float]](repeating: [Float](repeating: 0, count: layout.count), count: config.optimizer.kind.slotCount)] + recorder.state
        buildTiers()
    }

    /// T1 ids: those whose XXH3(id, seed) falls in the lowest `fraction` of the range.
    /// - Complexity: O(count).
    package static func t1Selection(count: Int, fraction: Double, seed: UInt64) -> [Int] {
        let limit = UInt64(min(1, max(0, fraction)) * Double(UInt64.max >> 11)) << 11
        return (0..<count).filter { XXH3.hash(UInt64($0), seed: seed ^ 0x5431_7765_6967_6874) < limit }
    }

    private final class FullRecorder: StepObserver {
        var scalars: [StepScalars] = []
        var stats: [SampleStats] = []
        var inputs: [[[Float]]] = []
        var deltas: [[[Float]]] = []
        var scales: [[Float]] = []
        var updates: [[Float]] = []
        var gradients: [[Float]] = []
        var after: [[Float]] = []
        var state: [[[Float]]] = []

        func observe(_ trace: StepTrace) {
            let s = trace.summary
            scalars.append(StepScalars(loss: s.loss, accuracy: s.accuracy, learningRate: s.learningRate,
                                       gradientNorm: s.gradientNorm, updateNorm: s.updateNorm))
            stats.append(SampleStats(ids: Array(trace.sampleIDs), loss: Array(trace.sampleLosses),
                                     correct: Array(trace.sampleCorrect), gradientNorm: Array(trace.sampleGradientNorms)))
            inputs.append(trace.layers.map { Array($0.inputs) })
            deltas.append(trace.layers.map { Array($0.outputGradients) })
            scales.append(trace.contributionScales(for: 0..<trace.layout.count))
            updates.append(Array(trace.update))
            gradients.append(Array(trace.gradient))
            after.append(Array(trace.parametersAfter))
            state.append(trace.optimizerState.map { Array($0) })
        }
    }

    // MARK: - Ground truth

    /// c(s, w, t) for batch position `position` of step `t`, as the engine defines it
    /// (`contributionScale · δ[row]·a[col]`).
    /// - Complexity: O(layers).
    package func truthContribution(step t: Int, position s: Int, parameter id: Int) -> Float {
        let layout = catalog.layout
        let g: Float
        switch layout.location(of: id) {
        case let .weight(l, row, column):
            let layer = layout.layers[l]
            g = deltas[t - 1][l][s * layer.outFeatures + row] * inputs[t - 1][l][s * layer.inFeatures + column]
        case let .bias(l, row):
            g = deltas[t - 1][l][s * layout.layers[l].outFeatures + row]
        }
        return scales[t - 1][id] * g
    }

    /// The weights after step `t` (0: the initial weights).
    /// - Complexity: O(1) (the stored array).
    package func truthWeights(after t: Int) -> [Float] { weightsAfter[t] }
    /// The batch gradient of step `t`.
    /// - Complexity: O(1).
    package func truthGradient(step t: Int) -> [Float] { gradients[t - 1] }
    /// The batch's data-set ids at step `t`.
    /// - Complexity: O(1).
    package func truthBatch(step t: Int) -> [Int] { sampleStats[t - 1].ids }

    // MARK: - Simulated tiers

    private func buildTiers() {
        let layout = catalog.layout
        let p = layout.count
        let steps = catalog.steps
        // Epoch sums, Float32 in step order (as the recorder's accumulators).
        for e in 0..<(steps / catalog.stepsPerEpoch) {
            var s = EpochSums(sumAbs: .init(repeating: 0, count: p), sum: .init(repeating: 0, count: p),
                              sumSquares: .init(repeating: 0, count: p), maxAbs: .init(repeating: 0, count: p))
            for t in (e * catalog.stepsPerEpoch)..<((e + 1) * catalog.stepsPerEpoch) {
                let u = updates[t], g = gradients[t]
                for i in 0..<p {
                    s.sumAbs[i] += abs(u[i]); s.sum[i] += u[i]
                    s.sumSquares[i] += g[i] * g[i]; s.maxAbs[i] = max(s.maxAbs[i], abs(g[i]))
                }
            }
            sums.append(s)
        }
        // |g| sketches and exact threshold counts.
        for t in 0..<steps {
            var q = try! MagnitudeQuantiles(precisionBits: options.quantileBits)
            q.update(gradients[t])
            quantiles.append(q)
            above.append(options.thresholds.map { theta in UInt32(gradients[t].reduce(0) { $0 + (abs($1) > theta ? 1 : 0) }) })
        }
        // Trajectories: the initial weights, then every `stride` steps.
        var trajectory = try! QuantizedTrajectory(weightCount: p, quantum: options.trajectoryQuantum, maxScaleShift: 8)
        var trajectorySteps: [Int] = []
        for t in stride(from: 0, through: steps, by: max(1, options.trajectoryStride)) {
            trajectory.append(weightsAfter[t])
            trajectorySteps.append(t)
        }
        trajectoryRows = trajectory.decoded().map { TrajectoryRow(values: $0.values, bounds: $0.bounds) }
        catalog.trajectorySteps = trajectorySteps
        // Contribution sample: each (sample, parameter) kept with probability min(1, |c|/τ).
        let root = CounterRNG(key: options.sketchSeed)
        for t in 1...max(1, steps) where t <= steps {
            let b = sampleStats[t - 1].ids.count
            var total: Double = 0
            var all = [Float](repeating: 0, count: b * p)
            for s in 0..<b {
                for id in 0..<p {
                    let c = truthContribution(step: t, position: s, parameter: id)
                    all[s * p + id] = c
                    total += Double(abs(c))
                }
            }
            let tau = Float(total / options.sampleTarget)
            var rng = root.stream(UInt64(t))
            var kept: [ContributionTuple] = []
            for s in 0..<b {
                for id in 0..<p {
                    let c = all[s * p + id]
                    let u = rng.nextDouble()
                    if u * Double(tau) < Double(abs(c)) {
                        kept.append(ContributionTuple(sample: sampleStats[t - 1].ids[s], weight: id, contribution: c, uniform: u))
                    }
                }
            }
            samples.append(ContributionSampleStep(tuples: kept, tau: tau))
        }
        // Per-epoch, per-neuron masses.
        let neurons = layout.layers.reduce(0) { $0 + $1.outFeatures }
        for e in 0..<(steps / catalog.stepsPerEpoch) {
            var ss = (0..<neurons).map { _ in try! SpaceSavingSketch(capacity: options.spaceSavingCapacity, seed: options.sketchSeed) }
            var cm = try! CountMinSketch(width: options.countMinWidth, depth: options.countMinDepth, seed: options.sketchSeed)
            for t in (e * catalog.stepsPerEpoch + 1)...((e + 1) * catalog.stepsPerEpoch) {
                let ids = sampleStats[t - 1].ids
                var neuronBase = 0
                for (l, layer) in layout.layers.enumerated() {
                    for s in 0..<ids.count {
                        var a1: Float = 1
                        for c in 0..<layer.inFeatures { a1 += abs(inputs[t - 1][l][s * layer.inFeatures + c]) }
                        for row in 0..<layer.outFeatures {
                            var k: Float = 0
                            for id in (layer.weightOffset + row * layer.inFeatures)..<(layer.weightOffset + (row + 1) * layer.inFeatures) {
                                k = max(k, abs(scales[t - 1][id]))
                            }
                            k = max(k, abs(scales[t - 1][layer.biasOffset + row]))
                            // Rounded up so the mass stays an upper bound after Float rounding.
                            let mass = (k * abs(deltas[t - 1][l][s * layer.outFeatures + row]) * a1).nextUp
                            ss[neuronBase + row].update(UInt64(ids[s]), weight: Double(mass))
                            cm.update(UInt64(ids[s] * neurons + neuronBase + row), weight: mass)
                        }
                    }
                    neuronBase += layer.outFeatures
                }
            }
            masses.append(NeuronMassSketches(spaceSaving: NeuronSketchList(ss), countMin: cm, neurons: neurons))
        }
    }

    // MARK: - RunData

    package func refresh() throws -> Bool { false }

    package func scalars(steps: ClosedRange<Int>) throws -> [StepScalars] { steps.map { stepScalars[$0 - 1] } }

    package func probe(atOrBefore step: Int) throws -> (step: Int, loss: Float, accuracy: Float)? {
        probes.last { $0.step <= step }
    }

    package func samples(step: Int) throws -> SampleStats { sampleStats[step - 1] }

    package func batch(step: Int) throws -> [Int] { sampleStats[step - 1].ids }

    package func label(ofSample id: Int) -> Int? { labels.indices.contains(id) ? Int(labels[id]) : nil }

    package func epochSums(epoch e: Int) throws -> EpochSums? { sums.indices.contains(e - 1) ? sums[e - 1] : nil }

    package func t1(step t: Int) throws -> T1Step? {
        let ids = catalog.t1Ids
        let b = sampleStats[t - 1].ids.count
        var contributions = [Float](repeating: 0, count: ids.count * b)
        for (i, id) in ids.enumerated() {
            for s in 0..<b { contributions[i * b + s] = truthContribution(step: t, position: s, parameter: id) }
        }
        return T1Step(value: ids.map { weightsAfter[t - 1][$0] }, update: ids.map { updates[t - 1][$0] },
                      contributions: contributions)
    }

    package func aboveCounts(step: Int) throws -> [UInt32]? { above[step - 1] }

    package func gradientQuantiles(step: Int) throws -> MagnitudeQuantiles? { quantiles[step - 1] }

    package func trajectory(index: Int) throws -> TrajectoryRow? {
        trajectoryRows.indices.contains(index) ? trajectoryRows[index] : nil
    }

    package func contributionSample(step: Int) throws -> ContributionSampleStep? { samples[step - 1] }

    package func contributionThreshold(step: Int) throws -> Float? { samples[step - 1].tau }

    package func neuronMass(epoch e: Int) throws -> NeuronMassSketches? { masses.indices.contains(e - 1) ? masses[e - 1] : nil }

    package func checkpointWeights(step: Int) throws -> [Float]? {
        catalog.checkpointSteps.contains(step) ? weightsAfter[step] : nil
    }
}
