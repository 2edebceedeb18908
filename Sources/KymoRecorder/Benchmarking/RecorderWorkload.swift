import KymoCore

/// The recorder's kernels on seed-scale inputs (MLP 784-512-256-10, batch 64, P = 535,818), as
/// closures the separate Benchmarks package times (`kymo-ratios recorder`). Public only for that.
public struct RecorderWorkload {
    /// What is measured.
    public let name: String
    /// How many units one call processes (parameters, or 1 for a whole step).
    public let unitsPerCall: Int
    /// The unit ("param", "step").
    public let unit: String
    /// One call.
    public let run: () -> Void
    /// Diagnostics after the runs (e.g. tuples kept per step), or "".
    public var report: () -> String = { "" }

    init(name: String, unitsPerCall: Int, unit: String, run: @escaping () -> Void) {
        self.name = name
        self.unitsPerCall = unitsPerCall
        self.unit = unit
        self.run = run
    }

    /// Builds the seed-scale workloads with synthetic inputs of realistic sparsity: fc1's input
    /// 80 % zeros in [0, 1] (like MNIST), hidden inputs half zeros (ReLU), δ around 1e-3.
    /// - Complexity: O(P + B·(in + out)) to build.
    public static func seedScale() -> [RecorderWorkload] {
        let shape = RunShape.seedScale
        let p = shape.parameterCount, b = shape.batchSize
        var rng = CounterRNG(key: 2026)
        func normalish() -> Float { (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5) }
        let gradient = Box((0..<p).map { _ in rng.next(below: 10) < 2 ? 0 : normalish() * 1e-3 })
        let update = Box((0..<p).map { _ in normalish() * 1e-4 })
        // A second step's vectors for the two-step pass.
        let gradient2 = Box((0..<p).map { _ in rng.next(below: 10) < 2 ? 0 : normalish() * 1e-3 })
        let update2 = Box((0..<p).map { _ in normalish() * 1e-4 })
        let histogramPair = Box([try! MagnitudeHistogram(), try! MagnitudeHistogram()])
        let sink = Box([Float](repeating: 0, count: p))
        var layers: [(a: [Float], d: [Float], inputs: Int, outputs: Int)] = []
        for (l, dense) in shape.layers.enumerated() {
            let a: [Float] = (0..<(b * dense.inputs)).map { _ in
                l == 0 ? (rng.next(below: 10) < 8 ? 0 : rng.nextFloat()) : (rng.next(below: 2) == 0 ? 0 : rng.nextFloat() * 2)
            }
            let d: [Float] = (0..<(b * dense.outputs)).map { _ in
                l < 2 && rng.next(below: 2) == 0 ? 0 : normalish() * (l == 2 ? 0.3 : 1e-3)
            }
            layers.append((a, d, dense.inputs, dense.outputs))
        }
        let factorFloats = layers.reduce(0) { $0 + $1.a.count + $1.d.count }
        let factorSink = Box([Float](repeating: 0, count: factorFloats))
        let accumulators = Box(EpochAccumulators(parameterCount: p))
        let counter = try! ThresholdCounter(thresholds: [1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1])
        let histogram = Box(try! MagnitudeHistogram())
        let snappedPass = try! StepGradientPass(
            thresholds: counter.thresholds.map { MagnitudeHistogram.snap($0, mantissaBits: 6) }, histogram: histogram.value)
        let unsnappedPass = try! StepGradientPass(thresholds: counter.thresholds, histogram: histogram.value)
        let sampler = Box(ContributionSampler())
        let scale: Float = -0.01 / Float(b)
        let candidates = Box([ContributionCandidate]())
        let plan = try! RecordingPlan(budget: .default, shape: shape)
        // τ so that about m tuples per step are kept: Σ|c| / m over the step.
        var totalMass: Double = 0
        for layer in layers {
            var mass = [Float](repeating: 0, count: b * layer.outputs)
            try! withFactors(layer) { try SampleFactorStatistics.neuronContributionMass($0, scale: scale, into: &mass) }
            totalMass += mass.withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: $0.count).sum }
        }
        let tau = Float(totalMass / Double(plan.sampledContributionsPerStep))

        func withFactors<R>(_ layer: (a: [Float], d: [Float], inputs: Int, outputs: Int), _ body: (LayerFactors) throws -> R) rethrows -> R {
            try layer.a.withUnsafeBufferPointer { ap in
                try layer.d.withUnsafeBufferPointer { dp in
                    try body(try! LayerFactors(batch: b, inputs: layer.inputs, outputs: layer.outputs, activations: ap, deltas: dp))
                }
            }
        }

        let calls = Box(0)
        // The per-sample norms are computed once per step and shared (the sampler's row uses
        // max|a| and ‖δ‖₁ from them); their cost is in the "per-sample" line.
        let summaries = layers.map { layer in withFactors(layer) { LayerFactorSummary($0) } }
        var samplerWorkload = RecorderWorkload(name: "contribution sampler, 3 layers, m ≈ \(plan.sampledContributionsPerStep)", unitsPerCall: 1, unit: "step") {
            candidates.value.removeAll(keepingCapacity: true)
            for (l, layer) in layers.enumerated() {
                withFactors(layer) {
                    try! sampler.value.sample($0, scale: scale, threshold: tau, key: UInt64(calls.value * 3 + l),
                                              summary: summaries[l], into: &candidates.value)
                }
            }
            calls.value += 1
        }
        samplerWorkload.report = {
            let n = Double(max(calls.value, 1))
            return "sampler per step: \(candidates.value.count) kept (last), "
                + "\(Int(Double(sampler.value.candidatesDrawn) / n)) candidates drawn, "
                + "\(Int(Double(sampler.value.positionsEnumerated) / n)) positions enumerated, "
                + "\(Int(Double(sampler.value.rowEnvelopeSamples) / n)) of 192 sample-layers by row envelope"
        }
        // The whole recorder-thread step (everything but the sketches and the store), with a sink
        // that drops the results.
        let layout = DenseLayout(layers: shape.layers)
        let t1 = try! WeightSelection(rule: .count(plan.t1Count), parameterCount: p, seed: 1).ids
        let stepRecorder = try! StepRecorder(
            layout: layout, t1Ids: t1,
            thresholds: counter.thresholds.map { MagnitudeHistogram.snap($0, mantissaBits: 6) },
            histogram: try! MagnitudeHistogram(), samplesPerStep: plan.sampledContributionsPerStep, runSeed: 1, sink: NullSink())
        // Two steps' slots with the same factors and their own g and Δw.
        func makeSlot(gradient: [Float], update: [Float], firstSample: Int) -> StepSlot {
            let slot = StepSlot(layout: layout, maxBatch: b, t1Count: t1.count, stateFloats: 1)
            slot.batch = b
            slot.contributionScale = scale
            slot.gradient = gradient
            slot.update = update
            for (l, layer) in layers.enumerated() { slot.activations[l] = layer.a; slot.deltas[l] = layer.d }
            for s in 0..<b { slot.sampleIDs[s] = UInt32(firstSample + s) }
            return slot
        }
        let slot = makeSlot(gradient: gradient.value, update: update.value, firstSample: 0)
        let slot2 = makeSlot(gradient: gradient2.value, update: update2.value, firstSample: b)
        let steps = Box(0)

        return [
            RecorderWorkload(name: "copy one P-float vector (training-thread hand-off)", unitsPerCall: p, unit: "param") {
                sink.value.withUnsafeMutableBufferPointer { s in
                    gradient.value.withUnsafeBufferPointer { g in
                        s.baseAddress!.update(from: g.baseAddress!, count: p)
                    }
                }
            },
            RecorderWorkload(name: "copy one step's factors (B × Σ(in+out))", unitsPerCall: 1, unit: "step") {
                factorSink.value.withUnsafeMutableBufferPointer { s in
                    var offset = 0
                    for layer in layers {
                        layer.a.withUnsafeBufferPointer { s.baseAddress!.advanced(by: offset).update(from: $0.baseAddress!, count: $0.count) }
                        offset += layer.a.count
                        layer.d.withUnsafeBufferPointer { s.baseAddress!.advanced(by: offset).update(from: $0.baseAddress!, count: $0.count) }
                        offset += layer.d.count
                    }
                }
            },
            RecorderWorkload(name: "epoch accumulators Σ|Δw| ΣΔw Σg² max|g|", unitsPerCall: p, unit: "param") {
                update.value.withUnsafeBufferPointer { u in
                    gradient.value.withUnsafeBufferPointer { g in try! accumulators.value.add(update: u, gradient: g) }
                }
            },
            RecorderWorkload(name: "epoch accumulators, two steps in one pass", unitsPerCall: 2 * p, unit: "param·step") {
                update.value.withUnsafeBufferPointer { u1 in update2.value.withUnsafeBufferPointer { u2 in
                    gradient.value.withUnsafeBufferPointer { g1 in gradient2.value.withUnsafeBufferPointer { g2 in
                        try! accumulators.value.addBatchChunked(updates: [u1, u2], gradients: [g1, g2], chunk: StepGradientPass.chunk) { _, _ in }
                    } }
                } }
            },
            RecorderWorkload(name: "exact counts above 8 thresholds", unitsPerCall: p, unit: "param") {
                let c = gradient.value.withUnsafeBufferPointer { counter.counts($0) }
                precondition(c.count == 8)
            },
            RecorderWorkload(name: "|g| log-bucket histogram (m = 6)", unitsPerCall: p, unit: "param") {
                gradient.value.withUnsafeBufferPointer { histogram.value.add($0) }
            },
            RecorderWorkload(name: "T0 pass, 8 snapped thresholds (from the histogram)", unitsPerCall: p, unit: "param") {
                update.value.withUnsafeBufferPointer { u in
                    gradient.value.withUnsafeBufferPointer { g in
                        _ = try! snappedPass.run(update: u, gradient: g, accumulators: &accumulators.value, histogram: &histogram.value)
                    }
                }
            },
            RecorderWorkload(name: "T0 pass, two steps in one pass (snapped)", unitsPerCall: 2 * p, unit: "param·step") {
                update.value.withUnsafeBufferPointer { u1 in update2.value.withUnsafeBufferPointer { u2 in
                    gradient.value.withUnsafeBufferPointer { g1 in gradient2.value.withUnsafeBufferPointer { g2 in
                        _ = try! snappedPass.runBatch(updates: [u1, u2], gradients: [g1, g2], accumulators: &accumulators.value,
                                                      histograms: &histogramPair.value)
                    } }
                } }
            },
            RecorderWorkload(name: "T0 pass, 8 arbitrary thresholds (extra compare)", unitsPerCall: p, unit: "param") {
                update.value.withUnsafeBufferPointer { u in
                    gradient.value.withUnsafeBufferPointer { g in
                        _ = try! unsnappedPass.run(update: u, gradient: g, accumulators: &accumulators.value, histogram: &histogram.value)
                    }
                }
            },
            RecorderWorkload(name: "per-sample ‖g_s‖² and (sample, neuron) mass, 3 layers", unitsPerCall: 1, unit: "step") {
                var norms = [Float](repeating: 0, count: b)
                for layer in layers {
                    var mass = [Float](repeating: 0, count: b * layer.outputs)
                    withFactors(layer) {
                        let summary = LayerFactorSummary($0)
                        try! SampleFactorStatistics.accumulateGradientNormsSquared(summary, into: &norms)
                        try! SampleFactorStatistics.neuronContributionMass($0, summary: summary, scale: scale, into: &mass)
                    }
                }
            },
            samplerWorkload,
            RecorderWorkload(name: "StepRecorder.process: one whole step (no sketches, no store)", unitsPerCall: 1, unit: "step") {
                slot.step = steps.value
                steps.value += 1
                try! stepRecorder.process(slot)
            },
            RecorderWorkload(name: "StepRecorder.process: two steps in one call, per step", unitsPerCall: 2, unit: "step") {
                slot.step = steps.value
                slot2.step = steps.value + 1
                steps.value += 2
                try! stepRecorder.process([slot, slot2])
            },
        ]
    }
}

/// A sink that drops everything (for timing the computation alone).
final class NullSink: RecorderSink {
    func neuronMasses(step: Int, epoch: Int, layer: Int, sampleIDs: ArraySlice<UInt32>, masses: [Float]) throws {}
    func record(_ record: StepRecord, slot: StepSlot) throws {}
    func epochEnded(epoch: Int, lastStep: Int, accumulators: EpochAccumulators) throws {}
}

/// A reference cell so the workload closures can mutate their state.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}
