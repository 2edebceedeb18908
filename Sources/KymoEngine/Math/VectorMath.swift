/// Reductions over the flat parameter vector with a fixed, documented order, vectorized so they
/// cost a small fraction of a step: elements are accumulated in Double in 16 interleaved lanes
/// (element i into lane i mod 16, ascending i), the tail (n mod 16 elements) into a 17th
/// accumulator in order, then lanes are added 0…15 and the tail last. The order depends only
/// on n, so the result is the same on every machine and for any thread count.
package enum VectorMath {
    /// Σ x[i]².
    /// - Complexity: O(n).
    package static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        var sum = SquareSum()
        let blocks = n / 16
        let raw = UnsafeRawPointer(x)
        for b in 0..<blocks {
            sum.add(raw.loadUnaligned(fromByteOffset: b * 64, as: SIMD8<Float>.self),
                    raw.loadUnaligned(fromByteOffset: b * 64 + 32, as: SIMD8<Float>.self))
        }
        for i in (blocks * 16)..<n { sum.addTail(x[i]) }
        return sum.total
    }

    /// max |x[i]|, or +∞ when some x[i] is infinite or NaN (0 for n = 0). Exact: compares the
    /// magnitudes' bit patterns, which for non-negative floats order as the values do, and put
    /// NaN above +∞.
    /// - Complexity: O(n).
    package static func maximumMagnitude(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        typealias U = SIMD8<UInt32>
        let magnitude = U(repeating: 0x7FFF_FFFF)
        var most = U()
        let raw = UnsafeRawPointer(x)
        for v in 0..<(n / 8) {
            most = pointwiseMax(most, raw.loadUnaligned(fromByteOffset: v * 32, as: U.self) & magnitude)
        }
        var bits = most.max()
        for i in (n / 8 * 8)..<n { bits = max(bits, x[i].bitPattern & 0x7FFF_FFFF) }
        let result = Float(bitPattern: bits)
        return result.isFinite ? result : .infinity
    }

    /// With `scale`, first x[i] ← x[i]·scale (in place), then Σ x[i]² of the scaled values.
    /// - Complexity: O(n).
    package static func scaleAndSumOfSquares(_ x: UnsafeMutablePointer<Float>, count n: Int, scale: Float?) -> Double {
        guard let scale else { return sumOfSquares(x, count: n) }
        var sum = SquareSum()
        let blocks = n / 16
        let raw = UnsafeMutableRawPointer(x)
        for b in 0..<blocks {
            let v0 = raw.loadUnaligned(fromByteOffset: b * 64, as: SIMD8<Float>.self) * scale
            let v1 = raw.loadUnaligned(fromByteOffset: b * 64 + 32, as: SIMD8<Float>.self) * scale
            raw.storeBytes(of: v0, toByteOffset: b * 64, as: SIMD8<Float>.self)
            raw.storeBytes(of: v1, toByteOffset: b * 64 + 32, as: SIMD8<Float>.self)
            sum.add(v0, v1)
        }
        for i in (blocks * 16)..<n {
            x[i] *= scale
            sum.addTail(x[i])
        }
        return sum.total
    }

    /// The running Σ x² of the documented order, for passes that produce their values block by
    /// block (the optimizer's update norm): feed every full block of 16 consecutive elements to
    /// `add` in ascending order, then the remaining n mod 16 to `addTail` in order.
    package struct SquareSum {
        private var lanes0 = SIMD8<Double>()
        private var lanes1 = SIMD8<Double>()
        private var tail = 0.0

        package init() {}

        /// Elements 16b…16b+7 and 16b+8…16b+15 of the next block.
        /// - Complexity: O(1).
        @inline(__always)
        package mutating func add(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>) {
            // Lane by lane (the generic SIMD conversion is not inlined; this becomes vcvtps2pd).
            let d0 = SIMD8<Double>(Double(v0[0]), Double(v0[1]), Double(v0[2]), Double(v0[3]),
                                   Double(v0[4]), Double(v0[5]), Double(v0[6]), Double(v0[7]))
            let d1 = SIMD8<Double>(Double(v1[0]), Double(v1[1]), Double(v1[2]), Double(v1[3]),
                                   Double(v1[4]), Double(v1[5]), Double(v1[6]), Double(v1[7]))
            lanes0 += d0 * d0
            lanes1 += d1 * d1
        }

        /// `add` with each square and its sum as one fused multiply-add: the same bits (a Float's
        /// square is exact in Double, so rounding d·d + lane once is rounding lane + (d·d)), fewer
        /// instructions for a pass that is not bound by the sums' latency (the optimizer's).
        /// - Complexity: O(1).
        @inline(__always)
        package mutating func addFused(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>) {
            let d0 = SIMD8<Double>(Double(v0[0]), Double(v0[1]), Double(v0[2]), Double(v0[3]),
                                   Double(v0[4]), Double(v0[5]), Double(v0[6]), Double(v0[7]))
            let d1 = SIMD8<Double>(Double(v1[0]), Double(v1[1]), Double(v1[2]), Double(v1[3]),
                                   Double(v1[4]), Double(v1[5]), Double(v1[6]), Double(v1[7]))
            lanes0.addProduct(d0, d0)
            lanes1.addProduct(d1, d1)
        }

        /// One element past the last full block.
        /// - Complexity: O(1).
        @inline(__always)
        package mutating func addTail(_ x: Float) {
            let d = Double(x)
            tail += d * d
        }

        /// Lanes 0…15 in order, then the tail.
        /// - Complexity: O(1).
        package var total: Double {
            var total = 0.0
            for lane in 0..<8 { total += lanes0[lane] }
            for lane in 0..<8 { total += lanes1[lane] }
            return total + tail
        }
    }
}
