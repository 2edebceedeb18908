import Foundation
import Testing
import KymoCore
@testable import KymoSketches

@Suite struct MagnitudeQuantilesTests {
    /// Gradient-like magnitudes spanning many binades, signed, with exact zeros.
    func values(seed: UInt64, n: Int, uniform: Bool) -> [Float] {
        var rng = CounterRNG(key: seed)
        return (0..<n).map { i in
            if i % 97 == 0 { return 0 }
            let sign: Float = rng.next() & 1 == 0 ? 1 : -1
            if uniform { return sign * rng.nextFloat() }
            return sign * Float(exp(-12 * rng.nextDouble()) * 3)   // log-uniform over ~5 decades
        }
    }

    @Test(arguments: [false, true])
    func fractionAboveBoundsAlwaysHold(uniform: Bool) throws {
        var violations = 0, widths = 0.0, queries = 0
        for trial in 0..<5 {
            let xs = values(seed: UInt64(trial), n: 5000, uniform: uniform)
            var sketch = try MagnitudeQuantiles(precisionBits: 6)
            sketch.update(xs)
            #expect(sketch.count == 5000)
            let mags = xs.map { abs($0) }.sorted()
            var rng = CounterRNG(key: 99 + UInt64(trial))
            var thresholds = (0..<200).map { _ in Float(exp(-14 * rng.nextDouble()) * 4) }
            thresholds += mags.enumerated().filter { $0.offset % 50 == 0 }.map(\.element)   // values seen: edge cases
            thresholds += [0, -1, .infinity, .leastNonzeroMagnitude]
            for t in thresholds {
                var lo = 0, hi = mags.count   // first index with mags[i] > t
                while lo < hi { let mid = (lo + hi) / 2; if mags[mid] > t { hi = mid } else { lo = mid + 1 } }
                let truth = Double(mags.count - lo) / Double(mags.count)
                let f = sketch.fractionAbove(t)
                if !(f.lowerBound <= truth && truth <= f.upperBound) { violations += 1 }
                if !(f.lowerBound <= f.estimate && f.estimate <= f.upperBound) { violations += 1 }
                widths += f.upperBound - f.lowerBound
                queries += 1
            }
        }
        #expect(violations == 0)
        // Only one bucket is ever ambiguous: the average width is small.
        #expect(widths / Double(queries) < 0.02)
    }

    @Test func quantileBoundsContainTruthWithRelativeWidth() throws {
        let xs = values(seed: 7, n: 10_000, uniform: false)
        var sketch = try MagnitudeQuantiles(precisionBits: 7)
        for x in xs { sketch.update(x) }
        let mags = xs.map { abs($0) }.sorted()
        for q in stride(from: 0.0, through: 1.0, by: 0.01) {
            let truth = mags[Int((q * Double(mags.count - 1)).rounded(.down))]
            let r = try #require(sketch.quantile(q))
            #expect(r.lowerBound <= truth && truth < r.upperBound || (truth == r.lowerBound))
            if r.lowerBound > 1e-30 { #expect(Double(r.upperBound / r.lowerBound) <= 1 + 1.0 / 128 + 1e-7) }
        }
    }

    @Test func mergeIsExactAndNaNsCounted() throws {
        let xs = values(seed: 8, n: 3000, uniform: false), ys = values(seed: 9, n: 2000, uniform: true)
        var a = try MagnitudeQuantiles(), b = try MagnitudeQuantiles(), whole = try MagnitudeQuantiles()
        a.update(xs); b.update(ys); whole.update(xs); whole.update(ys)
        a.update(.nan); whole.update(.nan)
        try a.merge(b)
        #expect(a == whole)
        #expect(a.nonEmptyBuckets.map(\.count) == whole.nonEmptyBuckets.map(\.count))
        #expect(a.nanCount == 1 && a.count == 5000)
        #expect(throws: SketchError.self) { try a.merge(try MagnitudeQuantiles(precisionBits: 5)) }
        #expect(MagnitudeQuantiles.suggestedPrecisionBits(relativeWidth: 0.01) == 7)
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        var sketch = try MagnitudeQuantiles(precisionBits: 4)
        sketch.update(values(seed: 10, n: 1000, uniform: false))
        sketch.update(.infinity)
        let bytes = sketch.serialized()
        let back = try MagnitudeQuantiles(deserializing: bytes)
        #expect(back == sketch)
        #expect(back.serialized() == bytes)
        expectDamageDetected(bytes) { _ = try MagnitudeQuantiles(deserializing: $0) }
    }
}
