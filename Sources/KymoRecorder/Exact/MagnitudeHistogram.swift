/// A log-bucket histogram of |x| whose bucket index is read straight from the float's bits:
/// `index = (bits(|x|) >> (23 − m)) − base`, i.e. the exponent and the top m mantissa bits.
///
/// This is DDSketch's "bitwise linearly interpolated" index mapping (Masson, Rim, Lee, VLDB 2019,
/// and the DataDog reference implementation): bucket boundaries are
/// `2^e · (1 + j/2^m)`, so the ratio of a bucket's upper to lower bound is at most `1 + 2^−m`, and
/// reporting a bucket's geometric midpoint has relative error at most `α = 2^−m / (2 + 2^−m)`
/// (m = 6: α < 0.78 %). The real quantile sketch type (KymoSketches) may take these counts
/// (index, count) as they are: same mapping, so the merge is exact.
///
/// Range: values below `2^minExponent` (and zeros) go to an underflow count, values at or above
/// `2^(maxExponent+1)` (and ±inf) to an overflow count; NaN is counted apart.
///
/// - Accuracy: as above, relative error ≤ α for every quantile inside the range.
/// - Space: `(maxExponent − minExponent + 1)·2^m` UInt32 counts.
/// - Merge: add counts index by index (same m and range).
package struct MagnitudeHistogram: Sendable, Equatable {
    /// Mantissa bits kept in the index.
    package let mantissaBits: Int
    /// The smallest binary exponent with buckets.
    package let minExponent: Int
    /// The largest binary exponent with buckets.
    package let maxExponent: Int
    /// Bucket counts, index 0 = [2^minExponent, 2^minExponent·(1 + 2^−m)).
    package private(set) var counts: [UInt32]
    /// Values in [0, 2^minExponent), including zeros and subnormals.
    package private(set) var underflow: UInt64 = 0
    /// Values ≥ 2^(maxExponent+1), including infinity.
    package private(set) var overflow: UInt64 = 0
    /// NaN values.
    package private(set) var nan: UInt64 = 0

    /// - Throws: `RecorderError.invalidConfiguration` unless 0 ≤ m ≤ 10 and
    ///   −126 ≤ minExponent ≤ maxExponent ≤ 127.
    /// - Complexity: O(buckets).
    package init(mantissaBits: Int = 6, minExponent: Int = -40, maxExponent: Int = 8) throws {
        guard (0...10).contains(mantissaBits), -126 <= minExponent, minExponent <= maxExponent, maxExponent <= 127 else {
            throw RecorderError.invalidConfiguration(field: "histogram", message: "m=\(mantissaBits) exponents \(minExponent)...\(maxExponent)")
        }
        self.mantissaBits = mantissaBits
        self.minExponent = minExponent
        self.maxExponent = maxExponent
        counts = Array(repeating: 0, count: (maxExponent - minExponent + 1) << mantissaBits)
    }

    /// The bucket index of |x| as a signed offset into `counts` (may be out of range).
    /// - Complexity: O(1): a mask, a shift, a subtract.
    @inline(__always)
    package func rawIndex(_ x: Float) -> Int {
        Int((x.bitPattern & 0x7FFF_FFFF) &>> UInt32(23 - mantissaBits)) - ((minExponent + 127) << mantissaBits)
    }

    /// The lower bound of bucket `index`.
    /// - Complexity: O(1).
    package func lowerBound(ofBucket index: Int) -> Float {
        Float(bitPattern: UInt32((index + ((minExponent + 127) << mantissaBits)) << (23 - mantissaBits)))
    }

    /// The upper bound (exclusive) of bucket `index`.
    /// - Complexity: O(1).
    package func upperBound(ofBucket index: Int) -> Float { lowerBound(ofBucket: index + 1) }

    /// Zeroes all counts.
    /// - Complexity: O(buckets).
    package mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
        underflow = 0; overflow = 0; nan = 0
    }

    /// Counts every |x| of `values`.
    /// - Complexity: O(n); about 1 ns per value (a scatter increment; see docs/RECORDING.md).
    package mutating func add(_ values: UnsafeBufferPointer<Float>) {
        let shift = UInt32(23 - mantissaBits)
        let base = (minExponent + 127) << mantissaBits
        let size = counts.count
        var under: UInt64 = 0, over: UInt64 = 0, nans: UInt64 = 0
        counts.withUnsafeMutableBufferPointer { c in
            for x in values {
                let bits = x.bitPattern & 0x7FFF_FFFF
                let i = Int(bits &>> shift) &- base
                if UInt(bitPattern: i) < UInt(size) {
                    c[i] &+= 1
                } else if i < 0 {
                    under += 1
                } else if bits > 0x7F80_0000 {
                    nans += 1
                } else {
                    over += 1
                }
            }
        }
        underflow += under; overflow += over; nan += nans
    }

    /// The total number of values counted, NaN included.
    package var total: UInt64 { counts.reduce(UInt64(0)) { $0 + UInt64($1) } + underflow + overflow + nan }

    /// The number of counted values whose bucket lies entirely above θ, and the number whose bucket
    /// contains θ: the fraction above θ lies in [above, above + straddling] / total.
    /// - Complexity: O(buckets).
    package func countAbove(_ theta: Float) -> (above: UInt64, straddling: UInt64) {
        var above = overflow
        var straddling: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            if lowerBound(ofBucket: i) > theta { above += UInt64(c) } else if upperBound(ofBucket: i) > theta { straddling += UInt64(c) }
        }
        return (above, straddling)
    }
}
