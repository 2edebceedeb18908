#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KymoCore

/// Seeded input streams for the benchmarks and ratio scripts (which live in a separate package
/// and cannot reach KymoCore's package-level generator).
public enum SketchBenchmarkInputs {
    /// `count` keys drawn from a Zipf(`exponent`) law over `universe` distinct 64-bit keys.
    /// - Complexity: O(universe + count · log universe).
    public static func zipfKeys(count: Int, universe: Int, exponent: Double, seed: UInt64) -> [UInt64] {
        var cdf = [Double](repeating: 0, count: universe)
        var acc = 0.0
        for i in 0..<universe { acc += 1 / pow(Double(i + 1), exponent); cdf[i] = acc }
        var rng = CounterRNG(key: seed)
        return (0..<count).map { _ in
            let u = rng.nextDouble() * acc
            var lo = 0, hi = universe - 1
            while lo < hi { let mid = (lo + hi) / 2; if cdf[mid] > u { hi = mid } else { lo = mid + 1 } }
            return CounterRNG.mix(UInt64(lo) &+ 0x1234_5678)
        }
    }

    /// `count` uniformly random 64-bit keys.
    /// - Complexity: O(count).
    public static func uniformKeys(count: Int, seed: UInt64) -> [UInt64] {
        var rng = CounterRNG(key: seed)
        return (0..<count).map { _ in rng.next() }
    }

    /// `count` floats uniform in [lo, hi).
    /// - Complexity: O(count).
    public static func uniformFloats(count: Int, in lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
        var rng = CounterRNG(key: seed)
        return (0..<count).map { _ in lo + (hi - lo) * rng.nextFloat() }
    }

    /// `count` log-uniform magnitudes over [1e-8, 1) with random signs (gradient-like).
    /// - Complexity: O(count).
    public static func gradientLike(count: Int, seed: UInt64) -> [Float] {
        var rng = CounterRNG(key: seed)
        return (0..<count).map { _ in
            let m = Float(exp(-18.4 * rng.nextDouble()))
            return rng.next() & 1 == 0 ? m : -m
        }
    }
}

extension SketchBenchmarkInputs {
    /// The floor for a count-min update on this machine: a bare loop adding `weights[i]` to one
    /// counter per row of a `4 × 2^16` table, indices from XXH3 with four fixed seeds; no sketch
    /// object, no bookkeeping. Used by the ratio script as the in-run peer of `CountMinSketch`.
    /// - Complexity: O(n).
    public static func bareCountMinPass(_ keys: [UInt64], _ weights: [Float], table: inout [Float]) {
        precondition(table.count == 4 << 16 && keys.count == weights.count)
        table.withUnsafeMutableBufferPointer { t in
            keys.withUnsafeBufferPointer { k in
                weights.withUnsafeBufferPointer { w in
                    for i in k.indices {
                        let key = k[i], weight = w[i]
                        t[Int(SketchHash.hash(key, seed: 11) >> 48)] += weight
                        t[1 << 16 | Int(SketchHash.hash(key, seed: 22) >> 48)] += weight
                        t[2 << 16 | Int(SketchHash.hash(key, seed: 33) >> 48)] += weight
                        t[3 << 16 | Int(SketchHash.hash(key, seed: 44) >> 48)] += weight
                    }
                }
            }
        }
    }
}
