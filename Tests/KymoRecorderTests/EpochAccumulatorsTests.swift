import KymoCore
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

    /// Steps in one pass give the bits of one single pass per step (and the same callbacks).
    @Test func batchPassEqualsSinglePasses() throws {
        let p = 9001
        var single = EpochAccumulators(parameterCount: p), paired = single
        var rng = CounterRNG(key: 9)
        for _ in 0..<3 {
            let u = (0..<2).map { _ in (0..<p).map { _ in (rng.nextFloat() - 0.5) * 1e-3 } }
            let g = (0..<2).map { _ in (0..<p).map { _ in (rng.nextFloat() - 0.5) * 3e-2 } }
            for k in 0..<2 {
                try u[k].withUnsafeBufferPointer { ub in try g[k].withUnsafeBufferPointer { try single.add(update: ub, gradient: $0) } }
            }
            var chunks: [Int] = []
            try u[0].withUnsafeBufferPointer { u0 in try u[1].withUnsafeBufferPointer { u1 in
                try g[0].withUnsafeBufferPointer { g0 in try g[1].withUnsafeBufferPointer { g1 in
                    try paired.addBatchChunked(updates: [u0, u1], gradients: [g0, g1], chunk: 4096) { start, end in chunks.append(end - start) }
                } }
            } }
            #expect(chunks == [4096, 4096, 809])
        }
        #expect(paired.steps == single.steps && paired.steps == 6)
        #expect(paired.sumAbsUpdate.map(\.bitPattern) == single.sumAbsUpdate.map(\.bitPattern))
        #expect(paired.sumUpdate.map(\.bitPattern) == single.sumUpdate.map(\.bitPattern))
        #expect(paired.sumSquaredGradient.map(\.bitPattern) == single.sumSquaredGradient.map(\.bitPattern))
        #expect(paired.maxAbsGradient.map(\.bitPattern) == single.maxAbsGradient.map(\.bitPattern))
    }

    /// Batches of 7 steps (four, two, then one in registers) with special values — NaN, ±0,
    /// ±inf, subnormals — give the bits of one pass per step.
    @Test func oddBatchesWithSpecialValuesEqualSinglePasses() throws {
        let p = 4099
        var single = EpochAccumulators(parameterCount: p), batched = single
        var rng = CounterRNG(key: 10)
        let specials: [Float] = [.nan, 0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
        func value(_ scale: Float) -> Float {
            rng.next() % 17 == 0 ? specials[Int(rng.next() % UInt64(specials.count))] : (rng.nextFloat() - 0.5) * scale
        }
        for _ in 0..<2 {
            let u = (0..<7).map { _ in (0..<p).map { _ in value(1e-3) } }
            let g = (0..<7).map { _ in (0..<p).map { _ in value(3e-2) } }
            for k in 0..<7 {
                try u[k].withUnsafeBufferPointer { ub in try g[k].withUnsafeBufferPointer { try single.add(update: ub, gradient: $0) } }
            }
            let us = u.map { v in UnsafeBufferPointer(start: v.withUnsafeBufferPointer { $0.baseAddress! }, count: p) }
            let gs = g.map { v in UnsafeBufferPointer(start: v.withUnsafeBufferPointer { $0.baseAddress! }, count: p) }
            try withExtendedLifetime((u, g)) {
                try batched.addBatchChunked(updates: us, gradients: gs, chunk: 1000) { _, _ in }
            }
        }
        #expect(batched.steps == 14)
        #expect(batched.sumAbsUpdate.map(\.bitPattern) == single.sumAbsUpdate.map(\.bitPattern))
        #expect(batched.sumUpdate.map(\.bitPattern) == single.sumUpdate.map(\.bitPattern))
        #expect(batched.sumSquaredGradient.map(\.bitPattern) == single.sumSquaredGradient.map(\.bitPattern))
        #expect(batched.maxAbsGradient.map(\.bitPattern) == single.maxAbsGradient.map(\.bitPattern))
        #expect(single.sumUpdate.contains { $0.isNaN } && single.maxAbsGradient.contains { $0 == .infinity })
    }

    @Test func rejectsWrongLength() {
        var acc = EpochAccumulators(parameterCount: 10)
        let short = [Float](repeating: 1, count: 9), ok = [Float](repeating: 1, count: 10)
        #expect(throws: RecorderError.shapeMismatch(what: "update", expected: 10, actual: 9)) {
            try short.withUnsafeBufferPointer { s in try ok.withUnsafeBufferPointer { try acc.add(update: s, gradient: $0) } }
        }
    }
}
