import Testing
@testable import KymoRecorder

@Suite struct StepGradientPassTests {
    @Test(arguments: [false, true])
    func fusedPassEqualsTheSeparateKernels(snapped: Bool) throws {
        let p = 10_000 + 3 // several chunks and a tail
        let raw: [Float] = [1e-4, 1e-3, 1e-2]
        let list = snapped ? raw.map { MagnitudeHistogram.snap($0, mantissaBits: 6) } : raw
        let thresholds = try ThresholdCounter(thresholds: list)
        var fusedAcc = EpochAccumulators(parameterCount: p), separateAcc = fusedAcc
        var fusedHist = try MagnitudeHistogram(), separateHist = fusedHist
        let pass = try StepGradientPass(thresholds: list, histogram: fusedHist)
        #expect(pass.countsFromHistogram == snapped)
        for step in 0..<3 {
            let u = randomFloats(p, key: UInt64(300 + step), scale: 1e-3)
            let g = randomFloats(p, key: UInt64(400 + step), scale: 2e-2)
            let summary = try u.withUnsafeBufferPointer { ub in
                try g.withUnsafeBufferPointer { gb in
                    try pass.run(update: ub, gradient: gb, accumulators: &fusedAcc, histogram: &fusedHist)
                }
            }
            try u.withUnsafeBufferPointer { ub in try g.withUnsafeBufferPointer { try separateAcc.add(update: ub, gradient: $0) } }
            separateHist.reset()
            g.withUnsafeBufferPointer { separateHist.add($0) }
            #expect(summary.aboveCounts == g.withUnsafeBufferPointer { thresholds.counts($0) })
        }
        #expect(fusedAcc.sumAbsUpdate.map(\.bitPattern) == separateAcc.sumAbsUpdate.map(\.bitPattern))
        #expect(fusedAcc.sumSquaredGradient.map(\.bitPattern) == separateAcc.sumSquaredGradient.map(\.bitPattern))
        #expect(fusedAcc.maxAbsGradient == separateAcc.maxAbsGradient && fusedAcc.steps == 3)
        #expect(fusedHist == separateHist)
    }

    /// `summarize` (the preparer's histogram and counts, without accumulators) gives the counts
    /// and histogram of the fused `run`, with NaN, ±inf and zeros among the values.
    @Test(arguments: [false, true])
    func summarizeEqualsTheFusedPass(snapped: Bool) throws {
        let p = 9_000 + 5
        let raw: [Float] = [1e-5, 1e-3, 1e-1]
        let list = snapped ? raw.map { MagnitudeHistogram.snap($0, mantissaBits: 6) } : raw
        var acc = EpochAccumulators(parameterCount: p)
        var fusedHist = try MagnitudeHistogram(), summaryHist = fusedHist
        let pass = try StepGradientPass(thresholds: list, histogram: fusedHist)
        var g = randomFloats(p, key: 77, scale: 2e-2)
        for (i, x) in [Float.nan, .infinity, -.infinity, 0, -0.0, 1e30].enumerated() { g[i * 997] = x }
        let u = randomFloats(p, key: 78, scale: 1e-3)
        let fused = try u.withUnsafeBufferPointer { ub in
            try g.withUnsafeBufferPointer { try pass.run(update: ub, gradient: $0, accumulators: &acc, histogram: &fusedHist) }
        }
        [Float](repeating: 1, count: 8).withUnsafeBufferPointer { summaryHist.add($0) }   // reset by summarize
        let summary = g.withUnsafeBufferPointer { pass.summarize(gradient: $0, histogram: &summaryHist) }
        #expect(summary == fused)
        #expect(summaryHist == fusedHist)
        #expect(summaryHist.nan == 1 && summaryHist.overflow >= 2)
    }
}
