import KymoCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tuple drawn by `ContributionSampler`: sample `sample` (position in the batch) contributed
/// `contribution` to weight [row, col] of the layer (col == inputs means the row's bias).
/// `uniform` is the tuple's own uniform variate U: the tuple was kept because `U < |c|/τ`, and
/// `|c|/U` is its priority for priority sampling (U is uniform on [0, min(1, |c|/τ)) given kept).
package struct ContributionCandidate: Equatable, Sendable {
    package var sample: Int32
    package var row: Int32
    package var col: Int32
    package var contribution: Float
    package var uniform: Double

    /// `|c| / U`; greater than τ for every kept tuple.
    package var priority: Double { Double(abs(contribution)) / uniform }
}

/// Threshold sampling of contributions (Duffield, Lund, Thorup) straight from a layer's rank-one
/// factors, in expected `O(in + out + blocks + m)` per sample: every tuple (s, row, col) is kept
/// **independently with exactly probability `min(1, |c|/τ)`**, where `c = scale·δ_s[row]·a_s[col]`,
/// without ever forming the `in × out` products.
///
/// Method (docs/RECORDING.md, "The contribution sampler"):
/// 1. Bucket the sample's nonzero |a_c| (and the bias column, a = 1) and |δ_r| by binary exponent
///    (a counting sort on the float's exponent bits; `levels` exponents below the largest, the rest
///    merged into the lowest bucket). Block (i, j) = row bucket i × column bucket j has the bound
///    `p̄ = |scale|·2^(e_i+1)·2^(e_j+1)/τ ≥ p` for all its positions.
/// 2. Blocks with `p̄ > 1/2` are enumerated: one uniform U per position, kept iff `U < p`.
/// 3. The other blocks are scanned as one Bernoulli sequence by the cumulative-hazard method:
///    each position of block b gets hazard `h_b = p̄(1 + p̄)` (≥ −ln(1 − p̄) for p̄ ≤ 1/2), so it is a
///    *candidate* with probability `P_b = 1 − e^(−h_b) ≥ p̄`; draw E ~ Exp(1), walk blocks
///    subtracting `h_b·n_b` until E falls inside one, locate the position, then draw the
///    candidate's U uniform on [0, P_b) and keep iff `U < p` (thinning: overall probability
///    `P_b · p/P_b = p`); redraw E and continue after that position. Bernoulli trials are
///    memoryless, so every position is an independent trial with its exact probability.
/// All randomness comes from `CounterRNG(key: key).stream(sample)`, drawn in a fixed order, so
/// the output is a pure function of (factors, scale, τ, key).
///
/// Expected work per sample: the bucketing O(in + out), O(1) per nonempty block, and O(1) per
/// candidate; candidates ≤ 4·(kept) in hazard blocks (both bucket ratios ≤ 2) plus the enumerated
/// blocks, each of whose positions is kept with probability ≥ 1/8.
package struct ContributionSampler {
    /// Exponent levels below the largest that get their own bucket.
    package let levels: Int

    // Scratch, reused across calls.
    private var colOrder: [Int32] = []
    private var rowOrder: [Int32] = []
    private var colStart: [Int] = []
    private var rowStart: [Int] = []

    /// - Complexity: O(1).
    package init(levels: Int = 16) {
        precondition(levels >= 1 && levels <= 60, "levels must be in 1...60")
        self.levels = levels
    }

    /// Draws the kept tuples of every sample of `layer` and appends them to `output`, in
    /// (sample, draw) order.
    /// - Parameters:
    ///   - scale: the contribution scale (SGD/momentum: −η_t/B).
    ///   - threshold: τ > 0.
    ///   - key: the layer-step's random key (e.g. XXH3 of (run seed, step, layer)).
    /// - Throws: `RecorderError.invalidConfiguration` for τ ≤ 0 or not finite.
    /// - Complexity: expected O(B·(in + out + blocks) + m), m = tuples kept.
    package mutating func sample(
        _ layer: LayerFactors, scale: Float, threshold: Float, key: UInt64,
        into output: inout [ContributionCandidate]
    ) throws {
        guard threshold > 0, threshold.isFinite else {
            throw RecorderError.invalidConfiguration(field: "sampler-threshold", message: "\(threshold) must be positive and finite")
        }
        guard scale != 0, scale.isFinite else { return }
        let root = CounterRNG(key: key)
        for s in 0..<layer.batch {
            var rng = root.stream(UInt64(s))
            sampleOne(s, layer, bound: scale, scales: nil, tau: threshold, rng: &rng, output: &output)
        }
    }

    /// The same with a per-parameter scale (Adam/AdamW: `k_w,t` depends on v̂ of each weight):
    /// `scales` holds the layer's parameters in layout order — weight (out, in) row-major, then
    /// bias (out). Blocks are bounded with `max|k|` and each candidate is thinned with its exact
    /// |k_w|, so inclusion probabilities stay exactly `min(1, |c|/τ)`; the work grows with
    /// `max|k| / |k_w|` of the kept positions.
    /// - Throws: `RecorderError.invalidConfiguration` for τ ≤ 0; `.shapeMismatch` for `scales`.
    /// - Complexity: as `sample(_:scale:threshold:key:into:)` plus O(out·(in + 1)) for the bound.
    package mutating func sample(
        _ layer: LayerFactors, scales: UnsafeBufferPointer<Float>, threshold: Float, key: UInt64,
        into output: inout [ContributionCandidate]
    ) throws {
        guard threshold > 0, threshold.isFinite else {
            throw RecorderError.invalidConfiguration(field: "sampler-threshold", message: "\(threshold) must be positive and finite")
        }
        let count = layer.outputs * (layer.inputs + 1)
        guard scales.count == count else {
            throw RecorderError.shapeMismatch(what: "contribution scales (out×(in+1))", expected: count, actual: scales.count)
        }
        var bound: Float = 0
        for k in scales where k.isFinite { bound = max(bound, abs(k)) }
        guard bound > 0 else { return }
        let root = CounterRNG(key: key)
        for s in 0..<layer.batch {
            var rng = root.stream(UInt64(s))
            sampleOne(s, layer, bound: bound, scales: scales, tau: threshold, rng: &rng, output: &output)
        }
    }

    /// Counting sort of the nonzero finite |x| by exponent into `order`/`start`; returns the
    /// exponent of bucket 0 (the largest) or nil when all are zero. Bucket b holds exponent
    /// `top − b` (the last bucket also everything smaller).
    private func bucket(count n: Int, extraOne: Bool, value: (Int) -> Float,
                        order: inout [Int32], start: inout [Int]) -> Int? {
        var top = -1
        for i in 0..<n {
            let bits = value(i).bitPattern & 0x7FFF_FFFF
            if bits != 0 && bits < 0x7F80_0000 { top = max(top, Int(bits >> 23)) }
        }
        if extraOne { top = max(top, 127) }
        guard top >= 0 else { return nil }
        let buckets = levels + 1
        start.removeAll(keepingCapacity: true)
        start.append(contentsOf: repeatElement(0, count: buckets + 1))
        @inline(__always) func slot(_ bits: UInt32) -> Int { min(top - Int(bits >> 23), levels) }
        for i in 0..<n {
            let bits = value(i).bitPattern & 0x7FFF_FFFF
            if bits != 0 && bits < 0x7F80_0000 { start[slot(bits) + 1] += 1 }
        }
        if extraOne { start[slot(Float(1).bitPattern) + 1] += 1 }
        for b in 0..<buckets { start[b + 1] += start[b] }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: repeatElement(0, count: start[buckets]))
        var fill = Array(start.prefix(buckets))
        for i in 0..<n {
            let bits = value(i).bitPattern & 0x7FFF_FFFF
            if bits != 0 && bits < 0x7F80_0000 {
                let b = slot(bits)
                order[fill[b]] = Int32(i)
                fill[b] += 1
            }
        }
        if extraOne {
            let b = slot(Float(1).bitPattern)
            order[fill[b]] = Int32(n)
            fill[b] += 1
        }
        return top
    }

    private mutating func sampleOne(
        _ s: Int, _ layer: LayerFactors, bound scale: Float, scales: UnsafeBufferPointer<Float>?, tau: Float,
        rng: inout CounterRNG, output: inout [ContributionCandidate]
    ) {
        let a = layer.activations(ofSample: s)
        let d = layer.deltas(ofSample: s)
        let inputs = layer.inputs
        var colOrder = self.colOrder, rowOrder = self.rowOrder
        var colStart = self.colStart, rowStart = self.rowStart
        defer {
            self.colOrder = colOrder; self.rowOrder = rowOrder
            self.colStart = colStart; self.rowStart = rowStart
        }
        guard let colTop = bucket(count: inputs, extraOne: true, value: { a[$0] }, order: &colOrder, start: &colStart),
              let rowTop = bucket(count: layer.outputs, extraOne: false, value: { d[$0] }, order: &rowOrder, start: &rowStart)
        else { return }
        let buckets = levels + 1
        let tauD = Double(tau)
        let x = Double(abs(scale)) / tauD
        // Upper bound of bucket b: 2^(top − b − 127 + 1).
        @inline(__always) func upper(_ top: Int, _ b: Int) -> Double { Double(sign: .plus, exponent: top - b - 126, significand: 1) }

        @inline(__always) func value(_ r: Int32, _ c: Int32) -> Float {
            let ac: Float = Int(c) == inputs ? 1 : a[Int(c)]
            guard let scales else { return scale * d[Int(r)] * ac }
            let k = Int(c) == inputs ? scales[layer.outputs * inputs + Int(r)] : scales[Int(r) * inputs + Int(c)]
            return k * d[Int(r)] * ac
        }
        @inline(__always) func emit(_ r: Int32, _ c: Int32, _ cv: Float, _ u: Double) {
            output.append(ContributionCandidate(sample: Int32(s), row: r, col: c, contribution: cv, uniform: u))
        }
        @inline(__always) func uniform01(_ rng: inout CounterRNG) -> Double { rng.nextDouble() }
        // Exp(1) from a uniform in (0, 1].
        @inline(__always) func exponential(_ rng: inout CounterRNG) -> Double { -log(1 - rng.nextDouble()) }

        var e = exponential(&rng)
        for i in 0..<buckets {
            let r0 = rowStart[i], r1 = rowStart[i + 1]
            if r0 == r1 { continue }
            let nr = r1 - r0
            let ui = upper(rowTop, i)
            for j in 0..<buckets {
                let c0 = colStart[j], c1 = colStart[j + 1]
                if c0 == c1 { continue }
                let nc = c1 - c0
                let pBar = x * ui * upper(colTop, j)
                if pBar > 0.5 {
                    // Enumerate: one uniform per position.
                    for ri in r0..<r1 {
                        let r = rowOrder[ri]
                        for ci in c0..<c1 {
                            let c = colOrder[ci]
                            let cv = value(r, c)
                            let u = uniform01(&rng)
                            if u * tauD < Double(abs(cv)) { emit(r, c, cv, u) }
                        }
                    }
                    continue
                }
                let h = pBar * (1 + pBar)
                let n = nr * nc
                var pos = 0
                while pos < n {
                    let remaining = h * Double(n - pos)
                    if e >= remaining {
                        e -= remaining
                        break
                    }
                    // First success at pos + j, j = ⌈e/h⌉ − 1 (clamped against rounding).
                    let jump = min(max(Int((e / h).rounded(.up)) - 1, 0), n - pos - 1)
                    let k = pos + jump
                    let r = rowOrder[r0 + k / nc], c = colOrder[c0 + k % nc]
                    let candidateProbability = -expm1(-h)
                    let u = uniform01(&rng) * candidateProbability
                    let cv = value(r, c)
                    if u * tauD < Double(abs(cv)) { emit(r, c, cv, u) }
                    e = exponential(&rng)
                    pos = k + 1
                }
            }
        }
    }
}
