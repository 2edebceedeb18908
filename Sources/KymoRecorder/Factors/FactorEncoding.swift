/// T3's number format: a row of factors (one sample's a_s or δ_s in one layer) as IEEE binary16
/// values times one power-of-two scale, `x̂ = Float(h)·2^e`.
///
/// **Encoding.** For a row with largest finite |x| = m > 0, `2^e = 2^max(⌊log₂ m⌋ − 14, −126)`, so
/// m/2^e < 2^15 sits well inside binary16's range (max 65504), in [2^14, 2^15) unless m is
/// below 2⁻¹¹² (then the scale stays at Float's smallest normal power); each value is
/// `h = Float16(x / 2^e)`, rounded to nearest (the division by a power of two is exact). A row of
/// zeros gets scale 1. Non-finite values stay non-finite (they never reach the recorder: a
/// non-finite loss stops the run first).
///
/// **Error bound** (per value, deterministic): binary16 has an 11-bit significand, so a value
/// in the normal range is off by at most half an ulp, 2⁻¹¹·|x|; below 2⁻¹⁴ (in units of the scale)
/// values are subnormal with spacing 2⁻²⁴, so off by at most 2⁻²⁵. Hence
///
///     |x̂ − x| ≤ 2⁻¹¹·|x̂| + 2⁻²⁵·2^e      (`bound(decoded:scale:)`)
///
/// stated in terms of the decoded value (|x| ≤ |x̂|(1 + 2⁻¹¹) + 2⁻²⁵·2^e, and the rounding of a
/// value at x̂ is at most half an ulp of x̂'s binade, which is ≤ 2⁻¹¹·|x̂| for normal x̂). Values
/// below 2⁻²⁴·2^e (about 2⁻³⁸·m) round to 0 or to the smallest subnormal, within the second term.
package enum FactorEncoding {
    /// Relative half-ulp of binary16: 2⁻¹¹.
    package static let relativeError: Float = 0x1p-11
    /// Absolute half-spacing of binary16 subnormals, in units of the scale: 2⁻²⁵.
    package static let absoluteError: Float = 0x1p-25

    /// The scale 2^e for a row whose largest finite |x| is `maximum` (1 for 0).
    /// - Complexity: O(1).
    package static func scale(forMaximum maximum: Float) -> Float {
        guard maximum > 0, maximum.isFinite else { return 1 }
        // At least 2⁻¹²⁶ (Float's smallest normal): a smaller scale would be subnormal, and its
        // inverse infinite. Rows below 2⁻¹¹² then use less of binary16's range; the bound holds.
        return Float(sign: .plus, exponent: max(maximum.exponent - 14, -126), significand: 1)
    }

    /// Appends `rows` rows of `width` values (row-major) as binary16 bit patterns to `halves`, and
    /// each row's scale to `scales`.
    /// - Complexity: O(rows · width).
    package static func append(_ values: UnsafeBufferPointer<Float>, rows: Int, width: Int,
                               into halves: inout [UInt16], scales: inout [Float]) {
        precondition(values.count >= rows * width, "\(values.count) values, expected \(rows) × \(width)")
        let start = halves.count
        halves.append(contentsOf: repeatElement(0, count: rows * width))
        halves.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows {
                let row = values.baseAddress! + r * width
                var maximum: Float = 0
                for i in 0..<width where abs(row[i]) > maximum && row[i].isFinite { maximum = abs(row[i]) }
                let scale = scale(forMaximum: maximum)
                let inverse = 1 / scale   // a power of two: exact
                let target = out.baseAddress! + start + r * width
                for i in 0..<width { target[i] = Float16(row[i] * inverse).bitPattern }
                scales.append(scale)
            }
        }
    }

    /// The decoded value `Float(h)·scale` (exact in Float32).
    /// - Complexity: O(1).
    @inline(__always)
    package static func decode(_ half: UInt16, scale: Float) -> Float {
        Float(Float16(bitPattern: half)) * scale
    }

    /// The largest possible |x̂ − x| for a decoded value x̂ with its row's scale.
    /// - Complexity: O(1).
    @inline(__always)
    package static func bound(decoded: Float, scale: Float) -> Float {
        relativeError * abs(decoded) + absoluteError * scale
    }
}
