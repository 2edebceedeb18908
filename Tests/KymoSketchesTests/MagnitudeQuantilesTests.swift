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

    /// A gradient-like histogram (a zero bucket, then a range some 30 binades up, with holes):
    /// version 2 keeps only runs of non-empty buckets, reads back to the same sketch and answers,
    /// and is far smaller than one dense range.
    @Test func runsKeepOnlyNonEmptyBucketsAndRoundTrip() throws {
        var sketch = try MagnitudeQuantiles(precisionBits: 6)
        sketch.update(0, weight: 40_000)
        sketch.update(values(seed: 11, n: 5000, uniform: false).map { $0 * 1e-3 })
        sketch.update(Float(1e-20))                      // a lone bucket far below the rest
        sketch.update(.nan)
        let runs = sketch.runs()
        #expect(runs.count >= 3)
        for (a, b) in zip(runs, runs.dropFirst()) { #expect(b.start - (a.start + a.count) >= MagnitudeQuantiles.runGap) }
        let bytes = sketch.serialized()
        #expect(bytes[4] == 2)
        let dense = 8 * ((sketch.nonEmptyRange()!.1) - (sketch.nonEmptyRange()!.0) + 1)
        #expect(bytes.count * 4 < dense, "\(bytes.count) bytes vs \(dense) dense")
        let back = try MagnitudeQuantiles(deserializing: bytes)
        #expect(back == sketch)
        #expect(back.nanCount == 1 && back.count == sketch.count)
        for t: Float in [0, 1e-21, 1e-20, 1e-6, 1e-4, 1e-3, 3e-3] { #expect(back.fractionAbove(t) == sketch.fractionAbove(t)) }
        for q in [0.0, 0.5, 0.9, 0.999, 1.0] { #expect(back.quantile(q)! == sketch.quantile(q)!) }
        expectDamageDetected(bytes) { _ = try MagnitudeQuantiles(deserializing: $0) }
        // Counts beyond UInt32 switch to 8-byte counts.
        var wide = sketch
        wide.update(1, weight: UInt64(UInt32.max) + 5)
        let wideBytes = wide.serialized()
        #expect(wideBytes[33] == 8)
        #expect(try MagnitudeQuantiles(deserializing: wideBytes) == wide)
    }

    /// Version 1 buffers (one dense UInt64 range) written by older recordings still read, to the
    /// same sketch; runs out of order are refused, naming the field.
    @Test func versionOneStillReadsAndBadRunsAreRefused() throws {
        var sketch = try MagnitudeQuantiles(precisionBits: 5)
        sketch.update(0, weight: 7)
        sketch.update(values(seed: 12, n: 800, uniform: false))
        let (lo, hi) = sketch.nonEmptyRange()!
        var body = ByteWriter()
        body.write(UInt8(5)); body.write(sketch.count); body.write(sketch.nanCount)
        body.write(UInt32(lo))
        body.write(array: (lo...hi).map { sketch.buckets[$0 - sketch.minIndex] })
        func sealed(version: UInt16, _ body: [UInt8]) -> [UInt8] {
            var w = ByteWriter()
            w.write(raw: Array("KYSK".utf8)); w.write(version); w.write(UInt16(6)); w.write(UInt64(body.count))
            w.write(raw: body)
            let checksum = w.bytes.withUnsafeBytes { XXH3.hash($0, seed: 0) }
            w.write(checksum)
            return w.bytes
        }
        let v1 = try MagnitudeQuantiles(deserializing: sealed(version: 1, body.bytes))
        #expect(v1 == sketch)
        #expect(v1.fractionAbove(1e-3) == sketch.fractionAbove(1e-3))
        // Version 2 with its two runs swapped.
        var two = try MagnitudeQuantiles(precisionBits: 5)
        two.update(0, weight: 3); two.update(1, weight: 2)
        let v2 = Array(two.serialized().dropLast(8))
        let runs = Array(v2[38...])                     // run 1: 8 + 4 bytes, run 2: 8 + 4 bytes
        #expect(runs.count == 24)
        let swapped = Array(v2[16..<38]) + Array(runs[12..<24]) + Array(runs[0..<12])
        let refused = sketchError { _ = try MagnitudeQuantiles(deserializing: sealed(version: 2, swapped)) }
        #expect(refused?.description.contains("'run'") == true, "\(String(describing: refused))")
        let future = sketchError { _ = try MagnitudeQuantiles(deserializing: sealed(version: 3, Array(v2[16...]))) }
        #expect(future?.description.contains("'version'") == true, "\(String(describing: future))")
    }
}
