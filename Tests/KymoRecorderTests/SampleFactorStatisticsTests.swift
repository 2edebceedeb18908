import Testing
@testable import KymoRecorder

@Suite struct SampleFactorStatisticsTests {
    @Test func gradientNormMatchesMaterializedPerSampleGradient() throws {
        let b = 6
        let shapes = [(13, 9), (9, 4)]
        var norms = [Float](repeating: 0, count: b)
        var brute = [Double](repeating: 0, count: b)
        for (l, (inputs, outputs)) in shapes.enumerated() {
            let a = randomFloats(b * inputs, key: UInt64(10 + l))
            let d = randomFloats(b * outputs, key: UInt64(20 + l), scale: 0.5)
            try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) {
                try SampleFactorStatistics.accumulateGradientNormsSquared($0, into: &norms)
            }
            for s in 0..<b {
                for r in 0..<outputs {
                    let dr = Double(d[s * outputs + r])
                    brute[s] += dr * dr // bias
                    for c in 0..<inputs {
                        let g = dr * Double(a[s * inputs + c])
                        brute[s] += g * g
                    }
                }
            }
        }
        for s in 0..<b { #expect(abs(Double(norms[s]) - brute[s]) <= 1e-5 * brute[s]) }
    }

    @Test func neuronMassIsTheSumOfContributionMagnitudes() throws {
        let b = 4, inputs = 11, outputs = 7
        let a = randomFloats(b * inputs, key: 1), d = randomFloats(b * outputs, key: 2)
        let scale: Float = -0.01 / Float(b)
        var mass = [Float](repeating: 0, count: b * outputs)
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) {
            try SampleFactorStatistics.neuronContributionMass($0, scale: scale, into: &mass)
        }
        for s in 0..<b {
            for r in 0..<outputs {
                var brute = Double(abs(scale * d[s * outputs + r])) // bias
                for c in 0..<inputs { brute += Double(abs(scale * d[s * outputs + r] * a[s * inputs + c])) }
                #expect(abs(Double(mass[s * outputs + r]) - brute) <= 1e-5 * brute)
            }
        }
        var wrong = [Float](repeating: 0, count: 3)
        #expect(throws: RecorderError.self) {
            try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) {
                try SampleFactorStatistics.neuronContributionMass($0, scale: scale, into: &wrong)
            }
        }
    }
}

@Suite struct LayerFactorSummaryTests {
    @Test func summaryMatchesScalarNorms() throws {
        let b = 3, inputs = 21, outputs = 10
        var a = randomFloats(b * inputs, key: 81, scale: 4), d = randomFloats(b * outputs, key: 82)
        a[5] = -9.5; d[12] = .infinity
        let summary = try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) { LayerFactorSummary($0) }
        for s in 0..<b {
            let row = a[(s * inputs)..<((s + 1) * inputs)]
            #expect(summary.activationMax[s] == row.map { abs($0) }.max()!)
            let l1 = row.reduce(0.0) { $0 + Double(abs($1)) }, sq = row.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(Double(summary.activationL1[s]) - l1) <= 1e-5 * l1)
            #expect(abs(Double(summary.activationSquares[s]) - sq) <= 1e-5 * sq)
            let drow = d[(s * outputs)..<((s + 1) * outputs)]
            let dl1 = drow.reduce(0.0) { $0 + Double(abs($1)) }
            if dl1.isFinite { #expect(abs(Double(summary.deltaL1[s]) - dl1) <= 1e-5 * dl1) } else { #expect(summary.deltaL1[s] == .infinity) }
        }
    }
}
