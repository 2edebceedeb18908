#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Locale-free, deterministic number formatting for every figure and table the report prints.
///
/// Nothing here consults the locale or `String(describing:)` of a float: digits come from one
/// rounding of the value scaled by an exact power of ten, so the same input gives the same bytes
/// on every machine.
package enum NumberFormat {
    /// `x` with at most `digits` significant digits, trailing zeros removed: `1234.5 → "1235"`,
    /// `0.000123456 → "0.0001235"`, `1.5e7 → "1.5e7"`. Plain notation for `1e-4 ≤ |x| < 1e6`,
    /// otherwise `d.ddde±n`. NaN prints as `NaN`, infinities as `∞` / `-∞`.
    /// - Complexity: O(digits).
    package static func significant(_ x: Double, digits: Int = 4) -> String {
        precondition(digits >= 1 && digits <= 15, "digits must be in 1...15")
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-∞" : "∞" }
        if x == 0 { return "0" }
        let negative = x < 0
        let a = abs(x)
        var e = decimalExponent(a)
        var mantissa = scaled(a, by: digits - 1 - e).rounded()
        if mantissa >= powerOfTen(digits) {  // 9999.7 → 10000: one more digit
            e += 1
            mantissa = scaled(a, by: digits - 1 - e).rounded()
        }
        let digitString = String(Int64(mantissa))
        var body: String
        if e >= -4 && e < 6 {
            let integerDigits = e + 1
            if integerDigits >= digitString.count {
                body = digitString + String(repeating: "0", count: integerDigits - digitString.count)
            } else if integerDigits <= 0 {
                body = "0." + String(repeating: "0", count: -integerDigits) + digitString
            } else {
                let split = digitString.index(digitString.startIndex, offsetBy: integerDigits)
                body = String(digitString[..<split]) + "." + String(digitString[split...])
            }
            body = trimmingFraction(body)
        } else {
            let first = digitString.prefix(1)
            let rest = digitString.dropFirst()
            body = trimmingFraction(rest.isEmpty ? String(first) : first + "." + rest) + "e\(e)"
        }
        return negative ? "-" + body : body
    }

    /// `x` rounded to `decimals` places, trailing zeros removed (`12.50 → "12.5"`, `-0.001 → "0"`).
    /// Used for SVG coordinates. Non-finite values print as `0` so no file ever holds `nan`.
    /// - Complexity: O(decimals).
    package static func fixed(_ x: Double, decimals: Int = 2) -> String {
        guard x.isFinite else { return "0" }
        let scale = powerOfTen(decimals)
        let r = (x * scale).rounded()
        guard abs(r) < 9.0e15 else { return significant(x, digits: 6) }
        let n = Int64(r)
        if n == 0 { return "0" }
        var digitString = String(abs(n))
        if decimals > 0 {
            if digitString.count <= decimals {
                digitString = String(repeating: "0", count: decimals - digitString.count + 1) + digitString
            }
            let split = digitString.index(digitString.endIndex, offsetBy: -decimals)
            digitString = trimmingFraction(String(digitString[..<split]) + "." + String(digitString[split...]))
        }
        return n < 0 ? "-" + digitString : digitString
    }

    /// A fraction as a percentage with at most `digits` significant digits: `0.953 → "95.3 %"`.
    /// - Complexity: O(digits).
    package static func percent(_ fraction: Double, digits: Int = 3) -> String {
        significant(fraction * 100, digits: digits) + " %"
    }

    /// A byte count in binary units: `1536 → "1.5 KiB"`, `512 → "512 B"`.
    /// - Complexity: O(1).
    package static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return significant(value, digits: unit == 0 ? 15 : 3) + " " + units[unit]
    }

    /// ⌊log₁₀ a⌋ for finite a > 0, found by comparison with exact powers of ten.
    /// - Complexity: O(|exponent|).
    package static func decimalExponent(_ a: Double) -> Int {
        var e = 0
        while a >= powerOfTen(e + 1) && e < 400 { e += 1 }
        while a < powerOfTen(e) && e > -400 { e -= 1 }
        return e
    }

    /// 10ⁿ; exact for 0 ≤ n ≤ 22.
    /// - Complexity: O(|n|).
    package static func powerOfTen(_ n: Int) -> Double {
        if n >= 0 && n < exactPowers.count { return exactPowers[n] }
        var p = 1.0
        if n > 0 {
            for _ in 0..<n { p *= 10 }
        } else {
            for _ in 0..<(-n) { p /= 10 }
        }
        return p
    }

    /// a·10ᵏ with a single rounding where 10^|k| is exact.
    private static func scaled(_ a: Double, by k: Int) -> Double {
        // Subnormal inputs need 10^k beyond the double range: scale in two steps.
        if k > 300 { return a * 1e300 * powerOfTen(k - 300) }
        return k >= 0 ? a * powerOfTen(k) : a / powerOfTen(-k)
    }

    private static func trimmingFraction(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = Substring(s)
        while t.last == "0" { t = t.dropLast() }
        if t.last == "." { t = t.dropLast() }
        return String(t)
    }

    private static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}

/// log₁₀ for the log axes (the platform C library; output is rounded to 0.01 px afterwards).
func log10Value(_ x: Double) -> Double { log10(x) }

/// 10^x for log-axis padding.
func exp10Value(_ x: Double) -> Double { pow(10, x) }
