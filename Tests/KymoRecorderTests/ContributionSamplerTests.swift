import KymoCore
import Testing
@testable import KymoRecorder

@Suite struct ContributionSamplerTests {
    /// Factors with magnitudes spread over many binades, zeros, and a large entry, so that the
    /// enumerated blocks, the hazard blocks and the merged lowest bucket are all exercised.
    static func factors() -> (a: [Float], d: [Float]) {
        var a = randomFloats(2 * 9, key: 31)
        a[0] = 0; a[1] = 3.5; a[2] = 1e-7; a[5] = -0.002; a[9] = 0; a[12] = 0.75
        var d = randomFloats(2 * 6, key: 32, scale: 2)
        d[1] = 0; d[2] = 1e-5; d[7] = -0.03; d[8] = 5
        return (a, d)
    }

    @Test(arguments: [ContributionSampler.Method.buckets, .rowEnvelope, .automatic])
    func inclusionProbabilitiesAreExact(method: ContributionSampler.Method) throws {
        let (a, d) = Self.factors()
        let b = 2, inputs = 9, outputs = 6, scale: Float = -0.5, tau: Float = 0.4
        let trials = 40_000
        var hits = [Int](repeating: 0, count: b * outputs * (inputs + 1))
        var sampler = ContributionSampler(levels: 6, method: method)
        var out: [ContributionCandidate] = []
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) { layer in
            for t in 0..<trials {
                out.removeAll(keepingCapacity: true)
                try sampler.sample(layer, scale: scale, threshold: tau, key: UInt64(t) &* 0x9E37_79B9, into: &out)
                for c in out {
                    hits[(Int(c.sample) * outputs + Int(c.row)) * (inputs + 1) + Int(c.col)] += 1
                    #expect(c.priority > Double(tau))
                }
            }
        }
        var checked = 0
        for s in 0..<b {
            for r in 0..<outputs {
                for c in 0...inputs {
                    let ac: Float = c == inputs ? 1 : a[s * inputs + c]
                    let cv = scale * (d[s * outputs + r] * ac)
                    let p = min(1, Double(abs(cv)) / Double(tau))
                    let observed = Double(hits[(s * outputs + r) * (inputs + 1) + c]) / Double(trials)
                    let sd = (p * (1 - p) / Double(trials)).squareRoot()
                    #expect(abs(observed - p) <= 5 * sd + 1e-12, "s=\(s) r=\(r) c=\(c): p=\(p) observed \(observed)")
                    if p > 0 && p < 1 { checked += 1 }
                }
            }
        }
        #expect(checked > 50)
    }

    @Test(arguments: [ContributionSampler.Method.buckets, .rowEnvelope])
    func pairsAreIndependent(method: ContributionSampler.Method) throws {
        // Two entries of the same row in different column buckets, both with p in (0, 1):
        // P(both) must be p1·p2.
        let inputs = 4, outputs = 1
        let a: [Float] = [0.3, 0.05, 0, 0.2], d: [Float] = [1]
        let tau: Float = 1
        var sampler = ContributionSampler(method: method)
        let trials = 60_000
        var both = 0, first = 0, second = 0
        var out: [ContributionCandidate] = []
        try withFactors(batch: 1, inputs: inputs, outputs: outputs, a: a, d: d) { layer in
            for t in 0..<trials {
                out.removeAll(keepingCapacity: true)
                try sampler.sample(layer, scale: 1, threshold: tau, key: UInt64(t) + 1_000_000, into: &out)
                let cols = Set(out.map(\.col))
                if cols.contains(0) { first += 1 }
                if cols.contains(1) { second += 1 }
                if cols.contains(0) && cols.contains(1) { both += 1 }
                #expect(!cols.contains(2))
            }
        }
        let p = 0.3 * 0.05
        let sd = (p * (1 - p) / Double(trials)).squareRoot()
        #expect(abs(Double(both) / Double(trials) - p) <= 5 * sd)
        #expect(abs(Double(first) / Double(trials) - 0.3) <= 0.01)
        #expect(abs(Double(second) / Double(trials) - 0.05) <= 0.005)
    }

    @Test(arguments: [ContributionSampler.Method.buckets, .rowEnvelope, .automatic])
    func deterministicAndValuesAreTheContributions(method: ContributionSampler.Method) throws {
        let b = 8, inputs = 200, outputs = 50
        let a = randomFloats(b * inputs, key: 41), d = randomFloats(b * outputs, key: 42, scale: 0.1)
        let scale: Float = -0.01 / 8
        var s1 = ContributionSampler(method: method), s2 = ContributionSampler(method: method)
        var o1: [ContributionCandidate] = [], o2: [ContributionCandidate] = []
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) { layer in
            try s1.sample(layer, scale: scale, threshold: 1e-5, key: 77, into: &o1)
            try s2.sample(layer, scale: scale, threshold: 1e-5, key: 77, into: &o2)
        }
        #expect(!o1.isEmpty)
        #expect(o1 == o2)
        for c in o1 {
            let ac: Float = Int(c.col) == inputs ? 1 : a[Int(c.sample) * inputs + Int(c.col)]
            #expect(c.contribution == scale * (d[Int(c.sample) * outputs + Int(c.row)] * ac))
            #expect(c.uniform * 1e-5 < Double(abs(c.contribution)))
        }
        // Horvitz–Thompson: Σ sign(c)·max(|c|, τ) over kept tuples estimates Σ c; loose check on
        // the total mass, which is large compared to τ here.
        let ht = o1.reduce(0.0) { $0 + max(Double(abs($1.contribution)), 1e-5) }
        var total = 0.0
        for s in 0..<b { for r in 0..<outputs {
            let dr = Double(abs(scale * d[s * outputs + r]))
            total += dr
            for c in 0..<inputs { total += dr * Double(abs(a[s * inputs + c])) }
        } }
        #expect(abs(ht - total) < 0.05 * total)
    }
}

