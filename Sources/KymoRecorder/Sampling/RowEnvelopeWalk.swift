#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KymoCore

/// One sample's draw by the row-envelope method of `ContributionSampler`: every position of row r
/// is bounded by `p̄_r = xa·|δ_r|` (`xa = |scale|·max|a|/τ`); rows with `p̄_r > 1/2` are
/// enumerated, the others form one cumulative-hazard Bernoulli sequence (hazard `p̄_r(1 + p̄_r)`
/// per position) whose candidates are thinned to exactly p.
///
/// The walk runs in two passes that give exactly the Doubles of walking the rows one by one:
/// `wholeRowHazards` computes each row's whole-row hazard `h_r·(in+1)` with the walk's own
/// operations (+∞ for an enumerated row; +0 for a zero row, which leaves E unchanged, as skipping
/// it does); `skipRows` subtracts them from E in row order in a register-tight loop, and only a row
/// where E falls short (it holds a candidate) or an enumerated row goes to `walkRow`, the
/// per-position code. Two samples' walks can run interleaved (`walkPair`): their E chains are
/// independent, so the second hides the first's subtraction latency.
struct RowEnvelopeWalk {
    let sample: Int
    let a: UnsafeBufferPointer<Float>
    let d: UnsafeBufferPointer<Float>
    let xa: Double
    let tau: Double
    let scale: Float
    let scales: UnsafeBufferPointer<Float>?
    var rng: CounterRNG
    /// The remaining Exp(1) budget of the cumulative-hazard walk.
    var e: Double
    /// The next row to walk.
    var row = 0
    /// Diagnostics: candidates drawn, positions enumerated.
    var drawn = 0, enumerated = 0

    /// Draws the walk's first Exp(1) from `rng`.
    /// - Complexity: O(1).
    init(sample: Int, a: UnsafeBufferPointer<Float>, d: UnsafeBufferPointer<Float>, xa: Double, tau: Double,
         scale: Float, scales: UnsafeBufferPointer<Float>?, rng: CounterRNG) {
        self.sample = sample
        self.a = a
        self.d = d
        self.xa = xa
        self.tau = tau
        self.scale = scale
        self.scales = scales
        self.rng = rng
        e = -log(1 - self.rng.nextDouble())
    }

    /// Walks the whole sample: `hazards` from `wholeRowHazards(d, xa:…)`.
    /// - Complexity: O(out) plus O(1) per candidate and O(in) per enumerated row.
    mutating func run(hazards: UnsafeMutablePointer<Double>, into output: inout [ContributionCandidate]) {
        while true {
            (e, row) = Self.skipRows(hazards, e: e, from: row)
            if row == d.count { return }
            walkRow(into: &output)
        }
    }

    /// Walks two samples of one layer interleaved: `first`'s tuples go to `output`, then
    /// `second`'s (collected in `pending`, emptied first), so the output is the same as running
    /// them one after the other.
    /// - Complexity: as `run` for each.
    static func walkPair(_ first: inout RowEnvelopeWalk, hazards h0: UnsafeMutablePointer<Double>,
                         _ second: inout RowEnvelopeWalk, hazards h1: UnsafeMutablePointer<Double>,
                         into output: inout [ContributionCandidate], pending: inout [ContributionCandidate]) {
        precondition(first.d.count == second.d.count, "a pair walks one layer")
        let outputs = first.d.count
        pending.removeAll(keepingCapacity: true)
        var live0 = true, live1 = true
        while live0 && live1 {
            (first.e, first.row, second.e, second.row) = skipRows(h0, e: first.e, from: first.row, h1, e: second.e, from: second.row)
            if !(first.e >= h0[first.row]) {
                if first.row == outputs { live0 = false } else { first.walkRow(into: &output) }
            }
            if !(second.e >= h1[second.row]) {
                if second.row == outputs { live1 = false } else { second.walkRow(into: &pending) }
            }
        }
        if live0 { first.run(hazards: h0, into: &output) }
        if live1 { second.run(hazards: h1, into: &pending) }
        output.append(contentsOf: pending)
    }

