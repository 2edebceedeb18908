import Testing
import KymoCore
@testable import KymoSketches

@Suite struct CountMinSketchTests {
    static let universe = 2000

    /// Builds a sketch and the exact weights of one seeded stream (integer weights: exact floats).
    func run(_ kind: StreamKind, seed: UInt64, width: Int, depth: Int, conservative: Bool,
             length: Int = 10_000, rowHashing: CountMinSketch.RowHashing? = nil) throws -> (CountMinSketch, [Double]) {
        var sketch = try CountMinSketch(width: width, depth: depth, seed: seed, conservative: conservative,
                                        rowHashing: rowHashing ?? .preferred(width: width, depth: depth))
        var truth = [Double](repeating: 0, count: Self.universe)
        var rng = CounterRNG(key: seed ^ 0xABCD)
        for i in stream(kind, universe: Self.universe, length: length, seed: seed) {
            let w = Float(1 + rng.next(below: 4))
            sketch.update(key(i), weight: w)
            truth[i] += Double(w)
        }
        return (sketch, truth)
    }

    /// Widths 136 (double hashing) and 128 (bit slices, or forced double hashing), depth 3.
    @Test(arguments: [(136, false, false), (136, true, false), (128, false, false), (128, true, false),
                      (128, false, true), (128, true, true)])
    func boundsHoldAtStatedConfidence(width: Int, conservative: Bool, forceDoubleHashing: Bool) throws {
        // suggestedWidth(epsilon: 0.02) = 136, suggestedDepth(delta: 0.05) = 3
        #expect(CountMinSketch.suggestedWidth(epsilon: 0.02) == 136)
        let depth = CountMinSketch.suggestedDepth(delta: 0.05)
        let rowHashing: CountMinSketch.RowHashing = forceDoubleHashing ? .doubleHashing : .preferred(width: width, depth: depth)
        #expect(rowHashing == (width == 128 && !forceDoubleHashing ? .bitSlices : .doubleHashing))
        var inside = 0, queries = 0, overestimateViolations = 0
        for kind in StreamKind.allCases {
            for trial in 0..<10 {
                let (sketch, truth) = try run(kind, seed: UInt64(trial) + 1, width: width, depth: depth,
                                              conservative: conservative, rowHashing: rowHashing)
                #expect(sketch.rowHashing == rowHashing)
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

    /// The unrolled 4-row bit-slice path (4 × 2^16), single and bulk, against the general cell
    /// computation, counter by counter.
    @Test func fourSlicePathMatchesGeneralPath() throws {
        var fast = try CountMinSketch(width: 1 << 16, depth: 4, seed: 21)
        var bulk = try CountMinSketch(width: 1 << 16, depth: 4, seed: 21)
        #expect(fast.rowHashing == .bitSlices)
        let keys = (0..<5000).map { key($0 % 1500) }
        let weights = keys.indices.map { Float(1 + $0 % 3) }
        var expected = [Float](repeating: 0, count: 4 << 16)
        for (k, w) in zip(keys, weights) {
            fast.update(k, weight: w)
            let cells = fast.cells(k)
            for row in 0..<4 { expected[cells[row]] += w }
        }
        bulk.update(keys, weights: weights)
        #expect(bulk == fast)
        #expect(fast.counters == expected)
        // The four columns are the four 16-bit words of the one hash.
        let h = SketchHash.hash(key(7), seed: fast.hashSeed)
        let cells = fast.cells(key(7))
        #expect((0..<4).map { cells[$0] } == (0..<4).map { $0 << 16 | Int((h >> (16 * UInt64($0))) & 0xFFFF) })
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

    @Test(arguments: [CountMinSketch.RowHashing.bitSlices, .doubleHashing])
    func rowsGetDifferentColumns(rowHashing: CountMinSketch.RowHashing) throws {
        let sketch = try CountMinSketch(width: 1 << 12, depth: 5, seed: 77, conservative: false, rowHashing: rowHashing)
        // The same key lands in different columns in different rows (for most keys), and every
        // column of every row is hit about equally often.
        var differ = 0
        var hits = [Int](repeating: 0, count: 5 << 12)
        for i in 0..<40_000 {
            let cells = sketch.cells(key(i))
            let columns = (0..<5).map { cells[$0] - $0 << 12 }
            #expect(columns.allSatisfy { (0..<(1 << 12)).contains($0) })
            if Set(columns).count == 5 { differ += 1 }
            for row in 0..<5 { hits[cells[row]] += 1 }
        }
        #expect(differ >= 39_900)
        // About 9.8 hits per cell: none empty-heavy or overloaded beyond Poisson tails.
        #expect(hits.max()! <= 35)
        #expect(hits.filter { $0 == 0 }.count < 5 << 12 / 500)
    }

    @Test func bitSlicesOnlyWhereTheShapeFits() throws {
        #expect(CountMinSketch.RowHashing.preferred(width: 1 << 16, depth: 4) == .bitSlices)
        #expect(CountMinSketch.RowHashing.preferred(width: 1 << 16, depth: 5) == .doubleHashing)
        #expect(CountMinSketch.RowHashing.preferred(width: 1000, depth: 2) == .doubleHashing)
        #expect(throws: SketchError.self) {
            _ = try CountMinSketch(width: 1000, depth: 2, seed: 0, conservative: false, rowHashing: .bitSlices)
        }
        // Sketches with different row hashing do not merge.
        var a = try CountMinSketch(width: 256, depth: 2, seed: 1)
        let b = try CountMinSketch(width: 256, depth: 2, seed: 1, conservative: false, rowHashing: .doubleHashing)
        #expect(throws: SketchError.self) { try a.merge(b) }
    }

    @Test(arguments: [(50, CountMinSketch.RowHashing.doubleHashing), (64, .bitSlices), (64, .doubleHashing)])
    func serializationRoundTripsAndDetectsDamage(width: Int, rowHashing: CountMinSketch.RowHashing) throws {
        let (sketch, _) = try run(.zipf, seed: 5, width: width, depth: 3, conservative: true, length: 2000, rowHashing: rowHashing)
        let bytes = sketch.serialized()
        #expect(bytes[32] == rowHashing.rawValue)
        let back = try CountMinSketch(deserializing: bytes)
        #expect(back == sketch)
        #expect(back.rowHashing == rowHashing)
        #expect(back.serialized() == bytes)
        expectDamageDetected(bytes) { _ = try CountMinSketch(deserializing: $0) }
        // A different sketch kind is refused, naming the field.
        let other = try CountSketch(width: 8, depth: 1, seed: 0).serialized()
        let kindError = sketchError { _ = try CountMinSketch(deserializing: other) }
        #expect(kindError?.description.contains("'kind'") == true, "\(String(describing: kindError))")
    }

    /// Format version 3 records the row hashing and the block size; version-1 buffers (per-row
    /// seeds), version-2 buffers (no block size) and an unknown or misfitting scheme are refused,
    /// naming the field.
    @Test func formatVersionAndRowHashingAreChecked() throws {
        let bytes = try CountMinSketch(width: 64, depth: 3, seed: 1).serialized()
        #expect(bytes[4] == 3 && bytes[5] == 0)
        func resealed(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = Array(bytes.dropLast(8))
            edit(&b)
            let checksum = b.withUnsafeBytes { XXH3.hash($0, seed: 0) }
            return b + withUnsafeBytes(of: checksum.littleEndian) { Array($0) }
        }
        for old: UInt8 in [1, 2] {
            let refused = sketchError { _ = try CountMinSketch(deserializing: resealed { $0[4] = old }) }
            #expect(refused?.description.contains("'version'") == true && refused?.description.contains("version \(old)") == true,
                    "\(String(describing: refused))")
        }
        // Block size 0 or above the width is refused, naming the field.
        let badBlock = sketchError { _ = try CountMinSketch(deserializing: resealed { $0[33] = 65; $0[34] = 0 }) }
        #expect(badBlock?.description.contains("'blockSize'") == true, "\(String(describing: badBlock))")
        let unknown = sketchError { _ = try CountMinSketch(deserializing: resealed { $0[32] = 9 }) }
        #expect(unknown?.description.contains("'rowHashing'") == true, "\(String(describing: unknown))")
        let doubled = try CountMinSketch(width: 50, depth: 3, seed: 1).serialized()
        #expect(doubled[32] == CountMinSketch.RowHashing.doubleHashing.rawValue)
        var sliced = Array(doubled.dropLast(8))
        sliced[32] = CountMinSketch.RowHashing.bitSlices.rawValue
        let checksum = sliced.withUnsafeBytes { XXH3.hash($0, seed: 0) }
        sliced += withUnsafeBytes(of: checksum.littleEndian) { Array($0) }
        let misfit = sketchError { _ = try CountMinSketch(deserializing: sliced) }
        #expect(misfit?.description.contains("'rowHashing'") == true, "\(String(describing: misfit))")
    }

    /// Block keys: `add(major:firstMinor:weights:)` gives the counters of one `update` per key (M
    /// up to rounding); keys of one major never collide; the estimates keep the count-min
    /// guarantee (never below the truth, and within e·M/width for at least the stated share);
    /// merge and serialization keep the block size.
    @Test(arguments: [(1 << 10, 4), (1000, 3)])
    func blockKeysMatchSingleUpdatesAndKeepTheBound(width: Int, depth: Int) throws {
        let block = 300
        var runs = try CountMinSketch(width: width, depth: depth, seed: 5, blockSize: block)
        var single = runs
        var truth: [UInt64: Float] = [:]
        var expectedTotal = 0.0
        var rng = CounterRNG(key: 77)
        for _ in 0..<400 {
            let major = rng.next(below: 5000)
            let first = Int(rng.next(below: UInt64(block - 40)))
            let count = 1 + Int(rng.next(below: 40))
            let weights = (0..<count).map { _ in rng.nextFloat() < 0.3 ? 0 : rng.nextFloat() }
            weights.withUnsafeBufferPointer { runs.add(major: major, firstMinor: first, weights: $0) }
            expectedTotal += weights.withUnsafeBufferPointer { LaneSum.sum($0.baseAddress!, count: count).sum }
            for (i, w) in weights.enumerated() {
                let key = major * UInt64(block) + UInt64(first + i)
                single.update(key, weight: w)
                truth[key, default: 0] += w
            }
        }
        // The counters bit for bit; M summed per run (`LaneSum`, bit for bit) rather than per
        // key: equal to one update per key up to rounding.
        #expect(runs.counters.map(\.bitPattern) == single.counters.map(\.bitPattern))
        #expect(runs.totalWeight.bitPattern == expectedTotal.bitPattern)
        #expect(abs(runs.totalWeight - single.totalWeight) <= 1e-12 * single.totalWeight)
        #expect(runs.totalWeight > 0)
        // Same major, distinct minors: distinct cells in every row.
        for row in 0..<depth {
            let cells = Set((0..<block).map { runs.cells(UInt64(12 * block + $0))[row] })
            #expect(cells.count == block)
        }
        var within = 0
        for (key, f) in truth.sorted(by: { $0.key < $1.key }) {
            #expect(runs.estimate(of: key) >= f)
            if Double(runs.estimate(of: key)) - Double(f) <= runs.errorBound { within += 1 }
        }
        #expect(Double(within) >= runs.confidence * Double(truth.count) * 0.98)
        let decoded = try CountMinSketch(deserializing: runs.serialized())
        #expect(decoded == runs && decoded.blockSize == block)
        var merged = runs
        try merged.merge(decoded)
        #expect(merged.estimate(of: 7) == 2 * runs.estimate(of: 7))
        #expect(throws: SketchError.self) { try merged.merge(try CountMinSketch(width: width, depth: depth, seed: 5)) }
        #expect(throws: SketchError.self) { _ = try CountMinSketch(width: 100, depth: 2, seed: 1, blockSize: 101) }
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