@Suite struct ContributionSamplerPerParameterScaleTests {
    @Test(arguments: [ContributionSampler.Method.buckets, .rowEnvelope])
    func inclusionProbabilitiesAreExactWithPerParameterScales(method: ContributionSampler.Method) throws {
        let b = 1, inputs = 6, outputs = 4
        let a = randomFloats(inputs, key: 51), d = randomFloats(outputs, key: 52, scale: 3)
        // Scales spread over two orders of magnitude, like Adam's per-weight preconditioner.
        let scales = randomFloats(outputs * (inputs + 1), key: 53).map { -0.01 * (1 + 99 * abs($0)) }
        let tau: Float = 1.5
        let trials = 40_000
        var hits = [Int](repeating: 0, count: outputs * (inputs + 1))
        var sampler = ContributionSampler(method: method)
        var out: [ContributionCandidate] = []
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) { layer in
            try scales.withUnsafeBufferPointer { k in
                for t in 0..<trials {
                    out.removeAll(keepingCapacity: true)
                    try sampler.sample(layer, scales: k, threshold: tau, key: UInt64(t) + 7_000_000, into: &out)
                    for c in out { hits[Int(c.row) * (inputs + 1) + Int(c.col)] += 1 }
                }
            }
        }
        var checked = 0
        for r in 0..<outputs {
            for c in 0...inputs {
                let k = c == inputs ? scales[outputs * inputs + r] : scales[r * inputs + c]
                let cv = k * (d[r] * (c == inputs ? 1 : a[c]))
                let p = min(1, Double(abs(cv)) / Double(tau))
                let observed = Double(hits[r * (inputs + 1) + c]) / Double(trials)
                let sd = (p * (1 - p) / Double(trials)).squareRoot()
                #expect(abs(observed - p) <= 5 * sd + 1e-12, "r=\(r) c=\(c): p=\(p) observed \(observed)")
                if p > 0.01 && p < 0.99 { checked += 1 }
            }
        }
        #expect(checked > 8)
    }
}

@Suite struct ContributionSamplerEstimateTests {
    /// Horvitz–Thompson: Σ_kept sign(c)·max(|c|, τ) over a subset is unbiased for the subset's Σ c.
    /// Over many independent draws the mean must fall within 4 standard errors of the truth, and
    /// the variance estimate Σ_kept,|c|<τ τ(τ − |c|) must match the observed variance on average.
    @Test(arguments: [ContributionSampler.Method.buckets, .rowEnvelope])
    func subsetSumEstimateIsUnbiased(method: ContributionSampler.Method) throws {
        let b = 4, inputs = 30, outputs = 12
        let a = randomFloats(b * inputs, key: 201), d = randomFloats(b * outputs, key: 202, scale: 0.2)
        let scale: Float = -0.05
        // Subset: the weights of rows 0…5 (signed sum).
        var truth = 0.0, mass = 0.0
        for s in 0..<b { for r in 0..<outputs { for c in 0...inputs {
            let ac: Float = c == inputs ? 1 : a[s * inputs + c]
            let cv = Double(scale * (d[s * outputs + r] * ac))
            mass += abs(cv)
            if r < 6 { truth += cv }
        } } }
        let tau = Float(mass / 60) // about 60 tuples per draw
        var sampler = ContributionSampler(method: method)
        var out: [ContributionCandidate] = []
        let trials = 4000
        var estimates: [Double] = [], varianceEstimates: [Double] = []
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) { layer in
            for t in 0..<trials {
                out.removeAll(keepingCapacity: true)
                try sampler.sample(layer, scale: scale, threshold: tau, key: UInt64(t) &+ 50_000, into: &out)
                var est = 0.0, v = 0.0
                for c in out where c.row < 6 {
                    let x = Double(abs(c.contribution)), t = Double(tau)
                    est += (c.contribution < 0 ? -1 : 1) * max(x, t)
                    if x < t { v += t * (t - x) }
                }
                estimates.append(est)
                varianceEstimates.append(v)
            }
        }
        let mean = estimates.reduce(0, +) / Double(trials)
        let observedVariance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(trials - 1)
        let standardError = (observedVariance / Double(trials)).squareRoot()
        #expect(abs(mean - truth) <= 4 * standardError, "mean \(mean) truth \(truth) se \(standardError)")
        let meanVarianceEstimate = varianceEstimates.reduce(0, +) / Double(trials)
        #expect(abs(meanVarianceEstimate - observedVariance) <= 0.15 * observedVariance)
    }
}