    /// The row `row`, where the skip stopped: enumerated (one uniform per position), or E falls
    /// inside it: first success at ⌈E/h⌉ − 1, its U uniform on [0, 1 − e^(−h)), a new E, and on
    /// until E covers the rest of the row. Then `row += 1`.
    /// - Complexity: O(in) if enumerated, else O(1) per candidate.
    mutating func walkRow(into output: inout [ContributionCandidate]) {
        let r = row
        row += 1
        let inputs = a.count, n = inputs + 1
        let dr = abs(d[r])
        if dr == 0 { return }
        let pBar = xa * Double(dr)
        if pBar > 0.5 {
            enumerated += n
            for c in 0..<n { consider(r, c, rng.nextDouble(), into: &output) }
            return
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
            consider(r, c, rng.nextDouble() * -expm1(-h), into: &output)
            e = -log(1 - rng.nextDouble())
            pos = c + 1
        }
    }

    /// Keeps tuple (row r, column c) iff `u·τ < |c|`.
    @inline(__always)
    private func consider(_ r: Int, _ c: Int, _ u: Double, into output: inout [ContributionCandidate]) {
        let inputs = a.count
        let ac: Float = c == inputs ? 1 : a[c]
        let k: Float
        if let scales { k = c == inputs ? scales[d.count * inputs + r] : scales[r * inputs + c] } else { k = scale }
        let cv = k * (d[r] * ac)
        if u * tau < Double(abs(cv)) {
            output.append(ContributionCandidate(sample: Int32(sample), row: Int32(r), col: Int32(c), contribution: cv, uniform: u))
        }
    }

    /// Pass 1: `hazards[r] = h_r·n` with `p̄_r = xa·|d_r|`, `h_r = p̄_r·(1 + p̄_r)`, the same Double
    /// operations in the same order as `walkRow` at position 0 (so bit-identical to it); +∞ where
    /// `p̄_r > 1/2` (enumerated rows), +0 for zero rows, and +∞ in `hazards[d.count]`, the end
    /// sentinel of `skipRows`. Branch-free, so it vectorizes.
    /// - Precondition: `hazards.count > d.count`.
    /// - Complexity: O(out).
    static func wholeRowHazards(_ d: UnsafeBufferPointer<Float>, xa: Double, positions n: Int,
                                into hazards: UnsafeMutableBufferPointer<Double>) {
        precondition(hazards.count > d.count, "hazards needs out + 1 entries")
        let wholeRow = Double(n)
        for r in 0..<d.count {
            let pBar = xa * Double(abs(d[r]))
            let h = pBar * (1 + pBar)
            hazards[r] = pBar > 0.5 ? .infinity : h * wholeRow
        }
        hazards[d.count] = .infinity
    }

    /// Pass 2: from row `r` on, subtracts each row's whole-row hazard from `e` while `e` covers
    /// it; returns `e` and the first row it does not cover. A function of its own so that `e`
    /// stays in a register (inlined into the walk, it was spilled: a store and a load per row).
    /// - Precondition: `hazards` holds +∞ at or after `r`; `e` is finite.
    /// - Complexity: O(rows skipped).
    @inline(never)
    static func skipRows(_ hazards: UnsafeMutablePointer<Double>, e: Double, from r: Int) -> (Double, Int) {
        var e = e, r = r
        while e >= hazards[r] {
            e -= hazards[r]
            r += 1
        }
        return (e, r)
    }

    /// Pass 2 for two walks at once, until either stops (each exactly as `skipRows` alone).
    /// - Complexity: O(rows skipped).
    @inline(never)
    static func skipRows(_ h0: UnsafeMutablePointer<Double>, e e0: Double, from r0: Int,
                         _ h1: UnsafeMutablePointer<Double>, e e1: Double, from r1: Int) -> (Double, Int, Double, Int) {
        var e0 = e0, r0 = r0, e1 = e1, r1 = r1
        while e0 >= h0[r0] && e1 >= h1[r1] {
            e0 -= h0[r0]
            r0 += 1
            e1 -= h1[r1]
            r1 += 1
        }
        return (e0, r0, e1, r1)
    }
}
