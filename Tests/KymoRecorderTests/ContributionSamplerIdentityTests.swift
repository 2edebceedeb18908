import KymoCore
import Testing
@testable import KymoRecorder
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sampler must draw bit-identical tuples to the implementation it replaced (d4b0a01), so
/// that recorded runs stay reproducible: the same candidates in the same order, with the same
/// contribution and uniform bit patterns, the same diagnostics, from the same random streams.
/// `ReferenceContributionSampler` below is that implementation, verbatim but for its name and
/// access levels.
@Suite struct ContributionSamplerIdentityTests {
    /// One factor set: shape, a with a given share of zeros, δ rows with a given share of zero
    /// rows, magnitudes log-uniform over `binades` binades (so some rows are enumerated at small τ),
    /// plus −0.0 and subnormal entries.
    struct Case {
        var batch: Int, inputs: Int, outputs: Int
        var a: [Float], d: [Float]

        init(batch: Int, inputs: Int, outputs: Int, aZeros: Double, dZeros: Double, binades: Float, key: UInt64) {
            self.batch = batch; self.inputs = inputs; self.outputs = outputs
            var rng = CounterRNG(key: key)
            func logUniform(_ top: Float) -> Float { top * exp2(-binades * rng.nextFloat()) }
            a = (0..<(batch * inputs)).map { _ in rng.nextDouble() < aZeros ? 0 : logUniform(2) }
            d = (0..<(batch * outputs)).map { _ in
                rng.nextDouble() < dZeros ? 0 : (rng.next(below: 2) == 0 ? -1 : 1) * logUniform(1e-2)
            }
            if !a.isEmpty { a[0] = 1.5 }
            if d.count > 3 { d[1] = -0.0; d[2] = 1e-40; d[3] = -Float.leastNonzeroMagnitude }
        }

        /// τ so that about `kept` tuples are kept over the batch (1e-30 when all δ are zero).
        func threshold(scale: Float, kept: Double) -> Float {
            var mass = 0.0
            for s in 0..<batch {
                var aSum = 1.0
                for c in 0..<inputs { aSum += Double(abs(a[s * inputs + c])) }
                for r in 0..<outputs { mass += Double(abs(scale * d[s * outputs + r])) * aSum }
            }
            return Float(max(mass / kept, 1e-30))
        }
    }

    static func expectIdentical(_ new: [ContributionCandidate], _ old: [ContributionCandidate], _ label: String) {
        #expect(new.count == old.count, "\(label): \(new.count) vs \(old.count) tuples")
        for (x, y) in zip(new, old) where x.sample != y.sample || x.row != y.row || x.col != y.col
            || x.contribution.bitPattern != y.contribution.bitPattern || x.uniform.bitPattern != y.uniform.bitPattern {
            Issue.record("\(label): first difference \(x) vs \(y)")
            return
        }
    }

    /// Shapes of the seed MLP (784-512-256-10) with a small batch, and small odd shapes.
    static let shapes: [(inputs: Int, outputs: Int, batch: Int)] = [(784, 512, 3), (512, 256, 4), (256, 10, 8), (9, 6, 5), (1, 1, 3), (33, 17, 4)]

