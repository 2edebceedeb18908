import KymoEngine
import KymoRecorder

/// Questions 1 and 5 from T3: every sample's contribution to a weight recomputed from the
/// recorded factors, `ĉ = k·δ̂_s[row]·â_s[col]`, with the Float16 rounding bound
/// `|ĉ − c| ≤ |k|·(|δ̂|·e_a + |â|·e_δ + e_δ·e_a)` (`FactorEncoding`; e_a = 0 for the first layer's
/// inputs, the data set's values, and for a bias, a = 1).
extension Executor {
    /// Where weight `id` sits: its layer, row, and column (nil for a bias).
    static func factorPosition(of id: Int, _ layout: ParameterLayout) -> (layer: Int, row: Int, col: Int?)? {
        for (l, layer) in layout.layers.enumerated() {
            if layer.weightRange.contains(id) {
                let offset = id - layer.weightOffset
                return (l, offset / layer.inFeatures, offset % layer.inFeatures)
            }
            if layer.biasRange.contains(id) { return (l, id - layer.biasOffset, nil) }
        }
        return nil
    }

    /// The factored source as a planning candidate: available when every step from `first` to
    /// `last` lies in an epoch with T3 and the run's contribution scale is uniform. Its expected
    /// error is the Float16 relative bound (2⁻⁹ of the contributions, an estimate: the answer
    /// states each sample's computed bound); its cost, the factor bytes of the weights' layers.
    static func factoredCandidate(_ ids: [Int], catalog: RunCatalog, first: Int, last: Int) -> Candidate {
        let layers = Set(ids.compactMap { factorPosition(of: $0, catalog.layout)?.layer })
        let covered = catalog.uniformContributionScale && first >= 1 && first <= last
            && (catalog.epoch(ofStep: first)...catalog.epoch(ofStep: last)).allSatisfy(catalog.factorEpochs.contains)
        let bytes = layers.reduce(0) { total, l in
            let dims = catalog.layout.layers[l]
            return total + (last - first + 1) * catalog.batchSize * 2 * (dims.outFeatures + (l > 0 ? dims.inFeatures : 0))
        }
        return Candidate(source: .factored,
                         detail: covered ? "T3 factors (Float16), steps \(first)..\(last)"
                             : !catalog.uniformContributionScale && !catalog.factorEpochs.isEmpty
                             ? "T3: per-parameter scales (Adam) are not in T3" : "T3: not recorded for these epochs",
                         expectedError: covered ? .relative(Double(2 * FactorEncoding.relativeError)) : .unknown,
                         cost: readCost(bytes: covered ? bytes : 0), meetsTolerance: false)
    }

    /// Per sample, the window's contribution to the weights `ids` with its bound, from T3 (the
    /// same window-end rules as `exactIntervals`).
    /// - Throws: `QueryError` when a step's factors are missing or the scale is per-parameter.
    func factoredIntervals(_ ids: [Int], data: any RunData, from start: Int, ends: ClosedRange<Int>,
                           absolute: Bool, orientation: Double) throws -> [(Int, SampleInterval)] {
        let layout = data.catalog.layout
        let positions = ids.compactMap { Self.factorPosition(of: $0, layout) }
        let layers = Array(Set(positions.map(\.layer))).sorted()
        var union = EndUnion(ends: ends, capacity: data.catalog.sampleCount)
        var sums = SampleTable<SampleInterval>(capacity: data.catalog.sampleCount, zero: SampleInterval(value: 0, lower: 0, upper: 0))
        let last = max(start, ends.upperBound)
        var blockStart = start
        while blockStart <= last {
            // A block of steps per read: chunks are decoded once, memory stays bounded.
            let block = blockStart...min(last, blockStart + 63)
            var factors: [Int: [StepFactors]] = [:]
            for l in layers {
                guard let f = try data.factors(layer: l, steps: block) else {
                    throw QueryError.invalid(location: nil, message: "T3 factors of \(layout.layers[l].name) missing in steps \(block.lowerBound)..\(block.upperBound)")
                }
                factors[l] = f
            }
            for (i, t) in block.enumerated() {
                let batch = try data.batch(step: t)
                for (s, sample) in batch.enumerated() {
                    var value = 0.0, lower = 0.0, upper = 0.0
                    for p in positions {
                        let f = factors[p.layer]![i]
                        guard f.scale.isFinite else {
                            throw QueryError.invalid(location: nil, message: "T3 at step \(t) has per-parameter scales (Adam): factored contributions need replay")
                        }
                        let dims = layout.layers[p.layer]
                        let d = f.deltas[s * dims.outFeatures + p.row]
                        let dError = Double(FactorEncoding.bound(decoded: d, scale: f.deltaScales[s]))
                        var a: Float = 1, aError = 0.0
                        if let col = p.col {
                            a = f.inputs[s * dims.inFeatures + col]
                            if let scales = f.inputScales { aError = Double(FactorEncoding.bound(decoded: a, scale: scales[s])) }
                        }
                        let k = Double(f.scale)
                        let c = k * Double(d) * Double(a)
                        // Double arithmetic adds at most a few ulps: 1e-12 relative covers it.
                        let e = abs(k) * (abs(Double(d)) * aError + abs(Double(a)) * dError + dError * aError) + 1e-12 * abs(c)
                        if absolute {
                            value += abs(c); lower += max(0, abs(c) - e); upper += abs(c) + e
                        } else {
                            value += c * orientation; lower += c * orientation - e; upper += c * orientation + e
                        }
                    }
                    let old = sums[sample]
                    sums[sample] = SampleInterval(value: old.value + value, lower: old.lower + lower, upper: old.upper + upper)
                }
                union.record(step: t, seen: sums.seen, changed: batch) { s in sums.contains(s) ? sums[s] : nil }
            }
            blockStart = block.upperBound + 1
        }
        return union.result
    }
}
