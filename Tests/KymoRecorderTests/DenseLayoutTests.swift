import Testing
@testable import KymoRecorder

@Suite struct DenseLayoutTests {
    @Test func positionsRoundTripAndCoverEveryId() {
        let layout = DenseLayout(layers: [.init(inputs: 3, outputs: 2), .init(inputs: 2, outputs: 4)])
        #expect(layout.parameterCount == 2 * 4 + 4 * 3)
        var seen = Set<[Int]>()
        for id in 0..<layout.parameterCount {
            let p = layout.position(of: id)
            #expect(layout.id(of: p) == id)
            seen.insert([p.layer, p.row, p.col])
        }
        #expect(seen.count == layout.parameterCount)
        #expect(layout.position(of: 6) == .init(layer: 0, row: 0, col: 3)) // first bias
        #expect(layout.position(of: 8) == .init(layer: 1, row: 0, col: 0))
        #expect(DenseLayout(layers: RunShape.seedScale.layers).parameterCount == 535_818)
    }

    @Test func t1ContributionsAreTheSampleGradientTimesTheScale() throws {
        let b = 5, inputs = 4, outputs = 3
        let a = randomFloats(b * inputs, key: 61), d = randomFloats(b * outputs, key: 62)
        let positions: [DenseLayout.Position] = [.init(layer: 0, row: 2, col: 1), .init(layer: 0, row: 0, col: 4)]
        var out: [Float] = []
        try withFactors(batch: b, inputs: inputs, outputs: outputs, a: a, d: d) {
            try T1Contributions.append($0, positions: positions, scales: [-0.1, 0.5], into: &out)
        }
        #expect(out.count == 2 * b)
        for s in 0..<b {
            #expect(out[s] == -0.1 * (d[s * outputs + 2] * a[s * inputs + 1]))
            #expect(out[b + s] == 0.5 * d[s * outputs + 0])
        }
    }
}