    @Test(arguments: [ContributionSampler.Method.rowEnvelope, .automatic, .buckets])
    func sameTuplesAsTheReferenceWithOneScale(method: ContributionSampler.Method) throws {
        var sampler = ContributionSampler(levels: 12, method: method)
        var reference = ReferenceContributionSampler(levels: 12, method: ReferenceContributionSampler.Method(method))
        var total = 0, enumerated = 0, sampleLayers = 0
        for (i, shape) in Self.shapes.enumerated() {
            for (j, sparsity) in [(0.8, 0.5), (0.5, 0.0), (0.0, 0.9)].enumerated() {
                let key = UInt64(100 * i + 10 * j)
                let f = Case(batch: shape.batch, inputs: shape.inputs, outputs: shape.outputs,
                             aZeros: sparsity.0, dZeros: sparsity.1, binades: j == 1 ? 2 : 12, key: key)
                for (k, kept) in [20.0, 300.0, 5000.0].enumerated() {
                    let scale: Float = k == 1 ? 0.003 : -0.01 / Float(shape.batch)
                    let tau = f.threshold(scale: scale, kept: kept)
                    try withFactors(batch: f.batch, inputs: f.inputs, outputs: f.outputs, a: f.a, d: f.d) { layer in
                        let summary = k == 2 ? nil : LayerFactorSummary(layer)
                        var new: [ContributionCandidate] = [], old: [ContributionCandidate] = []
                        try sampler.sample(layer, scale: scale, threshold: tau, key: key &+ UInt64(k), summary: summary, into: &new)
                        try reference.sample(layer, scale: scale, threshold: tau, key: key &+ UInt64(k), summary: summary, into: &old)
                        Self.expectIdentical(new, old, "shape \(shape) sparsity \(sparsity) kept \(kept)")
                        total += new.count
                    }
                    sampleLayers += shape.batch
                    #expect(sampler.candidatesDrawn == reference.candidatesDrawn)
                    #expect(sampler.positionsEnumerated == reference.positionsEnumerated)
                    #expect(sampler.rowEnvelopeSamples == reference.rowEnvelopeSamples)
                    enumerated = sampler.positionsEnumerated
                }
            }
        }
        // The cases exercise both the hazard walk and the enumerated rows.
        #expect(total > 10_000)
        #expect(sampler.candidatesDrawn > 5_000)
        #expect(enumerated > 1_000)
        switch method {
        case .rowEnvelope: #expect(sampler.rowEnvelopeSamples == sampleLayers)
        case .buckets: #expect(sampler.rowEnvelopeSamples == 0)
        case .automatic: // both methods, so batches mix them (pairs and single samples)
            #expect(sampler.rowEnvelopeSamples > sampleLayers / 4 && sampler.rowEnvelopeSamples < sampleLayers * 3 / 4)
        }
    }

    @Test(arguments: [ContributionSampler.Method.rowEnvelope, .automatic, .buckets])
    func sameTuplesAsTheReferenceWithPerParameterScales(method: ContributionSampler.Method) throws {
        var sampler = ContributionSampler(method: method)
        var reference = ReferenceContributionSampler(method: ReferenceContributionSampler.Method(method))
        var total = 0
        for (i, shape) in Self.shapes.enumerated() {
            let key = UInt64(7000 + i)
            let f = Case(batch: shape.batch, inputs: shape.inputs, outputs: shape.outputs,
                         aZeros: 0.5, dZeros: 0.5, binades: 8, key: key)
            // Adam-like scales over two orders of magnitude, a few zero.
            var scales = randomFloats(shape.outputs * (shape.inputs + 1), key: key).map { -0.001 * (1 + 99 * abs($0)) }
            for z in stride(from: 0, to: scales.count, by: 7) { scales[z] = 0 }
            for kept in [50.0, 2000.0] {
                let tau = f.threshold(scale: 0.01, kept: kept)
                try withFactors(batch: f.batch, inputs: f.inputs, outputs: f.outputs, a: f.a, d: f.d) { layer in
                    try scales.withUnsafeBufferPointer { k in
                        var new: [ContributionCandidate] = [], old: [ContributionCandidate] = []
                        try sampler.sample(layer, scales: k, threshold: tau, key: key &* 3, into: &new)
                        try reference.sample(layer, scales: k, threshold: tau, key: key &* 3, into: &old)
                        Self.expectIdentical(new, old, "scales, shape \(shape) kept \(kept)")
                        total += new.count
                    }
                }
                #expect(sampler.candidatesDrawn == reference.candidatesDrawn)
                #expect(sampler.positionsEnumerated == reference.positionsEnumerated)
            }
        }
        #expect(total > 1_000)
    }

