import Testing
import KymoCore
@testable import KymoSketches

@Suite struct CountSketchTests {
    static let universe = 2000

    /// Signed integer values (exact in Double) on a seeded stream; returns the sketch and the truth.
    func run(_ kind: StreamKind, seed: UInt64, sketchSeed: UInt64 = 11, width: Int = 256, depth: Int = 5,
             length: Int = 8000, sign: Double = 1) throws -> (CountSketch, [Double]) {
        var sketch = try CountSketch(width: width, depth: depth, seed: sketchSeed)
        var truth = [Double](repeating: 0, count: Self.universe)
        var rng = CounterRNG(key: seed ^ 0x5EED)
        for i in stream(kind, universe: Self.universe, length: length, seed: seed) {
            let v = sign * (Double(rng.next(below: 7)) - 2)   // −2...4: skewed positive
            sketch.update(key(i), value: v)
            truth[i] += v
        }
        return (sketch, truth)
    }

    @Test func boundsHoldAtStatedConfidence() throws {
        var inside = 0, queries = 0
        var confidence = 0.0
        for kind in StreamKind.allCases {
            for trial in 0..<8 {
                let (sketch, truth) = try run(kind, seed: UInt64(trial) + 100, sketchSeed: UInt64(trial))
                confidence = sketch.confidence
                let bound = sketch.errorBound()
                for i in 0..<Self.universe {
                    if abs(sketch.estimate(of: key(i)) - truth[i]) <= bound { inside += 1 }
                    queries += 1
                }
            }
        }
        let coverage = Double(inside) / Double(queries)
        #expect(coverage >= confidence, "coverage \(coverage) < stated \(confidence)")
    }

    @Test func confidenceFormula() {
        // depth 1: one row, fails with probability 1/4.
        #expect(abs(CountSketch.confidence(depth: 1) - 0.75) < 1e-12)
        // depth 3: P(Bin(3, 1/4) ≥ 2) = 3·(1/16)(3/4) + 1/64 = 10/64.
        #expect(abs(CountSketch.confidence(depth: 3) - (1 - 10.0 / 64)) < 1e-12)
        #expect(CountSketch.suggestedDepth(delta: 0.05) % 2 == 1)
        #expect(1 - CountSketch.confidence(depth: CountSketch.suggestedDepth(delta: 0.05)) <= 0.05)
    }

    @Test func squaredNormEstimateIsClose() throws {
        let (sketch, truth) = try run(.zipf, seed: 7, width: 1024)
        let exact = truth.reduce(0) { $0 + $1 * $1 }
        #expect(abs(sketch.squaredNormEstimate() - exact) < 0.2 * exact)
    }

    @Test func linearAddAndSubtractAreExact() throws {
        let (a, _) = try run(.zipf, seed: 1)
        let (b, _) = try run(.uniform, seed: 2)
        // Sketch of the concatenated stream.
        var whole = a
        var rng = CounterRNG(key: 2 ^ 0x5EED)
        for i in stream(.uniform, universe: Self.universe, length: 8000, seed: 2) {
            whole.update(key(i), value: Double(rng.next(below: 7)) - 2)
        }
        var sum = a
        try sum.add(b)
        #expect(sum == whole)
        // a − b equals the sketch of a's stream followed by b's stream negated.
        let (negB, _) = try run(.uniform, seed: 2, sign: -1)
        var difference = a
        try difference.subtract(b)
        var viaNegation = a
        try viaNegation.merge(negB)
        #expect(difference == viaNegation)
        // Subtracting a sketch from itself leaves zero.
        var zero = a
        try zero.subtract(a)
        #expect(zero.counters.allSatisfy { $0 == 0 })
        #expect(throws: SketchError.self) { try sum.add(try CountSketch(width: 256, depth: 5, seed: 12)) }
        #expect(throws: SketchError.self) { try sum.subtract(try CountSketch(width: 128, depth: 5, seed: 11)) }
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        let (sketch, _) = try run(.zipf, seed: 3, width: 40, depth: 3, length: 1000)
        let bytes = sketch.serialized()
        let back = try CountSketch(deserializing: bytes)
        #expect(back == sketch)
        #expect(back.serialized() == bytes)
        expectDamageDetected(bytes) { _ = try CountSketch(deserializing: $0) }
    }
}
