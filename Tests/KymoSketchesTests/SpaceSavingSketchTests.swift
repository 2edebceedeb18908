import Testing
import KymoCore
@testable import KymoSketches

@Suite struct SpaceSavingSketchTests {
    static let universe = 3000

    /// Float-valued weights; `offer` uses the admission test.
    func run(_ kind: StreamKind, seed: UInt64, k: Int = 64, length: Int = 20_000, offer: Bool = false,
             onceEach: Bool = false) throws -> (SpaceSavingSketch, [Double]) {
        var sketch = try SpaceSavingSketch(capacity: k, seed: seed)
        var truth = [Double](repeating: 0, count: Self.universe)
        var rng = CounterRNG(key: seed ^ 0x77)
        let indices = onceEach ? Array(0..<Self.universe) : stream(kind, universe: Self.universe, length: length, seed: seed)
        for i in indices {
            let w = Double(rng.nextFloat()) * (onceEach ? 100 / Double(i + 1) : 1)
            if offer { sketch.offer(key(i), weight: w) } else { sketch.update(key(i), weight: w) }
            truth[i] += w
        }
        return (sketch, truth)
    }

    func checkBounds(_ sketch: SpaceSavingSketch, _ truth: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        let m = truth.reduce(0, +)
        #expect(abs(sketch.totalWeight - m) <= 1e-9 * m, sourceLocation: sourceLocation)
        let slack = 1e-9 * m
        var violations = 0
        for i in truth.indices {
            let k = key(i)
            if !(sketch.lowerBound(of: k) - slack <= truth[i] && truth[i] <= sketch.upperBound(of: k) + slack) { violations += 1 }
            if sketch.upperBound(of: k) - sketch.lowerBound(of: k) > sketch.maximumError + slack { violations += 1 }
        }
        #expect(violations == 0, sourceLocation: sourceLocation)
        let admitted = sketch.totalWeight - sketch.rejectedWeight
        #expect(sketch.maximumError <= admitted / Double(sketch.capacity) + sketch.rejectedWeight + slack,
                sourceLocation: sourceLocation)
    }

    @Test(arguments: [false, true])
    func boundsAreDeterministic(offer: Bool) throws {
        for kind in StreamKind.allCases {
            for trial in 0..<6 {
                let (sketch, truth) = try run(kind, seed: UInt64(trial) + 1, offer: offer)
                checkBounds(sketch, truth)
                if !offer { #expect(sketch.rejectedWeight == 0) }
            }
        }
    }

    @Test func admissionRejectsCheaplyAndKeepsTopKWhenKeysArriveOnce() throws {
        // Each key once, weights decreasing on average: most updates fall below the minimum.
        let (sketch, truth) = try run(.uniform, seed: 5, k: 32, offer: true, onceEach: true)
        checkBounds(sketch, truth)
        #expect(sketch.rejectedWeight > 0)
        // The true top 10 are all monitored.
        let top = truth.indices.sorted { truth[$0] > truth[$1] }.prefix(10)
        for i in top { #expect(sketch.estimate(of: key(i)) > 0) }
    }

    @Test func topKGuaranteesAreTrue() throws {
        for trial in 0..<6 {
            let (sketch, truth) = try run(.zipf, seed: UInt64(trial) + 40, k: 128)
            let j = 10
            let items = sketch.topK(j)
            #expect(items.count == j)
            #expect(zip(items, items.dropFirst()).allSatisfy { $0.estimate >= $1.estimate })
            let trueJth = truth.sorted(by: >)[j - 1]
            for item in items where item.isGuaranteed {
                let i = (0..<Self.universe).first { key($0) == item.key }!
                #expect(truth[i] >= trueJth)
            }
            #expect(items.contains { $0.isGuaranteed })   // Zipf's head is certain
        }
    }

    @Test func mergeStaysWithinBoundsOfConcatenation() throws {
        for trial in 0..<4 {
            for offer in [false, true] {
                let (a, ta) = try run(.zipf, seed: UInt64(trial) + 10, offer: offer)
                var (b, tb) = try run(.uniform, seed: UInt64(trial) + 10, offer: offer)
                var merged = a
                try merged.merge(b)
                checkBounds(merged, zip(ta, tb).map { $0 + $1 })
                // Order does not matter.
                try b.merge(a)
                #expect(b.serialized().count == merged.serialized().count)
                #expect(b.topK(64).map(\.key) == merged.topK(64).map(\.key))
            }
        }
        var a = try SpaceSavingSketch(capacity: 8, seed: 1)
        #expect(throws: SketchError.self) { try a.merge(try SpaceSavingSketch(capacity: 9, seed: 1)) }
        #expect(throws: SketchError.self) { try a.merge(try SpaceSavingSketch(capacity: 8, seed: 2)) }
    }

    @Test func heapAndTableStayConsistent() throws {
        let (sketch, _) = try run(.uniform, seed: 9, k: 50, length: 5000)
        #expect(sketch.monitoredCount == 50)
        sketch.withView { st in
            for i in 0..<sketch.count {
                for child in stride(from: 4 * i + 1, to: min(4 * i + 5, sketch.count), by: 1) { #expect(st.heapCount[i] <= st.heapCount[child]) }
                let id = Int(st.heapId[i])
                #expect(Int(st.position[id]) == i)
                #expect(st.tId[Int(st.slotOf[id])] == Int32(id))
                #expect(st.tKeys[Int(st.slotOf[id])] == st.keys[id])
            }
            #expect((0..<st.tableSize).filter { st.tId[$0] >= 0 }.count == 50)
        }
    }

    @Test func copiesAreIndependent() throws {
        var a = try SpaceSavingSketch(capacity: 4, seed: 1)
        for i in 0..<10 { a.update(key(i), weight: Double(i)) }
        let snapshot = a.serialized()
        var b = a
        for i in 0..<10 { b.update(key(i + 100), weight: 50) }
        #expect(a.serialized() == snapshot)
        #expect(b.serialized() != snapshot)
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        let (sketch, _) = try run(.zipf, seed: 3, k: 16, length: 2000, offer: true)
        let bytes = sketch.serialized()
        var back = try SpaceSavingSketch(deserializing: bytes)
        #expect(back.serialized() == bytes)
        // The restored state evolves exactly like the original.
        var original = sketch
        for i in 0..<500 { original.update(key(i % 37), weight: 0.25); back.update(key(i % 37), weight: 0.25) }
        #expect(back.serialized() == original.serialized())
        expectDamageDetected(bytes) { _ = try SpaceSavingSketch(deserializing: $0) }
    }
}
