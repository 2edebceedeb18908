import CXXHash
import KymoCore

/// The key hash of every sketch: KymoCore's inlined XXH3-64 with an explicit seed.
///
/// Sketches with several rows derive one independent seed per row from the sketch seed with
/// SplitMix64 (`rowSeed(_:row:)`), so the same seed gives the same sketch on every machine.
public enum SketchHash {
    /// XXH3-64 of the 8 little-endian bytes of `key`.
    /// - Complexity: O(1); about 1 ns.
    ///
    /// `XXH3.hash(_:seed:)` (KymoCore) is the API and this returns identical values (checked
    /// by `sketchHashIsKymoCoresXXH3`). It calls the same C shim directly because KymoCore's
    /// wrapper cannot be inlined across modules without `@inlinable` (which house style
    /// forbids; `@inline(__always)` does not cross modules), and in a sketch's update loop the
    /// call would cost more than the ~0.6 ns hash. This is the only call of the shim outside
    /// KymoCore: every sketch hashes keys through this function.
    @inline(__always)
    static func hash(_ key: UInt64, seed: UInt64) -> UInt64 {
        kymo_xxh3_u64(key.littleEndian, seed)
    }

    /// The seed of row `row` of a sketch seeded with `seed`: output `row` of the SplitMix64
    /// stream keyed by `seed` (distinct rows get statistically independent seeds).
    /// - Complexity: O(1).
    static func rowSeed(_ seed: UInt64, row: Int) -> UInt64 {
        CounterRNG(key: seed).value(at: UInt64(row))
    }

    /// Maps a 64-bit hash to `0..<range` by a multiply-high (Lemire's fast range reduction).
    /// - Complexity: O(1).
    @inline(__always)
    static func reduce(_ hash: UInt64, _ range: UInt64) -> Int {
        Int(truncatingIfNeeded: hash.multipliedFullWidth(by: range).high)
    }

    /// XOR of the hashes of `keys` (for measuring the hash's speed from the benchmarks).
    /// - Complexity: O(n).
    public static func hashAll(_ keys: [UInt64], seed: UInt64) -> UInt64 {
        var acc: UInt64 = 0
        keys.withUnsafeBufferPointer { k in
            for key in k { acc ^= hash(key, seed: seed) }
        }
        return acc
    }
}
