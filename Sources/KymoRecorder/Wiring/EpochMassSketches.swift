import KymoSketches

/// One epoch's T2 sketches of (sample, neuron) contribution masses: a count-min over the pairs
/// (key = sample·neurons + neuron, block keys: a sample's neurons are one run of counters) and a
/// weighted Space-Saving of samples per neuron (docs/RECORDING.md, `t2/cm`, `t2/ss`).
///
/// Feeding a step costs, per layer, one count-min block run per sample (one hash, vector adds)
/// and a branch-free scan of the B × out masses against a cached copy of every neuron sketch's
/// admission threshold: only the masses that enter a sketch call into it. Each sketch sees the
/// same updates in the same order as one `offer` per positive pair, except that a step's rejected
/// mass of a neuron is added to its M and R once (summed in sample order, in Double).
///
/// Used by one thread (the recorder thread).
package struct EpochMassSketches {
    package private(set) var countMin: CountMinSketch
    package private(set) var spaceSaving: [SpaceSavingSketch]
    /// Total neurons (Σ out): the key stride.
    package let neurons: Int
    /// `spaceSaving[n].admissionThreshold`, kept current.
    private var thresholds: [Double]
    /// Per-neuron rejected mass of the step being fed (zero between calls).
    private var rejected: [Double]
    private var keys: [UInt64] = []

    /// - Throws: sketch errors for impossible sizes.
    /// - Complexity: O(width·depth + neurons·k).
    package init(neurons: Int, countMinWidth: Int, countMinDepth: Int, countMinSeed: UInt64,
                 spaceSavingCapacity: Int, spaceSavingSeed: UInt64) throws {
        self.neurons = neurons
        // Block keys need every neuron of a sample inside one row's width; otherwise plain keys.
        countMin = try CountMinSketch(width: countMinWidth, depth: countMinDepth, seed: countMinSeed,
                                      blockSize: neurons <= countMinWidth ? max(1, neurons) : 1)
        spaceSaving = try (0..<neurons).map { _ in try SpaceSavingSketch(capacity: spaceSavingCapacity, seed: spaceSavingSeed) }
        thresholds = Array(repeating: 0, count: neurons)
        rejected = thresholds
    }

    /// Adds one layer's masses of one step: `masses` is B × out row-major (B = sampleIDs.count),
    /// for neurons `firstNeuron ..< firstNeuron + out`. Non-positive masses change nothing.
    /// - Complexity: O(B·out·depth) counter additions (vectorized) and O(B·out) compares, plus
    ///   O(log k) per admitted mass.
    package mutating func add(sampleIDs: ArraySlice<UInt32>, firstNeuron base: Int, outputs out: Int, masses: UnsafeBufferPointer<Float>) {
        let b = sampleIDs.count
        precondition(masses.count == b * out && base + out <= neurons, "masses hold \(masses.count) floats, expected \(b) × \(out)")
        keys.removeAll(keepingCapacity: true)
        for id in sampleIDs { keys.append(UInt64(id)) }
        guard let rows = masses.baseAddress else { return }
        if countMin.blockSize > 1 {
            for i in 0..<b {
                countMin.add(major: keys[i], firstMinor: base, weights: UnsafeBufferPointer(start: rows + i * out, count: out))
            }
        } else {
            let n = UInt64(neurons)
            for i in 0..<b {
                for r in 0..<out where rows[i * out + r] > 0 {
                    countMin.update(keys[i] &* n &+ UInt64(base + r), weight: rows[i * out + r])
                }
            }
        }
        let keys = self.keys
        thresholds.withUnsafeMutableBufferPointer { thr in
            rejected.withUnsafeMutableBufferPointer { rej in
                spaceSaving.withUnsafeMutableBufferPointer { sk in
                    for i in 0..<b {
                        Self.offerRow(rows + i * out, count: out, key: keys[i], firstNeuron: base,
                                      sketches: sk, thresholds: thr, rejected: rej)
                    }
                    for n in base..<(base + out) where rej[n] > 0 {
                        sk[n].reject(weight: rej[n])
                        rej[n] = 0
                    }
                }
            }
        }
    }

    /// One sample's masses for neurons `firstNeuron ..< firstNeuron + count`: a positive mass below
    /// the neuron's cached threshold is added to `rejected`, any other positive mass updates the
    /// neuron's sketch (and refreshes its threshold). Eight neurons at a time, without branches
    /// on the (mostly rejected) masses.
    /// - Complexity: O(count) plus O(log k) per admitted mass.
    private static func offerRow(_ row: UnsafePointer<Float>, count: Int, key: UInt64, firstNeuron: Int,
                                 sketches sk: UnsafeMutableBufferPointer<SpaceSavingSketch>,
                                 thresholds thr: UnsafeMutableBufferPointer<Double>,
                                 rejected rej: UnsafeMutableBufferPointer<Double>) {
        let thresholds = UnsafeMutableRawPointer(thr.baseAddress! + firstNeuron)
        let rejectedMass = UnsafeMutableRawPointer(rej.baseAddress! + firstNeuron)
        let masses = UnsafeRawPointer(row)
        var r = 0
        while r + 8 <= count {
            let w = SIMD8<Double>(masses.loadUnaligned(fromByteOffset: r * 4, as: SIMD8<Float>.self))
            let t = thresholds.loadUnaligned(fromByteOffset: r * 8, as: SIMD8<Double>.self)
            let positive = w .> 0
            let below = w .< t
            let sum = rejectedMass.loadUnaligned(fromByteOffset: r * 8, as: SIMD8<Double>.self)
                + w.replacing(with: 0, where: .!(positive .& below))
            rejectedMass.storeBytes(of: sum, toByteOffset: r * 8, as: SIMD8<Double>.self)
            let admitted = positive .& .!below
            if any(admitted) {
                for lane in 0..<8 where admitted[lane] {
                    let n = firstNeuron + r + lane
                    sk[n].update(key, weight: w[lane])
                    thr[n] = sk[n].admissionThreshold
                }
            }
            r += 8
        }
        while r < count {
            let w = Double(row[r]), n = firstNeuron + r
            if w > 0 {
                if w < thr[n] {
                    rej[n] += w
                } else {
                    sk[n].update(key, weight: w)
                    thr[n] = sk[n].admissionThreshold
                }
            }
            r += 1
        }
    }
}
