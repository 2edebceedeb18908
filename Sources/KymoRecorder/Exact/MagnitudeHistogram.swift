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
/// `2^(maxExponent+1)` and ±inf to an overflow count, NaN to a NaN count.
///
/// Speed: the index is clamped without branches into `[underflow, buckets…, overflow]`, and
/// four interleaved count tables take consecutive values, so runs of equal buckets (gradients
/// cluster) do not serialize on one memory location; the eight indices of a vector are stored to
/// a scratch and reloaded as scalars rather than extracted lane by lane, and eight zeros in a row
/// (rows of dead units, ≈ 15 % of g at seed scale) are counted in a register: 0.73 → 0.58–0.61
/// ns/value in `kymo-ratios recorder` (its gradient has 20 % zeros, scattered). Clamping with the
/// generic `pointwiseMin`/`pointwiseMax` instead of masked replacement measured 0.8–1.0 ns/value:
/// they were not inlined.
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
    /// Slot 0 underflow, slots 1…buckets the buckets, slot buckets+1 overflow, slot buckets+2
    /// NaN; 4 lanes each, lane-interleaved (`slot·4 + lane`).
    private var lanes: [UInt32]
    /// The number of buckets.
    package let bucketCount: Int

    /// Bucket counts, index 0 = [2^minExponent, 2^minExponent·(1 + 2^−m)).
    /// - Complexity: O(buckets).
    package var counts: [UInt32] { (0..<bucketCount).map { slot($0 + 1) } }
    /// Values in [0, 2^minExponent), including zeros and subnormals.
    package var underflow: UInt64 { UInt64(slot(0)) }
    /// Values ≥ 2^(maxExponent+1), and ±inf.
    package var overflow: UInt64 { UInt64(slot(bucketCount + 1)) }
    /// NaN values.
    package var nan: UInt64 { UInt64(slot(bucketCount + 2)) }

    private func slot(_ i: Int) -> UInt32 { lanes[4 * i] &+ lanes[4 * i + 1] &+ lanes[4 * i + 2] &+ lanes[4 * i + 3] }

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
        bucketCount = (maxExponent - minExponent + 1) << mantissaBits
        lanes = Array(repeating: 0, count: 4 * (bucketCount + 3))
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
        for i in lanes.indices { lanes[i] = 0 }
    }

    /// Counts every |x| of `values`. Counts are UInt32: at most 2³² − 1 values per histogram
    /// (reset per step).
    /// - Complexity: O(n); under 1 ns per value (see docs/RECORDING.md).
    package mutating func add(_ values: UnsafeBufferPointer<Float>) {
        let shift = UInt32(23 - mantissaBits)
        // raw index + 1, clamped to [0, buckets + 1]; in UInt32 arithmetic: below-range values
        // wrap to huge and are mapped to 0 by the comparison below.
        let base = UInt32(((minExponent + 127) << mantissaBits) - 1)
        let top = UInt32(bucketCount + 1)
        let nanSlot = bucketCount + 2
        @inline(__always) func slotOf(_ x: Float) -> Int {
            let bits = x.bitPattern & 0x7FFF_FFFF
            let key = bits &>> shift
            // key < base + 1 → underflow (0); key − base > top → overflow (top); NaN apart.
            let i = key &- base
            let under = key <= base
            let clamped = Int(under ? 0 : min(i, top))
            return bits > 0x7F80_0000 ? nanSlot : clamped
        }
        let n = values.count
        lanes.withUnsafeMutableBufferPointer { c in
            let p = c.baseAddress!
            var i = 0
            if let start = values.baseAddress, n >= 8 {
                i = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 8) { scratch in
                    Self.addVectors(start, count: n, into: p, scratch: scratch.baseAddress!, shift: shift, base: base, top: top,
                                    nanSlot: UInt32(nanSlot))
                }
            }
            while i + 4 <= n {
                p[slotOf(values[i]) &* 4] &+= 1
                p[slotOf(values[i + 1]) &* 4 &+ 1] &+= 1
                p[slotOf(values[i + 2]) &* 4 &+ 2] &+= 1
                p[slotOf(values[i + 3]) &* 4 &+ 3] &+= 1
                i += 4
            }
            while i < n {
                p[slotOf(values[i]) &* 4] &+= 1
                i += 1
            }
        }
    }

    /// `add`'s vector loop over the first `count − count % 8` values; returns how many it
    /// counted. Eight slots at a time in SIMD (the mapping of `add`'s `slotOf`, lane-wise), stored
    /// to `scratch`, then eight scalar increments into the four lane tables (values 8j + k go to
    /// lane k mod 4): the store and reloads are cheaper than extracting the lanes from the
    /// register. Eight ±0 in a row (a dead unit's row of g) are one count in a register.
    /// - Complexity: O(count).
    private static func addVectors(_ values: UnsafePointer<Float>, count n: Int, into p: UnsafeMutablePointer<UInt32>,
                                   scratch s: UnsafeMutablePointer<UInt32>, shift: UInt32, base: UInt32, top: UInt32,
                                   nanSlot: UInt32) -> Int {
        let vShift = SIMD8<UInt32>(repeating: shift)
        let vMask = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        let vBase = SIMD8<UInt32>(repeating: base)
        let vTop = SIMD8<UInt32>(repeating: top)
        let vNaNBits = SIMD8<Int32>(repeating: 0x7F80_0000)
        let vNaNSlot = SIMD8<UInt32>(repeating: nanSlot)
        let vLane = SIMD8<UInt32>(0, 1, 2, 3, 0, 1, 2, 3)
        let raw = UnsafeRawPointer(values)
        let out = UnsafeMutableRawPointer(s)
        var zeros: UInt32 = 0
        var i = 0
        while i + 8 <= n {
            let bits = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<UInt32>.self) & vMask
            if bits == SIMD8<UInt32>(repeating: 0) {
                zeros &+= 8
                i += 8
                continue
            }
            let key = bits &>> vShift
            var slot = key &- vBase
            slot.replace(with: vTop, where: slot .> vTop)
            slot.replace(with: SIMD8<UInt32>(repeating: 0), where: key .<= vBase)
            // bits ≤ 0x7FFF_FFFF: the signed comparison is exact.
            slot.replace(with: vNaNSlot, where: SIMD8<Int32>(truncatingIfNeeded: bits) .> vNaNBits)
            out.storeBytes(of: slot &<< 2 &+ vLane, as: SIMD8<UInt32>.self)
            p[Int(s[0])] &+= 1
            p[Int(s[1])] &+= 1
            p[Int(s[2])] &+= 1
            p[Int(s[3])] &+= 1
            p[Int(s[4])] &+= 1
            p[Int(s[5])] &+= 1
            p[Int(s[6])] &+= 1
            p[Int(s[7])] &+= 1
            i += 8
        }
        p[0] &+= zeros
        return i
    }

    /// The total number of values counted.
    /// - Complexity: O(buckets).
    package var total: UInt64 { lanes.reduce(UInt64(0)) { $0 + UInt64($1) } }

    /// The threshold nearest above θ that the histogram counts exactly: the largest float below
    /// the first bucket boundary greater than θ, so `|x| > snap(θ)` ⇔ `|x| ≥ that boundary`.
    /// `θ ≤ snap(θ) < θ·(1 + 2^−m)`. Record-time thresholds are snapped with it.
    /// - Complexity: O(1).
    package static func snap(_ theta: Float, mantissaBits: Int) -> Float {
        Float(bitPattern: theta.bitPattern | ((UInt32(1) << UInt32(23 - mantissaBits)) - 1))
    }

    /// Whether θ is a snapped threshold whose boundary lies in this histogram's range (so
    /// `count(above:)` is exact).
    /// - Complexity: O(1).
    package func isSnapped(_ theta: Float) -> Bool {
        guard theta.isFinite, theta >= 0, Self.snap(theta, mantissaBits: mantissaBits) == theta else { return false }
        let boundary = rawIndex(theta) + 1
        return boundary >= 0 && boundary <= bucketCount
    }

    /// The exact number of counted values with |x| > θ (NaN excluded) for a snapped θ
    /// (`isSnapped`); nil otherwise.
    /// - Complexity: O(buckets).
    package func count(above theta: Float) -> UInt64? {
        guard isSnapped(theta) else { return nil }
        var total = overflow
        for i in (rawIndex(theta) + 1)..<bucketCount { total += UInt64(slot(i + 1)) }
        return total
    }

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
