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
/// candidate; candidates ≤ 6·(kept) in hazard blocks (both bucket ratios ≤ 2, `P_b ≤ 1.5·p̄`)
/// plus the enumerated blocks, each of whose positions is kept with probability ≥ 1/8 (outside
/// the merged lowest buckets).
///
/// A second exact method, the **row envelope** (`RowEnvelopeWalk`; one bound `|scale|·|δ_r|·max|a|/τ`
/// per row, no sorting), is cheaper when a is flat; `Method.automatic` picks per sample by an
/// estimate of both costs (a deterministic function of the data). See `Method`.
package struct ContributionSampler {
    /// Exponent levels below the largest that get their own bucket.
    package let levels: Int

    // Scratch, reused across calls.
    private var colOrder: [Int32] = []
    private var rowOrder: [Int32] = []
    private var colStart: [Int] = []
    private var rowStart: [Int] = []
    private var fill: [Int] = []
    private var rowHazards: [Double] = []
    private var pending: [ContributionCandidate] = []

    /// Diagnostics: candidates drawn in sparse blocks, positions enumerated in dense blocks, since
    /// creation (the work beyond bucketing; compare with the number of tuples kept).
    package private(set) var candidatesDrawn = 0
    package private(set) var positionsEnumerated = 0
    /// Diagnostics: sample-layers drawn with the row envelope instead of the buckets.
    package private(set) var rowEnvelopeSamples = 0

    /// Which exact method draws a sample's tuples; both give the same distribution.
    package enum Method: Equatable, Sendable {
        /// Per sample, the cheaper of the two by an estimate of their work.
        case automatic
        /// Exponent buckets of rows and columns (robust to skewed factors).
        case buckets
        /// One envelope per row, `max|a|` over the columns (cheapest for flat a).
        case rowEnvelope
    }

    /// The method in use.
    package let method: Method

    /// - Complexity: O(1).
    package init(levels: Int = 16, method: Method = .automatic) {
        precondition(levels >= 1 && levels <= 60, "levels must be in 1...60")
        self.levels = levels
        self.method = method
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
        summary: LayerFactorSummary? = nil,
        into output: inout [ContributionCandidate]
    ) throws {
        guard threshold > 0, threshold.isFinite else {
            throw RecorderError.invalidConfiguration(field: "sampler-threshold", message: "\(threshold) must be positive and finite")
        }
        guard scale != 0, scale.isFinite else { return }
        sampleBatch(layer, bound: scale, scales: nil, tau: threshold, key: key, summary: summary, output: &output)
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
        sampleBatch(layer, bound: bound, scales: scales, tau: threshold, key: key, summary: nil, output: &output)
    }

    /// How one sample is drawn (`plan`).
    private enum Plan {
        /// Nothing to draw (max|a| or ‖δ‖₁ not finite).
        case none
        case rowEnvelope(aMax: Float)
        case buckets
    }

    /// Every sample of the layer from its own stream `CounterRNG(key: key).stream(s)`, in sample
    /// order; two consecutive row-envelope samples walk interleaved (same output).
    /// - Complexity: as `sample(_:scale:threshold:key:summary:into:)`.
    private mutating func sampleBatch(
        _ layer: LayerFactors, bound: Float, scales: UnsafeBufferPointer<Float>?, tau: Float, key: UInt64,
        summary: LayerFactorSummary?, output: inout [ContributionCandidate]
    ) {
        let root = CounterRNG(key: key)
        func norms(_ s: Int) -> (aMax: Float, dL1: Float)? {
            summary.map { (max($0.activationMax[s], 1), $0.deltaL1[s]) }
        }
        var s = 0
        var nextPlan: Plan? = nil
        while s < layer.batch {
            let current = nextPlan ?? plan(s, layer, bound: bound, tau: tau, norms: norms(s))
            nextPlan = nil
            if case .rowEnvelope(let aMax0) = current, s + 1 < layer.batch {
                let following = plan(s + 1, layer, bound: bound, tau: tau, norms: norms(s + 1))
                if case .rowEnvelope(let aMax1) = following {
                    rowEnvelopePair(s, layer, aMax: (aMax0, aMax1), bound: bound, scales: scales, tau: tau, root: root, output: &output)
                    s += 2
                    continue
                }
                nextPlan = following
            }
            var rng = root.stream(UInt64(s))
            switch current {
            case .none: break
            case .rowEnvelope(let aMax):
                rowEnvelope(s, layer, aMax: aMax, bound: bound, scales: scales, tau: tau, rng: rng, output: &output)
            case .buckets:
                bucketsOne(s, layer, bound: bound, scales: scales, tau: tau, rng: &rng, output: &output)
            }
            s += 1
        }
    }

    /// Chooses the cheaper exact method for sample `s` (a deterministic function of the data):
    /// the row envelope costs O(out) plus ~1.5·x·‖δ‖₁·(in+1)·max|a| candidates; bucketing costs
    /// a few passes over in + out.
    /// - Complexity: O(1) with `norms`, else O(in + out).
    private func plan(_ s: Int, _ layer: LayerFactors, bound scale: Float, tau: Float,
                      norms: (aMax: Float, dL1: Float)?) -> Plan {
        let inputs = layer.inputs, outputs = layer.outputs
        let x = Double(abs(scale)) / Double(tau)
        let aMax: Float, dL1: Float
        if let norms {
            (aMax, dL1) = norms
        } else {
            let an = LayerFactorSummary.norms(layer.activations(ofSample: s)), dn = LayerFactorSummary.norms(layer.deltas(ofSample: s))
            (aMax, dL1) = (max(an.2, 1), dn.0) // max over a and the bias column's 1
        }
        guard aMax.isFinite, dL1.isFinite else { return .none }
        let rowCandidates = 1.5 * x * Double(dL1) * Double(inputs + 1) * Double(aMax)
        if method == .rowEnvelope || (method == .automatic && rowCandidates <= 2 * Double(inputs + outputs)) {
            return .rowEnvelope(aMax: aMax)
        }
        return .buckets
    }

    /// Counting sort of the nonzero finite |x| by exponent into `order`/`start`; returns the
    /// exponent of bucket 0 (the largest) or nil when all are zero. Bucket b holds exponent
    /// `top − b` (the last bucket also everything smaller). With `extraOne`, index `x.count`
    /// stands for an extra value 1 (the bias column).
    private func bucket(_ x: UnsafeBufferPointer<Float>, extraOne: Bool,
                        order: inout [Int32], start: inout [Int], fill: inout [Int]) -> Int? {
        let n = x.count
        var top = extraOne ? 127 : -1
        for i in 0..<n {
            let bits = x[i].bitPattern & 0x7FFF_FFFF
            if bits != 0 && bits < 0x7F80_0000 { top = max(top, Int(bits >> 23)) }
        }
        guard top >= 0 else { return nil }
        let levels = self.levels
        let buckets = levels + 1
        start.removeAll(keepingCapacity: true)
        start.append(contentsOf: repeatElement(0, count: buckets + 1))
        fill.removeAll(keepingCapacity: true)
        fill.append(contentsOf: repeatElement(0, count: buckets))
        var total = 0
        start.withUnsafeMutableBufferPointer { st in
            for i in 0..<n {
                let bits = x[i].bitPattern & 0x7FFF_FFFF
                if bits != 0 && bits < 0x7F80_0000 { st[min(top - Int(bits >> 23), levels) + 1] += 1 }
            }
            if extraOne { st[min(top - 127, levels) + 1] += 1 }
            for b in 0..<buckets { st[b + 1] += st[b] }
            total = st[buckets]
        }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: repeatElement(0, count: total))
        order.withUnsafeMutableBufferPointer { od in
            fill.withUnsafeMutableBufferPointer { fl in
                start.withUnsafeBufferPointer { st in
                    for b in 0..<buckets { fl[b] = st[b] }
                }
                for i in 0..<n {
                    let bits = x[i].bitPattern & 0x7FFF_FFFF
                    if bits != 0 && bits < 0x7F80_0000 {
                        let b = min(top - Int(bits >> 23), levels)
                        od[fl[b]] = Int32(i)
                        fl[b] += 1
                    }
                }
                if extraOne {
                    let b = min(top - 127, levels)
                    od[fl[b]] = Int32(n)
                    fl[b] += 1
                }
            }
        }
        return top
    }

    /// The bucket method for sample `s` (see the type's documentation).
    /// - Complexity: expected O(in + out + blocks) plus O(1) per candidate or enumerated position.
    private mutating func bucketsOne(
        _ s: Int, _ layer: LayerFactors, bound scale: Float, scales: UnsafeBufferPointer<Float>?, tau: Float,
        rng: inout CounterRNG, output: inout [ContributionCandidate]
    ) {
        let a = layer.activations(ofSample: s)
        let d = layer.deltas(ofSample: s)
        let inputs = layer.inputs, outputs = layer.outputs
        let tauD = Double(tau)
        let x = Double(abs(scale)) / tauD
        // Take the scratch buffers out of self so they stay uniquely referenced (no copy).
        var colOrder: [Int32] = [], rowOrder: [Int32] = [], colStart: [Int] = [], rowStart: [Int] = [], fill: [Int] = []
        swap(&colOrder, &self.colOrder); swap(&rowOrder, &self.rowOrder)
        swap(&colStart, &self.colStart); swap(&rowStart, &self.rowStart); swap(&fill, &self.fill)
        defer {
            swap(&colOrder, &self.colOrder); swap(&rowOrder, &self.rowOrder)
            swap(&colStart, &self.colStart); swap(&rowStart, &self.rowStart); swap(&fill, &self.fill)
        }
        guard let colTop = bucket(a, extraOne: true, order: &colOrder, start: &colStart, fill: &fill),
              let rowTop = bucket(d, extraOne: false, order: &rowOrder, start: &rowStart, fill: &fill)
        else { return }
        let buckets = levels + 1
        // Upper bound of bucket b of a list whose top exponent field is `top`: 2^(top − b − 126).
        @inline(__always) func upper(_ top: Int, _ b: Int) -> Double {
            Double(bitPattern: UInt64(top - b - 126 + 1023) << 52)
        }
        var drawn = 0, enumerated = 0
        colOrder.withUnsafeBufferPointer { co in
        rowOrder.withUnsafeBufferPointer { ro in
        colStart.withUnsafeBufferPointer { cs in
        rowStart.withUnsafeBufferPointer { rs in
            @inline(__always) func value(_ r: Int, _ c: Int) -> Float {
                let ac: Float = c == inputs ? 1 : a[c]
                guard let scales else { return scale * (d[r] * ac) }
                let k = c == inputs ? scales[outputs * inputs + r] : scales[r * inputs + c]
                return k * (d[r] * ac)
            }
            @inline(__always) func consider(_ r: Int, _ c: Int, _ u: Double) {
                let cv = value(r, c)
                if u * tauD < Double(abs(cv)) {
                    output.append(ContributionCandidate(sample: Int32(s), row: Int32(r), col: Int32(c), contribution: cv, uniform: u))
                }
            }
            // Exp(1) from a uniform in (0, 1].
            var e = -log(1 - rng.nextDouble())
            for i in 0..<buckets {
                let r0 = rs[i], r1 = rs[i + 1]
                if r0 == r1 { continue }
                let nr = r1 - r0
                let xi = x * upper(rowTop, i)
                for j in 0..<buckets {
                    let c0 = cs[j], c1 = cs[j + 1]
                    if c0 == c1 { continue }
                    let nc = c1 - c0
                    let pBar = xi * upper(colTop, j)
                    if pBar > 0.5 {
                        // Dense block: one uniform per position.
                        enumerated += nr * nc
                        for ri in r0..<r1 {
                            let r = Int(ro[ri])
                            for ci in c0..<c1 { consider(r, Int(co[ci]), rng.nextDouble()) }
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
                        // First success at pos + jump, jump = ⌈e/h⌉ − 1 (clamped against rounding).
                        let jump = min(max(Int((e / h).rounded(.up)) - 1, 0), n - pos - 1)
                        let k = pos + jump
                        drawn += 1
                        consider(Int(ro[r0 + k / nc]), Int(co[c0 + k % nc]), rng.nextDouble() * -expm1(-h))
                        e = -log(1 - rng.nextDouble())
                        pos = k + 1
                    }
                }
            }
        }}}}
        candidatesDrawn += drawn
        positionsEnumerated += enumerated
    }

    /// The row-envelope method for sample `s` (`RowEnvelopeWalk`).
    /// - Complexity: O(out) plus the candidates, about `1.5·(in+1)·max|a|/‖a‖₁` per kept tuple.
    private mutating func rowEnvelope(
        _ s: Int, _ layer: LayerFactors, aMax: Float, bound scale: Float, scales: UnsafeBufferPointer<Float>?,
        tau: Float, rng: CounterRNG, output: inout [ContributionCandidate]
    ) {
        let tauD = Double(tau)
        let xa = Double(abs(scale)) / tauD * Double(aMax)
        var walk = RowEnvelopeWalk(sample: s, a: layer.activations(ofSample: s), d: layer.deltas(ofSample: s),
                                   xa: xa, tau: tauD, scale: scale, scales: scales, rng: rng)
        let outputs = layer.outputs
        withHazards(count: outputs + 1) { hz in
            RowEnvelopeWalk.wholeRowHazards(walk.d, xa: xa, positions: layer.inputs + 1, into: hz)
            walk.run(hazards: hz.baseAddress!, into: &output)
        }
        candidatesDrawn += walk.drawn
        positionsEnumerated += walk.enumerated
        rowEnvelopeSamples += 1
    }

    /// The row-envelope method for samples `s` and `s + 1`, walked interleaved.
    /// - Complexity: as `rowEnvelope` for each.
    private mutating func rowEnvelopePair(
        _ s: Int, _ layer: LayerFactors, aMax: (Float, Float), bound scale: Float, scales: UnsafeBufferPointer<Float>?,
        tau: Float, root: CounterRNG, output: inout [ContributionCandidate]
    ) {
        let tauD = Double(tau)
        let x = Double(abs(scale)) / tauD
        let xa0 = x * Double(aMax.0), xa1 = x * Double(aMax.1)
        var w0 = RowEnvelopeWalk(sample: s, a: layer.activations(ofSample: s), d: layer.deltas(ofSample: s),
                                 xa: xa0, tau: tauD, scale: scale, scales: scales, rng: root.stream(UInt64(s)))
        var w1 = RowEnvelopeWalk(sample: s + 1, a: layer.activations(ofSample: s + 1), d: layer.deltas(ofSample: s + 1),
                                 xa: xa1, tau: tauD, scale: scale, scales: scales, rng: root.stream(UInt64(s + 1)))
        let stride = layer.outputs + 1, n = layer.inputs + 1
        var pending: [ContributionCandidate] = []
        swap(&pending, &self.pending)
        defer { swap(&pending, &self.pending) }
        withHazards(count: 2 * stride) { hz in
            let h1 = UnsafeMutableBufferPointer(rebasing: hz[stride...])
            RowEnvelopeWalk.wholeRowHazards(w0.d, xa: xa0, positions: n, into: UnsafeMutableBufferPointer(rebasing: hz[..<stride]))
            RowEnvelopeWalk.wholeRowHazards(w1.d, xa: xa1, positions: n, into: h1)
            RowEnvelopeWalk.walkPair(&w0, hazards: hz.baseAddress!, &w1, hazards: h1.baseAddress!, into: &output, pending: &pending)
        }
        candidatesDrawn += w0.drawn + w1.drawn
        positionsEnumerated += w0.enumerated + w1.enumerated
        rowEnvelopeSamples += 2
    }

    /// Runs `body` with the hazard scratch, at least `count` Doubles.
    /// - Complexity: O(1) amortized (O(count) when it grows).
    private mutating func withHazards(count: Int, _ body: (UnsafeMutableBufferPointer<Double>) -> Void) {
        // Take the scratch out of self so it stays uniquely referenced (no copy).
        var hazards: [Double] = []
        swap(&hazards, &self.rowHazards)
        defer { swap(&hazards, &self.rowHazards) }
        if hazards.count < count { hazards.append(contentsOf: repeatElement(0, count: count - hazards.count)) }
        hazards.withUnsafeMutableBufferPointer { body($0) }
    }
}
