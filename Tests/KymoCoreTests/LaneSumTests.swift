import Testing
@testable import KymoCore

@Suite struct LaneSumTests {
    /// The documented order, written out: lanes j = i mod 8 over the whole blocks, combined
    /// ((0+1)+(2+3))+((4+5)+(6+7)), then the tail one by one; and the sign check.
    @Test(arguments: [0, 1, 7, 8, 9, 64, 203])
    func sumFollowsTheLaneOrder(count: Int) {
        var rng = CounterRNG(key: UInt64(count) + 1)
        let x = (0..<count).map { _ in Float(rng.nextDouble() * 1000) * (rng.nextDouble() < 0.5 ? 1e-3 : 1) }
        var lanes = [Double](repeating: 0, count: 8)
        let whole = count / 8 * 8
        for i in 0..<whole { lanes[i % 8] += Double(x[i]) }
        var expected = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
        for i in whole..<count { expected += Double(x[i]) }
        let got = x.withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: count) }
        #expect(got.sum.bitPattern == expected.bitPattern)
        #expect(got.nonNegative)
        let oneByOne = x.reduce(0.0) { $0 + Double($1) }
        #expect(abs(got.sum - oneByOne) <= 1e-12 * max(oneByOne, 1))
    }

    /// A negative weight or a NaN, in a block or in the tail, clears `nonNegative`.
    @Test func negativeAndNaNAreReported() {
        for bad in [Float(-1), -.leastNonzeroMagnitude, .nan] {
            for position in [0, 5, 8, 10] {
                var x = [Float](repeating: 1, count: 11)
                x[position] = bad
                let got = x.withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: x.count) }
                #expect(!got.nonNegative, "\(bad) at \(position)")
            }
        }
        let zeros = [Float](repeating: -0.0, count: 9)
        #expect(zeros.withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: 9) }.nonNegative)
    }
}
