import KymoCore

/// Computes a slot's `PreparedStep`: a pure function of the slot (its factors, gradient, scales and
/// step number) and the run's fixed configuration, so the result is the same bits on whichever
/// thread runs it. One instance per thread (the sampler keeps scratch buffers).
///
/// Work per step: one pass over the P-float gradient (histogram, counts at unsnapped thresholds),
/// O(B·Σ(in + out)) for norms and masses, O(n₁·B) for T1, and the sampler's expected
/// O(B·Σ(in + out) + m) (docs/RECORDING.md, "Speed").
package final class StepPreparer: @unchecked Sendable {
    package let layout: DenseLayout
    package let t1Ids: [Int]
    package let samplesPerStep: Int
    package let runSeed: UInt64
    private let pass: StepGradientPass
    /// The run's |g| histogram configuration (the thresholds were snapped to its boundaries).
    private let histogram: MagnitudeHistogram
    private var sampler = ContributionSampler()
    /// T1 positions per layer, with their index in `t1Ids`.
    private let t1ByLayer: [[(index: Int, position: DenseLayout.Position)]]

    /// - Complexity: O(n₁).
    package init(layout: DenseLayout, t1Ids: [Int], pass: StepGradientPass, histogram: MagnitudeHistogram,
                 samplesPerStep: Int, runSeed: UInt64) {
        self.layout = layout
        self.histogram = histogram
        self.t1Ids = t1Ids
        self.pass = pass
        self.samplesPerStep = samplesPerStep
        self.runSeed = runSeed
        var byLayer = Array(repeating: [(index: Int, position: DenseLayout.Position)](), count: layout.layers.count)
        for (i, id) in t1Ids.enumerated() {
            let p = layout.position(of: id)
            byLayer[p.layer].append((i, p))
        }
        t1ByLayer = byLayer
    }

    /// A preparer with the same configuration (for another thread).
    /// - Complexity: O(n₁).
    package func sibling() -> StepPreparer {
        StepPreparer(layout: layout, t1Ids: t1Ids, pass: pass, histogram: histogram, samplesPerStep: samplesPerStep, runSeed: runSeed)
    }

    /// The sampler's random key for (step, layer): XXH3 of the step under a seed derived from the
    /// run seed and the layer. Recorded in the manifest as the derivation rule.
    /// - Complexity: O(1).
    package static func samplerKey(runSeed: UInt64, step: Int, layer: Int) -> UInt64 {
        XXH3.hash(UInt64(step), seed: runSeed ^ (0x7432_636F_6E74_7200 | UInt64(layer & 0xFF)))
    }

    /// max |k_w| over each row's weights and bias of layer l (per-parameter scales).
    /// - Complexity: O(out·(in + 1)).
    static func rowMaxima(_ scales: [Float], layout: DenseLayout, layer l: Int) -> [Float] {
        let dense = layout.layers[l], base = layout.offsets[l]
        return (0..<dense.outputs).map { r in
            var m = abs(scales[base + dense.outputs * dense.inputs + r])
            for c in 0..<dense.inputs { m = max(m, abs(scales[base + r * dense.inputs + c])) }
            return m
        }
    }

    /// Fills `slot.prepared` (errors go to its `failure`); does nothing when it is ready.
    /// - Complexity: see the type.
    package func prepare(_ slot: StepSlot) {
        let out = slot.prepared
        guard !out.isReady else { return }
        do { try fill(out, from: slot) } catch { out.failure = error }
        out.isReady = true
    }

    private func fill(_ out: PreparedStep, from slot: StepSlot) throws {
        let b = slot.batch
        out.failure = nil
        // The slot's histogram takes this run's configuration (a slot may have served another).
        var h = out.histogram ?? histogram
        out.histogram = nil
        if h.mantissaBits != histogram.mantissaBits || h.minExponent != histogram.minExponent || h.maxExponent != histogram.maxExponent {
            h = histogram
        }
        out.aboveCounts = pass.summarize(gradient: slot.gradientBuffer, histogram: &h).aboveCounts
        out.histogram = h
        // Per-sample norms and neuron masses; Σ|c| for τ.
        out.normsSquared.removeAll(keepingCapacity: true)
        out.normsSquared.append(contentsOf: repeatElement(0, count: b))
        var summaries: [LayerFactorSummary] = []
        var totalMass = 0.0
        for l in layout.layers.indices {
            let count = b * layout.layers[l].outputs
            // Reused per slot: a fresh B × out array per step costs page faults.
            if out.masses[l].count != count { out.masses[l] = [Float](repeating: 0, count: count) }
            let s = try slot.withFactors(layer: l) { factors -> LayerFactorSummary in
                let s = LayerFactorSummary(factors)
                try SampleFactorStatistics.accumulateGradientNormsSquared(s, into: &out.normsSquared)
                if let scales = slot.perParameterScales {
                    // Per-parameter k: the mass uses the row's largest |k| (an upper bound).
                    try SampleFactorStatistics.neuronContributionMass(factors, summary: s, scale: 1, into: &out.masses[l])
                    let rowMax = Self.rowMaxima(scales, layout: layout, layer: l)
                    for i in 0..<b { for r in 0..<factors.outputs { out.masses[l][i * factors.outputs + r] *= rowMax[r] } }
                } else {
                    try SampleFactorStatistics.neuronContributionMass(factors, summary: s, scale: slot.contributionScale,
                                                                     into: &out.masses[l])
                }
                return s
            }
            summaries.append(s)
            totalMass += out.masses[l].withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: $0.count).sum }
        }
        // T1 contributions, weight-major in t1Ids order.
        out.t1Contributions.removeAll(keepingCapacity: true)
        out.t1Contributions.append(contentsOf: repeatElement(0, count: t1Ids.count * b))
        for l in layout.layers.indices where !t1ByLayer[l].isEmpty {
            var values: [Float] = []
            values.reserveCapacity(t1ByLayer[l].count * b)
            try slot.withFactors(layer: l) {
                let scales = slot.perParameterScales.map { k in t1ByLayer[l].map { k[t1Ids[$0.index]] } }
                    ?? Array(repeating: slot.contributionScale, count: t1ByLayer[l].count)
                try T1Contributions.append($0, positions: t1ByLayer[l].map(\.position), scales: scales, into: &values)
            }
            for (j, entry) in t1ByLayer[l].enumerated() {
                for s in 0..<b { out.t1Contributions[entry.index * b + s] = values[j * b + s] }
            }
        }
        // The weighted contribution sample.
        out.sampled.removeAll(keepingCapacity: true)
        out.tau = 0
        if samplesPerStep > 0 && totalMass > 0 && totalMass.isFinite && (slot.contributionScale != 0 || slot.perParameterScales != nil) {
            let tau = Float(totalMass / Double(samplesPerStep))
            out.tau = tau
            var tuples: [ContributionCandidate] = []
            for l in layout.layers.indices {
                tuples.removeAll(keepingCapacity: true)
                let key = Self.samplerKey(runSeed: runSeed, step: slot.step, layer: l)
                try slot.withFactors(layer: l) { factors in
                    if let scales = slot.perParameterScales {
                        try scales.withUnsafeBufferPointer { k in
                            try sampler.sample(factors, scales: UnsafeBufferPointer(rebasing: k[layout.offsets[l]..<layout.offsets[l + 1]]),
                                               threshold: tau, key: key, into: &tuples)
                        }
                    } else {
                        try sampler.sample(factors, scale: slot.contributionScale, threshold: tau, key: key,
                                           summary: summaries[l], into: &tuples)
                    }
                }
                for t in tuples {
                    let id = layout.id(of: .init(layer: l, row: Int(t.row), col: Int(t.col)))
                    out.sampled.append(SampledContribution(sample: slot.sampleIDs[Int(t.sample)], weight: UInt32(id),
                                                           contribution: t.contribution, uniform: t.uniform))
                }
            }
        }
    }
}