    /// Pass 1 gives each row the very Double the row-by-row walk subtracts (bit for bit), +∞ for
    /// enumerated rows and +0 for zero rows; pass 2 leaves E and the row exactly where the walk
    /// would stop. Checked row by row, since a last-bit difference in E rarely shows in the tuples.
    @Test func passesMatchTheRowByRowWalk() throws {
        var rng = CounterRNG(key: 99)
        var checkedRows = 0, stops = 0, enumeratedRows = 0, mismatches = 0
        for trial in 0..<300 {
            let outputs = 1 + Int(rng.next(below: 600)), n = 1 + Int(rng.next(below: 800))
            let d: [Float] = (0..<outputs).map { _ in
                switch rng.next(below: 8) {
                case 0, 1, 2: return 0
                case 3: return -0.0
                case 4: return Float.leastNonzeroMagnitude * Float(1 + rng.next(below: 100))
                default: return (rng.next(below: 2) == 0 ? -1 : 1) * exp2(-30 * rng.nextFloat())
                }
            }
            let xa = exp2(-40 + 45 * rng.nextDouble()) // p̄ from tiny up to > 1/2
            var hazards = [Double](repeating: .nan, count: outputs + 1)
            d.withUnsafeBufferPointer { dp in
                hazards.withUnsafeMutableBufferPointer { RowEnvelopeWalk.wholeRowHazards(dp, xa: xa, positions: n, into: $0) }
            }
            #expect(hazards[outputs] == .infinity)
            for r in 0..<outputs {
                let dr = abs(d[r])
                let pBar = xa * Double(dr)
                let expected: Double = dr == 0 ? 0 : pBar > 0.5 ? .infinity : (pBar * (1 + pBar)) * Double(n - 0)
                if hazards[r].bitPattern != expected.bitPattern {
                    if mismatches == 0 { Issue.record("trial \(trial) row \(r): \(hazards[r]) vs \(expected)") }
                    mismatches += 1
                }
                if pBar > 0.5 { enumeratedRows += 1 }
            }
            // Pass 2 from a few starting rows and E values against the walk.
            for _ in 0..<5 {
                let start = Int(rng.next(below: UInt64(outputs)))
                let e0 = -log(1 - rng.nextDouble()) * (trial % 3 == 0 ? 1e-6 : 1)
                var e = e0, stop = outputs
                for r in start..<outputs {
                    let dr = abs(d[r])
                    if dr == 0 { continue }
                    let pBar = xa * Double(dr)
                    if pBar > 0.5 { stop = r; break }
                    let remaining = pBar * (1 + pBar) * Double(n - 0)
                    if e >= remaining { e -= remaining } else { stop = r; break }
                    checkedRows += 1
                }
                let (e1, r1) = hazards.withUnsafeMutableBufferPointer { RowEnvelopeWalk.skipRows($0.baseAddress!, e: e0, from: start) }
                #expect(r1 == stop)
                #expect(e1.bitPattern == e.bitPattern, "trial \(trial): \(e1) vs \(e)")
                if stop < outputs { stops += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(checkedRows > 10_000 && stops > 100 && enumeratedRows > 100)
    }

    /// The seed-scale benchmark's inputs (RecorderWorkload): fc1's input 80 % zeros in [0, 1],
    /// hidden inputs half zeros, δ half zero rows around 1e-3 (0.3 for the last layer), several
    /// steps' keys, one sampler reused across layers of different sizes.
    @Test func sameTuplesAsTheReferenceOnSeedScaleLikeSteps() throws {
        var rng = CounterRNG(key: 2026)
        func normalish() -> Float { rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5 }
        let b = 16
        let shapes = [(784, 512), (512, 256), (256, 10)]
        var layers: [(a: [Float], d: [Float])] = []
        for (l, (inputs, outputs)) in shapes.enumerated() {
            let a: [Float] = (0..<(b * inputs)).map { _ in
                l == 0 ? (rng.next(below: 10) < 8 ? 0 : rng.nextFloat()) : (rng.next(below: 2) == 0 ? 0 : rng.nextFloat() * 2)
            }
            let d: [Float] = (0..<(b * outputs)).map { _ in
                l < 2 && rng.next(below: 2) == 0 ? 0 : normalish() * (l == 2 ? 0.3 : 1e-3)
            }
            layers.append((a, d))
        }
        let scale: Float = -0.01 / Float(b)
        var sampler = ContributionSampler(), reference = ReferenceContributionSampler()
        var total = 0
        for step in 0..<4 {
            for (l, (inputs, outputs)) in shapes.enumerated() {
                let tau: Float = step % 2 == 0 ? 2e-7 : 3e-8
                try withFactors(batch: b, inputs: inputs, outputs: outputs, a: layers[l].a, d: layers[l].d) { layer in
                    let summary = LayerFactorSummary(layer)
                    var new: [ContributionCandidate] = [], old: [ContributionCandidate] = []
                    try sampler.sample(layer, scale: scale, threshold: tau, key: UInt64(step * 3 + l), summary: summary, into: &new)
                    try reference.sample(layer, scale: scale, threshold: tau, key: UInt64(step * 3 + l), summary: summary, into: &old)
                    Self.expectIdentical(new, old, "step \(step) layer \(l)")
                    total += new.count
                }
            }
        }
        #expect(total > 500)
        #expect(sampler.rowEnvelopeSamples == reference.rowEnvelopeSamples)
        #expect(sampler.candidatesDrawn == reference.candidatesDrawn)
    }
}

extension ReferenceContributionSampler.Method {
    init(_ method: ContributionSampler.Method) {
        switch method {
        case .automatic: self = .automatic
        case .buckets: self = .buckets
        case .rowEnvelope: self = .rowEnvelope
        }
    }
}

// MARK: - The reference: ContributionSampler as of d4b0a01 (before the two-pass row envelope).

private struct ReferenceContributionSampler {
    /// Exponent levels below the largest that get their own bucket.
    let levels: Int

    // Scratch, reused across calls.
    private var colOrder: [Int32] = []
    private var rowOrder: [Int32] = []
    private var colStart: [Int] = []
    private var rowStart: [Int] = []
    private var fill: [Int] = []

    /// Diagnostics: candidates drawn in sparse blocks, positions enumerated in dense blocks, since
    /// creation (the work beyond bucketing; compare with the number of tuples kept).
    private(set) var candidatesDrawn = 0
    private(set) var positionsEnumerated = 0
    /// Diagnostics: sample-layers drawn with the row envelope instead of the buckets.
    private(set) var rowEnvelopeSamples = 0

    /// Which exact method draws a sample's tuples; both give the same distribution.
    enum Method: Equatable, Sendable {
        /// Per sample, the cheaper of the two by an estimate of their work.
        case automatic
        /// Exponent buckets of rows and columns (robust to skewed factors).
        case buckets
        /// One envelope per row, `max|a|` over the columns (cheapest for flat a).
        case rowEnvelope
    }

    /// The method in use.
    let method: Method

    /// - Complexity: O(1).
    init(levels: Int = 16, method: Method = .automatic) {
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
    mutating func sample(
        _ layer: LayerFactors, scale: Float, threshold: Float, key: UInt64,
        summary: LayerFactorSummary? = nil,
        into output: inout [ContributionCandidate]
    ) throws {
        guard threshold > 0, threshold.isFinite else {
            throw RecorderError.invalidConfiguration(field: "sampler-threshold", message: "\(threshold) must be positive and finite")
        }
        guard scale != 0, scale.isFinite else { return }
        let root = CounterRNG(key: key)
        for s in 0..<layer.batch {
            var rng = root.stream(UInt64(s))
            sampleOne(s, layer, bound: scale, scales: nil, tau: threshold,
                      norms: summary.map { (max($0.activationMax[s], 1), $0.deltaL1[s]) }, rng: &rng, output: &output)
        }
    }

    /// The same with a per-parameter scale (Adam/AdamW: `k_w,t` depends on v̂ of each weight):
    /// `scales` holds the layer's parameters in layout order — weight (out, in) row-major, then
    /// bias (out). Blocks are bounded with `max|k|` and each candidate is thinned with its exact
    /// |k_w|, so inclusion probabilities stay exactly `min(1, |c|/τ)`; the work grows with
    /// `max|k| / |k_w|` of the kept positions.
    /// - Throws: `RecorderError.invalidConfiguration` for τ ≤ 0; `.shapeMismatch` for `scales`.
    /// - Complexity: as `sample(_:scale:threshold:key:into:)` plus O(out·(in + 1)) for the bound.
    mutating func sample(
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
            sampleOne(s, layer, bound: bound, scales: scales, tau: threshold, norms: nil, rng: &rng, output: &output)
        }
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

    private mutating func sampleOne(
        _ s: Int, _ layer: LayerFactors, bound scale: Float, scales: UnsafeBufferPointer<Float>?, tau: Float,
        norms: (aMax: Float, dL1: Float)?, rng: inout CounterRNG, output: inout [ContributionCandidate]
    ) {
        let a = layer.activations(ofSample: s)
        let d = layer.deltas(ofSample: s)
        let inputs = layer.inputs, outputs = layer.outputs
        let tauD = Double(tau)
        let x = Double(abs(scale)) / tauD
        // Choose the cheaper exact method for this sample (a deterministic function of the data):
        // the row envelope costs O(out) plus ~1.5·x·‖δ‖₁·(in+1)·max|a| candidates; bucketing costs
        // a few passes over in + out.
        let aMax: Float, dL1: Float
        if let norms {
            (aMax, dL1) = norms
        } else {
            let an = LayerFactorSummary.norms(a), dn = LayerFactorSummary.norms(d)
            (aMax, dL1) = (max(an.2, 1), dn.0) // max over a and the bias column's 1
        }
        guard aMax.isFinite, dL1.isFinite else { return }
        let rowCandidates = 1.5 * x * Double(dL1) * Double(inputs + 1) * Double(aMax)
        if method == .rowEnvelope || (method == .automatic && rowCandidates <= 2 * Double(inputs + outputs)) {
            rowEnvelope(s, a, d, inputs: inputs, outputs: outputs, aMax: aMax, x: x, tau: tauD,
                        scale: scale, scales: scales, rng: &rng, output: &output)
            return
        }
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

    /// The row-envelope method: every position of row r is bounded by `p̄_r = x·|δ_r|·max|a|`;
    /// rows with `p̄_r > 1/2` are enumerated, the others form one cumulative-hazard Bernoulli
    /// sequence (hazard `p̄_r(1 + p̄_r)` per position) whose candidates are thinned to exactly p.
    /// Cost O(out) plus the candidates, about `1.5·(in+1)·max|a|/‖a‖₁` per kept tuple.
    private mutating func rowEnvelope(
        _ s: Int, _ a: UnsafeBufferPointer<Float>, _ d: UnsafeBufferPointer<Float>,
        inputs: Int, outputs: Int, aMax: Float, x: Double, tau: Double,
        scale: Float, scales: UnsafeBufferPointer<Float>?,
        rng: inout CounterRNG, output: inout [ContributionCandidate]
    ) {
        let n = inputs + 1
        let xa = x * Double(aMax)
        var drawn = 0, enumerated = 0
        @inline(__always) func consider(_ r: Int, _ c: Int, _ u: Double) {
            let ac: Float = c == inputs ? 1 : a[c]
            let k: Float
            if let scales { k = c == inputs ? scales[outputs * inputs + r] : scales[r * inputs + c] } else { k = scale }
            let cv = k * (d[r] * ac)
            if u * tau < Double(abs(cv)) {
                output.append(ContributionCandidate(sample: Int32(s), row: Int32(r), col: Int32(c), contribution: cv, uniform: u))
            }
        }
        var e = -log(1 - rng.nextDouble())
        for r in 0..<outputs {
            let dr = abs(d[r])
            if dr == 0 { continue }
            let pBar = xa * Double(dr)
            if pBar > 0.5 {
                enumerated += n
                for c in 0..<n { consider(r, c, rng.nextDouble()) }
                continue
            }
            let h = pBar * (1 + pBar)
            var pos = 0
            while pos < n {
                let remaining = h * Double(n - pos)
                if e >= remaining {
                    e -= remaining
                    break
                }
                let jump = min(max(Int((e / h).rounded(.up)) - 1, 0), n - pos - 1)
                let c = pos + jump
                drawn += 1
                consider(r, c, rng.nextDouble() * -expm1(-h))
                e = -log(1 - rng.nextDouble())
                pos = c + 1
            }
        }
        candidatesDrawn += drawn
        positionsEnumerated += enumerated
        rowEnvelopeSamples += 1
    }
}
