import Testing
@testable import KymoRecorder

@Suite struct EpochAccumulatorsTests {
    @Test func matchesScalarReferenceBitForBit() throws {
        let p = 1003 // not a multiple of 8: exercises the tail
        var acc = EpochAccumulators(parameterCount: p)
        var refAbs = [Float](repeating: 0, count: p), refSum = refAbs, refSq = refAbs, refMax = refAbs
        for step in 0..<5 {
            let du = randomFloats(p, key: UInt64(100 + step), scale: 0.01)
            let g = randomFloats(p, key: UInt64(200 + step), scale: Float(step + 1))
            try du.withUnsafeBufferPointer { d in try g.withUnsafeBufferPointer { try acc.add(update: d, gradient: $0) } }
            for i in 0..<p {
                refAbs[i] += abs(du[i]); refSum[i] += du[i]
                let sq = g[i] * g[i]
                refSq[i] += sq; refMax[i] = max(refMax[i], abs(g[i]))
            }
        }
        #expect(acc.steps == 5)
        #expect(acc.sumAbsUpdate.map(\.bitPattern) == refAbs.map(\.bitPattern))
        #expect(acc.sumUpdate.map(\.bitPattern) == refSum.map(\.bitPattern))
        #expect(acc.sumSquaredGradient.map(\.bitPattern) == refSq.map(\.bitPattern))
        #expect(acc.maxAbsGradient.map(\.bitPattern) == refMax.map(\.bitPattern))
        acc.reset()
        #expect(acc.steps == 0 && acc.sumUpdate.allSatisfy { $0 == 0 } && acc.maxAbsGradient.allSatisfy { $0 == 0 })
    }

    @Test func rejectsWrongLength() {
        var acc = EpochAccumulators(parameterCount: 10)
        let short = [Float](repeating: 1, count: 9), ok = [Float](repeating: 1, count: 10)
        #expect(throws: RecorderError.shapeMismatch(what: "update", expected: 10, actual: 9)) {
            try short.withUnsafeBufferPointer { s in try ok.withUnsafeBufferPointer { try acc.add(update: s, gradient: $0) } }
        }
    }
}
