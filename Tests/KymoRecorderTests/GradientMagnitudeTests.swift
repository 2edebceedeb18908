import Testing
@testable import KymoRecorder

@Suite struct GradientMagnitudeTests {
    @Test func thresholdCountsAreExact() throws {
        var g = randomFloats(10_007, key: 5, scale: 0.1)
        g[3] = .nan; g[4] = .infinity; g[5] = -.infinity; g[6] = 0.05; g[7] = -0.05
        let thresholds: [Float] = [0, 0.001, 0.01, 0.05, 0.09]
        let counter = try ThresholdCounter(thresholds: thresholds)
        let counts = g.withUnsafeBufferPointer { counter.counts($0) }
        let brute = thresholds.map { t in g.filter { abs($0) > t }.count }
        #expect(counts == brute)
        #expect(throws: RecorderError.self) { try ThresholdCounter(thresholds: [0.1, 0.01]) }
    }

    @Test func histogramIndexMatchesBucketBounds() throws {
        let h = try MagnitudeHistogram(mantissaBits: 6, minExponent: -30, maxExponent: 4)
        for x in randomFloats(2000, key: 9, scale: 8) where abs(x) >= 0x1p-30 && abs(x) < 0x1p5 {
            let i = h.rawIndex(x)
            #expect(i >= 0 && i < h.counts.count)
            #expect(h.lowerBound(ofBucket: i) <= abs(x) && abs(x) < h.upperBound(ofBucket: i))
            // Bucket width ratio at most 1 + 2^-6.
            #expect(h.upperBound(ofBucket: i) / h.lowerBound(ofBucket: i) <= 1 + 0x1p-6)
        }
    }

    @Test func histogramCountsAndThresholdBracketsTheExactFraction() throws {
        var h = try MagnitudeHistogram(mantissaBits: 5, minExponent: -20, maxExponent: 2)
        var g = randomFloats(50_000, key: 12, scale: 0.3)
        g[0] = 0; g[1] = .nan; g[2] = 100; g[3] = 1e-30
        g.withUnsafeBufferPointer { h.add($0) }
        #expect(h.total == 50_000)
        #expect(h.overflow == 1 && h.nan == 1 && h.underflow >= 2) // 100; NaN; 0 and 1e-30
        #expect(h.total == h.counts.reduce(0) { $0 + UInt64($1) } + h.underflow + h.overflow + h.nan)
        for theta: Float in [0.001, 0.01, 0.1, 0.25] {
            let exact = UInt64(g.filter { abs($0) > theta }.count)
            let (above, straddle) = h.countAbove(theta)
            #expect(above <= exact && exact <= above + straddle)
        }
        // Snapped thresholds sit just below a boundary: exact counts of |g| > θ (NaN excluded).
        for theta: Float in [0.001, 0.01, 0.1, 0.25] {
            let snapped = MagnitudeHistogram.snap(theta, mantissaBits: 5)
            #expect(snapped >= theta && snapped < theta * (1 + 1.0 / 32))
            #expect(h.isSnapped(snapped) && !h.isSnapped(snapped.nextDown))
            let exact = UInt64(g.filter { abs($0) > snapped }.count)
            #expect(h.count(above: snapped) == exact)
            // Values exactly at the boundary count, values exactly at θ' do not.
            var edge = try MagnitudeHistogram(mantissaBits: 5, minExponent: -20, maxExponent: 2)
            let e: [Float] = [snapped, snapped.nextUp, -snapped.nextUp, snapped.nextDown]
            e.withUnsafeBufferPointer { edge.add($0) }
            #expect(edge.count(above: snapped) == 2)
        }
        h.reset()
        #expect(h.total == 0)
    }
}

@Suite struct MagnitudeHistogramSIMDTests {
    /// The vectorized `add` against a per-value reference from `rawIndex`, on every kind of value
    /// (zeros, subnormals, both range edges, ±inf, NaN with payloads, negatives), at lengths that
    /// exercise the 8-wide body and the scalar tails.
    @Test func vectorizedAddMatchesPerValueReference() throws {
        var base = randomFloats(4_099, key: 77, scale: 4)
        let specials: [Float] = [0, -0, .leastNonzeroMagnitude, Float(0x1p-40), Float(0x1p-40).nextDown, Float(0x1p9), Float(0x1p9).nextDown, -Float(0x1p9),
                                 .infinity, -.infinity, .nan, Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFF80_0001),
                                 .greatestFiniteMagnitude, 1e-20, -3.5]
        for (i, x) in specials.enumerated() { base[i * 7] = x }
        // Runs of ±0 (a dead unit's row), aligned and not, and a block of seven zeros and one value:
        // the all-zero fast path must count exactly the blocks it skips.
        for i in 200..<264 { base[i] = i % 3 == 0 ? -0 : 0 }
        for i in 301..<330 { base[i] = 0 }
        for i in 400..<407 { base[i] = 0 }
        base[407] = 1e-3
        for n in [0, 3, 8, 13, 64, 270, 4_099] {
            let values = Array(base.prefix(n))
            var h = try MagnitudeHistogram(mantissaBits: 6, minExponent: -40, maxExponent: 8)
            values.withUnsafeBufferPointer { h.add($0) }
            var counts = [UInt32](repeating: 0, count: h.bucketCount)
            var under: UInt64 = 0, over: UInt64 = 0, nan: UInt64 = 0
            for x in values {
                if x.isNaN { nan += 1; continue }
                let i = h.rawIndex(x)
                if i < 0 { under += 1 } else if i >= h.bucketCount { over += 1 } else { counts[i] += 1 }
            }
            #expect(h.counts == counts)
            #expect(h.underflow == under && h.overflow == over && h.nan == nan)
            #expect(h.total == UInt64(n))
        }
    }
}
