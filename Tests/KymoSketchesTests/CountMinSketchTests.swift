import Testing
import KymoCore
@testable import KymoSketches

@Suite struct CountMinSketchTests {
    static let universe = 2000

    /// Builds a sketch and the exact weights of one seeded stream (integer weights: exact floats).
    func run(_ kind: StreamKind, seed: UInt64, width: Int, depth: Int, conservative: Bool,
             length: Int = 10_000) throws -> (CountMinSketch, [Double]) {
        var sketch = try CountMinSketch(width: width, depth: depth, seed: seed, conservative: conservative)
        var truth = [Double](repeating: 0, count: Self.universe)
        var rng = CounterRNG(key: seed ^ 0xABCD)
        for i in stream(kind, universe: Self.universe, length: length, seed: seed) {
            let w = Float(1 + rng.next(below: 4))
            sketch.update(key(i), weight: w)
            truth[i] += Double(w)
        }
        return (sketch, truth)
    }

    @Test(arguments: [false, true])
    func boundsHoldAtStatedConfidence(conservative: Bool) throws {
        let width = CountMinSketch.suggestedWidth(epsilon: 0.02)   // 136
        let depth = CountMinSketch.suggestedDepth(delta: 0.05)     // 3
        var inside = 0, queries = 0, overestimateViolations = 0
        for kind in StreamKind.allCases {
            for trial in 0..<10 {
                let (sketch, truth) = try run(kind, seed: UInt64(trial) + 1, width: width, depth: depth, conservative: conservative)
                #expect(sketch.totalWeight == truth.reduce(0, +))
                for i in 0..<Self.universe {
                    let estimate = Double(sketch.estimate(of: key(i)))
                    if estimate < truth[i] { overestimateViolations += 1 }
                    if truth[i] >= Double(sketch.lowerBound(of: key(i))) && truth[i] <= Double(sketch.upperBound(of: key(i))) { inside += 1 }
                    queries += 1
                }
            }
        }
        #expect(overestimateViolations == 0)
        let coverage = Double(inside) / Double(queries)
        let confidence = try CountMinSketch(width: width, depth: depth, seed: 0).confidence
        #expect(coverage >= confidence, "coverage \(coverage) < stated \(confidence)")
    }

    @Test func conservativeUpdateIsNeverWorse() throws {
        let (plain, truth) = try run(.zipf, seed: 9, width: 64, depth: 3, conservative: false)
        let (cu, _) = try run(.zipf, seed: 9, width: 64, depth: 3, conservative: true)
        var strictlyBetter = 0
        for i in 0..<Self.universe {
            #expect(cu.estimate(of: key(i)) <= plain.estimate(of: key(i)))
            #expect(Double(cu.estimate(of: key(i))) >= truth[i])
            if cu.estimate(of: key(i)) < plain.estimate(of: key(i)) { strictlyBetter += 1 }
        }
        #expect(strictlyBetter > 0)
    }

    @Test func mergeEqualsSketchOfConcatenation() throws {
        let (a, _) = try run(.zipf, seed: 3, width: 200, depth: 4, conservative: false, length: 3000)
        let (b, _) = try run(.uniform, seed: 4, width: 200, depth: 4, conservative: false, length: 3000)
        var whole = try CountMinSketch(width: 200, depth: 4, seed: 3)
        for (kind, seed) in [(StreamKind.zipf, UInt64(3)), (.uniform, 4)] {
            var rng = CounterRNG(key: seed ^ 0xABCD)
            for i in stream(kind, universe: Self.universe, length: 3000, seed: seed) {
                whole.update(key(i), weight: Float(1 + rng.next(below: 4)))
            }
        }
        // b used seed 4 for its hashes: incompatible with a.
        var merged = a
        #expect(throws: SketchError.self) { try merged.merge(b) }
        var b3 = try CountMinSketch(width: 200, depth: 4, seed: 3)
        var rng = CounterRNG(key: 4 ^ 0xABCD)
        for i in stream(.uniform, universe: Self.universe, length: 3000, seed: 4) { b3.update(key(i), weight: Float(1 + rng.next(below: 4))) }
        try merged.merge(b3)
        #expect(merged == whole)
        #expect(throws: SketchError.self) { try merged.merge(try CountMinSketch(width: 100, depth: 4, seed: 3)) }
        #expect(throws: SketchError.self) { try merged.merge(try CountMinSketch(width: 200, depth: 3, seed: 3)) }
        #expect(throws: SketchError.self) { try merged.merge(try CountMinSketch(width: 200, depth: 4, seed: 3, conservative: true)) }
    }

    @Test func sketchHashIsKymoCoresXXH3() {
        for i in 0..<1000 {
            let k = key(i), seed = UInt64(i) &* 0x9E37_79B9
            #expect(SketchHash.hash(k, seed: seed) == XXH3.hash(k, seed: seed))
        }
        let keys = (0..<100).map { key($0) }
        #expect(SketchHash.hashAll(keys, seed: 3) == keys.reduce(0) { $0 ^ XXH3.hash($1, seed: 3) })
    }

    @Test func rowsUseIndependentSeeds() throws {
        let sketch = try CountMinSketch(width: 1 << 16, depth: 4, seed: 77)
        #expect(Set((0..<4).map { sketch.rowSeeds[$0] }).count == 4)
        // The same key lands in different columns in different rows (for most keys).
        var differ = 0
        for i in 0..<100 {
            let cols = (0..<4).map { sketch.rowSeeds[$0] }.map { SketchHash.reduce(SketchHash.hash(key(i), seed: $0), 1 << 16) }
            if Set(cols).count == 4 { differ += 1 }
        }
        #expect(differ >= 95)
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        let (sketch, _) = try run(.zipf, seed: 5, width: 50, depth: 3, conservative: true, length: 2000)
        let bytes = sketch.serialized()
        let back = try CountMinSketch(deserializing: bytes)
        #expect(back == sketch)
        #expect(back.serialized() == bytes)
        expectDamageDetected(bytes) { _ = try CountMinSketch(deserializing: $0) }
        // A different sketch kind is refused, naming the field.
        let other = try CountSketch(width: 8, depth: 1, seed: 0).serialized()
        let kindError = sketchError { _ = try CountMinSketch(deserializing: other) }
        #expect(kindError?.description.contains("'kind'") == true, "\(String(describing: kindError))")
    }

    @Test func errorsNameFieldAndOffset() throws {
        let bytes = try CountMinSketch(width: 10, depth: 2, seed: 1).serialized()
        #expect(sketchError { _ = try CountMinSketch(deserializing: Array(bytes.prefix(12))) }
                == .malformed(sketch: "CountMinSketch", field: "bodyLength", offset: 8,
                              message: "needs 8 bytes, only 4 remain (truncated)"))
        var flipped = bytes
        flipped[30] ^= 1
        let corrupt = sketchError { _ = try CountMinSketch(deserializing: flipped) }
        if case let .checksumMismatch(_, offset, _, _) = corrupt {
            #expect(offset == bytes.count - 8)
        } else {
            Issue.record("expected a checksum mismatch, got \(String(describing: corrupt))")
        }
        var foreign = bytes
        foreign[0] = UInt8(ascii: "P")
        #expect(sketchError { _ = try CountMinSketch(deserializing: foreign) }?.description.contains("'magic'") == true)
    }
}
