import Foundation
import Testing
@testable import KymoEngine

/// Measures the pure-Swift functions against Double libm rounded to Float.
/// Measured on x86-64 glibc: exp, log, tanh 0 ulp (asserted ≤ 1); cos(Double) 6.4e-16 (asserted ≤ 1e-15).
@Suite struct DeterministicMathTests {
    /// Distance in ulps between two finite Floats of the same sign region.
    static func ulps(_ a: Float, _ b: Float) -> Int {
        if a == b { return 0 }
        func key(_ x: Float) -> Int64 {
            let bits = Int64(x.bitPattern)
            return x.sign == .minus ? -(bits & 0x7FFF_FFFF) : bits
        }
        return Int(abs(key(a) - key(b)))
    }

    static func sweep(_ range: ClosedRange<Float>, count: Int) -> [Float] {
        (0...count).map { range.lowerBound + (range.upperBound - range.lowerBound) * Float($0) / Float(count) }
    }

    @Test func expWithinOneUlp() {
        var worst = 0
        for x in Self.sweep(-87...88, count: 200_000) {
            worst = max(worst, Self.ulps(DeterministicMath.exp(x), Float(Foundation.exp(Double(x)))))
        }
        #expect(worst <= 1, "exp max ulp error \(worst)")
        #expect(DeterministicMath.exp(Float(0)) == 1)
        #expect(DeterministicMath.exp(Float(100)) == .infinity)
        #expect(DeterministicMath.exp(Float(-200)) == 0)
        #expect(DeterministicMath.exp(Float.nan).isNaN)
    }

    @Test func logWithinOneUlp() {
        var worst = 0
        var x: Float = 1e-30
        while x < 1e30 {
            worst = max(worst, Self.ulps(DeterministicMath.log(x), Float(Foundation.log(Double(x)))))
            x *= 1.0007
        }
        for x in Self.sweep(0.5...2, count: 100_000) {
            worst = max(worst, Self.ulps(DeterministicMath.log(x), Float(Foundation.log(Double(x)))))
        }
        #expect(worst <= 1, "log max ulp error \(worst)")
        #expect(DeterministicMath.log(Float(1)) == 0)
        #expect(DeterministicMath.log(Float(0)) == -.infinity)
        #expect(DeterministicMath.log(Float(-1)).isNaN)
        #expect(DeterministicMath.log(Float.leastNonzeroMagnitude) == Float(Foundation.log(Double(Float.leastNonzeroMagnitude))))
    }

    @Test func tanhWithinOneUlp() {
        var worst = 0
        for x in Self.sweep(-12...12, count: 200_000) + Self.sweep(-1e-3...1e-3, count: 10_000) {
            worst = max(worst, Self.ulps(DeterministicMath.tanh(x), Float(Foundation.tanh(Double(x)))))
        }
        #expect(worst <= 1, "tanh max ulp error \(worst)")
        #expect(DeterministicMath.tanh(Float(0)) == 0)
        #expect(DeterministicMath.tanh(Float(-3)) == -DeterministicMath.tanh(Float(3)))
    }

    @Test func cosAbsoluteError() {
        var worst = 0.0
        for i in 0...100_000 {
            let x = -4 * Double.pi + 8 * Double.pi * Double(i) / 100_000
            worst = max(worst, abs(DeterministicMath.cos(x) - Foundation.cos(x)))
        }
        #expect(worst <= 1e-15, "cos max abs error \(worst)")
    }

    @Test func integerPower() {
        #expect(DeterministicMath.power(0.9, 0) == 1)
        #expect(DeterministicMath.power(2, 10) == 1024)
        #expect(abs(DeterministicMath.power(0.999, 1000) - Foundation.pow(0.999, 1000)) < 1e-13)
    }
}

@Suite struct VectorMathTests {
    @Test(arguments: [0, 1, 15, 16, 17, 100, 1001])
    func sumOfSquaresMatchesDouble(count: Int) {
        var x = randomFloats(count, seed: UInt64(count) + 1, scale: 3)
        let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let sum = x.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count) }
        #expect(abs(sum - expected) <= 1e-12 * max(1, expected))
        let original = x
        let scaled = x.withUnsafeMutableBufferPointer {
            VectorMath.scaleAndSumOfSquares($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, count: count, scale: 0.5)
        }
        #expect(x == original.map { $0 * 0.5 })
        #expect(abs(scaled - expected / 4) <= 1e-12 * max(1, expected))
    }
}
