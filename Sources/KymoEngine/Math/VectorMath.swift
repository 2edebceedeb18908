/// Reductions over the flat parameter vector with a fixed, documented order, vectorized so they
/// cost a small fraction of a step: elements are accumulated in Double in 16 interleaved lanes
/// (element i into lane i mod 16, ascending i), the tail (n mod 16 elements) into a 17th
/// accumulator in order, then lanes are added 0…15 and the tail last. The order depends only
/// on n, so the result is the same on every machine and for any thread count.
package enum VectorMath {
    /// Σ x[i]².
    /// - Complexity: O(n).
    package static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        scaleAndSumOfSquares(UnsafeMutablePointer(mutating: x), count: n, scale: nil)
    }

    /// With `scale`, first x[i] ← x[i]·scale (in place), then Σ x[i]² of the scaled values.
    /// - Complexity: O(n).
    package static func scaleAndSumOfSquares(_ x: UnsafeMutablePointer<Float>, count n: Int, scale: Float?) -> Double {
        var acc0 = SIMD8<Double>()
        var acc1 = SIMD8<Double>()
        let blocks = n / 16
        let raw = UnsafeMutableRawPointer(x)
        for b in 0..<blocks {
            var v0 = raw.loadUnaligned(fromByteOffset: b * 64, as: SIMD8<Float>.self)
            var v1 = raw.loadUnaligned(fromByteOffset: b * 64 + 32, as: SIMD8<Float>.self)
            if let scale {
                v0 *= scale
                v1 *= scale
                raw.storeBytes(of: v0, toByteOffset: b * 64, as: SIMD8<Float>.self)
                raw.storeBytes(of: v1, toByteOffset: b * 64 + 32, as: SIMD8<Float>.self)
            }
            let d0 = SIMD8<Double>(v0)
            let d1 = SIMD8<Double>(v1)
            acc0 += d0 * d0
            acc1 += d1 * d1
        }
        var tail = 0.0
        for i in (blocks * 16)..<n {
            if let scale { x[i] *= scale }
            let d = Double(x[i])
            tail += d * d
        }
        var total = 0.0
        for lane in 0..<8 { total += acc0[lane] }
        for lane in 0..<8 { total += acc1[lane] }
        return total + tail
    }
}
