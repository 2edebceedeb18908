/// Sums of Float runs in Double, eight lanes wide: lane j adds the elements ≡ j (mod 8) of the
/// whole blocks of eight, in order; the lanes are combined as ((0+1)+(2+3))+((4+5)+(6+7)); the
/// tail is added last, in order. A fixed order, so the same run gives the same bits on every
/// machine and thread. For non-negative terms both this and a one-by-one sum lie within a
/// relative (n−1)·2⁻⁵³ of the exact sum, so they differ by at most about 2n·2⁻⁵³. One-by-one is
/// a chain of n dependent additions; this is n/8.
package enum LaneSum {
    /// Σ x[i] in Double, and whether every x[i] ≥ 0 (false on a NaN).
    /// - Complexity: O(n).
    @inline(__always)
    package static func sum(_ x: UnsafePointer<Float>, count n: Int) -> (sum: Double, nonNegative: Bool) {
        var low = SIMD4<Double>(), high = SIMD4<Double>()
        var valid = SIMDMask<SIMD8<Int32>>(repeating: true)
        let raw = UnsafeRawPointer(x)
        var i = 0
        while i &+ 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            valid .&= v .>= 0
            low += SIMD4<Double>(v.lowHalf)
            high += SIMD4<Double>(v.highHalf)
            i &+= 8
        }
        var nonNegative = all(valid)
        var total = ((low[0] + low[1]) + (low[2] + low[3])) + ((high[0] + high[1]) + (high[2] + high[3]))
        while i < n {
            nonNegative = nonNegative && x[i] >= 0
            total += Double(x[i])
            i &+= 1
        }
        return (total, nonNegative)
    }
}
