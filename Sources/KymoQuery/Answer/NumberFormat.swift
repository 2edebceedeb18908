/// Decimal formatting without Foundation, deterministic on every platform: it works on the digits
/// of Swift's shortest round-trip representation, so no binary rounding sneaks in.
package enum NumberFormat {
    /// Full precision for machines (JSON, CSV): integral values of magnitude < 1e15 without a
    /// fraction, others in Swift's shortest round-trip form; non-finite values as `nan`, `inf`, `-inf`.
    /// - Complexity: O(1).
    package static func full(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return x.description
    }

    /// `x` rounded half-up (on its decimal digits) to `digits` significant digits, trailing zeros
    /// dropped; fixed notation for 1e-4 ≤ |x| < 1e7, scientific (`1.23e-07`) otherwise.
    /// - Complexity: O(digits).
    package static func significant(_ x: Double, digits: Int = 4) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == 0 { return "0" }
        // Digits and exponent of the shortest round-trip form, read as ASCII bytes.
        var negative = false
        var mantissa: [Int] = []
        mantissa.reserveCapacity(20)
        var pointPosition = 0
        var seenPoint = false
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in x.description.utf8 {
            switch byte {
            case UInt8(ascii: "-"):
                if inExponent { exponentSign = -1 } else { negative = true }
            case UInt8(ascii: "+"):
                break
            case UInt8(ascii: "."):
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let d = Int(byte - UInt8(ascii: "0"))
                if inExponent {
                    exponent = exponent * 10 + d
                } else {
                    mantissa.append(d)
                    if !seenPoint { pointPosition += 1 }
                }
            default:
                break
            }
        }
        exponent *= exponentSign
        // value = 0.mantissa × 10^(pointPosition + exponent)
        pointPosition += exponent
        while let first = mantissa.first, first == 0 {
            mantissa.removeFirst()
            pointPosition -= 1
        }
        if mantissa.isEmpty { return "0" }
        let keep = max(digits, 1)
        if mantissa.count > keep {
            let roundUp = mantissa[keep] >= 5
            mantissa.removeLast(mantissa.count - keep)
            if roundUp {
                var i = keep - 1
                while i >= 0 {
                    if mantissa[i] == 9 {
                        mantissa[i] = 0
                        i -= 1
                    } else {
                        mantissa[i] += 1
                        break
                    }
                }
                if i < 0 {
                    mantissa.insert(1, at: 0)
                    mantissa.removeLast()
                    pointPosition += 1
                }
            }
        }
        while mantissa.count > 1, mantissa.last == 0 { mantissa.removeLast() }
        let zero = UInt8(ascii: "0")
        let scientificExponent = pointPosition - 1
        var out: [UInt8] = []
        out.reserveCapacity(24)
        if negative { out.append(UInt8(ascii: "-")) }
        if scientificExponent >= -4 && scientificExponent < 7 {
            if pointPosition <= 0 {
                out += [zero, UInt8(ascii: ".")] + Array(repeating: zero, count: -pointPosition)
                out += mantissa.map { zero + UInt8($0) }
            } else {
                for (i, d) in mantissa.enumerated() {
                    if i == pointPosition { out.append(UInt8(ascii: ".")) }
                    out.append(zero + UInt8(d))
                }
                if pointPosition > mantissa.count { out += Array(repeating: zero, count: pointPosition - mantissa.count) }
            }
        } else {
            out.append(zero + UInt8(mantissa[0]))
            if mantissa.count > 1 {
                out.append(UInt8(ascii: "."))
                out += mantissa.dropFirst().map { zero + UInt8($0) }
            }
            let e = abs(scientificExponent)
            out.append(UInt8(ascii: "e"))
            out.append(UInt8(ascii: scientificExponent < 0 ? "-" : "+"))
            if e < 10 { out.append(zero) }
            out += Array(String(e).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A duration for humans: `850 µs`, `12.5 ms`, `3.2 s`, `4.1 min`.
    /// - Complexity: O(1).
    package static func duration(seconds: Double) -> String {
        if !(seconds.isFinite) { return "?" }
        if seconds < 1e-3 { return significant(seconds * 1e6, digits: 3) + " µs" }
        if seconds < 1 { return significant(seconds * 1e3, digits: 3) + " ms" }
        if seconds < 120 { return significant(seconds, digits: 3) + " s" }
        if seconds < 7200 { return significant(seconds / 60, digits: 3) + " min" }
        return significant(seconds / 3600, digits: 3) + " h"
    }

    /// A byte count for humans, in powers of 1024: `512 B`, `40 KiB`, `1.2 MiB`.
    /// - Complexity: O(1).
    package static func bytes(_ count: Int) -> String {
        if abs(count) < 1024 { return "\(count) B" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return significant(value, digits: 3) + " " + units[unit]
    }
}
