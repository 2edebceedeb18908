import Testing
import KymoCore
@testable import KymoSketches

@Suite struct UniformReservoirTests {
    @Test func inclusionIsUniform() throws {
        let n = 200, k = 20, trials = 2000
        var included = [Int](repeating: 0, count: n)
        for trial in 0..<trials {
            var r = try UniformReservoir(capacity: k, seed: UInt64(trial))
            for i in 0..<n { r.update(UInt64(i)) }
            #expect(r.items.count == k)
            #expect(Set(r.items).count == k)
            for item in r.items { included[Int(item)] += 1 }
        }
        // Each item is included with probability k/n = 0.1: expected 200, sd ≈ 13.4.
        let p = Double(k) / Double(n)
        let sd = (Double(trials) * p * (1 - p)).squareRoot()
        let outliers = included.filter { abs(Double($0) - Double(trials) * p) > 4.5 * sd }
        #expect(outliers.isEmpty, "\(outliers)")
        // Early and late halves are equally likely (Algorithm L's skips are unbiased).
        let early = included[0..<100].reduce(0, +), late = included[100...].reduce(0, +)
        #expect(abs(early - late) < 4 * Int((Double(trials * k) * 0.25).squareRoot()) + 1)
    }

    @Test func countEstimateCoverage() throws {
        var inside = 0
        let trials = 300
        for trial in 0..<trials {
            var r = try UniformReservoir(capacity: 100, seed: UInt64(trial) + 7)
            let keys = stream(.zipf, universe: 50, length: 5000, seed: UInt64(trial))
            for i in keys { r.update(UInt64(i)) }
            let truth = Double(keys.filter { $0 < 3 }.count)
            let e = r.estimateCount { $0 < 3 }
            if e.lowerBound() <= truth && truth <= e.upperBound() { inside += 1 }
        }
        // Nominal 95 % (normal approximation).
        #expect(Double(inside) / Double(trials) >= 0.9)
    }

    @Test func bulkUpdateAndSkipsMatchOneByOne() throws {
        var one = try UniformReservoir(capacity: 16, seed: 3)
        var bulk = one
        var skipping = one
        let keys = (0..<10_000).map { key($0) }
        for k in keys { one.update(k) }
        bulk.update(keys)
        var i = 0
        while i < keys.count {
            let gap = Int(min(skipping.itemsUntilNextAcceptance, UInt64(keys.count - i)))
            skipping.skip(UInt64(gap))
            i += gap
            if i < keys.count { skipping.update(keys[i]); i += 1 }
        }
        #expect(bulk == one)
        #expect(skipping == one)
        #expect(one.count == 10_000)
    }

    @Test func mergeIsUniformOverBothStreams() throws {
        let k = 20, trials = 1000
        var fromA = 0
        for trial in 0..<trials {
            var a = try UniformReservoir(capacity: k, seed: UInt64(trial))
            var b = try UniformReservoir(capacity: k, seed: UInt64(trial) + 100_000)
            for i in 0..<300 { a.update(UInt64(i)) }
            for i in 300..<400 { b.update(UInt64(i)) }
            try a.merge(b)
            #expect(a.count == 400 && a.items.count == k && Set(a.items).count == k)
            fromA += a.items.filter { $0 < 300 }.count
            a.update(999)   // continues (Algorithm R) without trouble
        }
        let share = Double(fromA) / Double(trials * k)
        #expect(abs(share - 0.75) < 0.02, "\(share)")
        var small = try UniformReservoir(capacity: 10, seed: 1)
        small.update(1); small.update(2)
        var other = try UniformReservoir(capacity: 10, seed: 2)
        other.update(3)
        try small.merge(other)
        #expect(small.items.sorted() == [1, 2, 3])
        #expect(throws: SketchError.self) { try small.merge(try UniformReservoir(capacity: 11, seed: 1)) }
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        var r = try UniformReservoir(capacity: 8, seed: 9)
        for i in 0..<1000 { r.update(key(i)) }
        let bytes = r.serialized()
        var back = try UniformReservoir(deserializing: bytes)
        #expect(back == r)
        #expect(back.serialized() == bytes)
        for i in 0..<1000 { r.update(key(i)); back.update(key(i)) }
        #expect(back == r)
        expectDamageDetected(bytes) { _ = try UniformReservoir(deserializing: $0) }
    }
}

@Suite struct PrioritySampleTests {
    /// Heavy-tailed positive weights with signed values.
    func items(seed: UInt64, n: Int) -> [(key: UInt64, weight: Double, value: Double)] {
        var rng = CounterRNG(key: seed)
        return (0..<n).map { i in
            let w = 1 / (rng.nextDouble() + 0.01)
            return (key(i), w, (rng.nextDouble() < 0.3 ? -1 : 1) * w)
        }
    }

    @Test func horvitzThompsonIsUnbiasedAndCovers() throws {
        let data = items(seed: 1, n: 2000)
        let subset: (UInt64) -> Bool = { $0 % 3 == 0 }
        let trueWeight = data.filter { subset($0.key) }.reduce(0) { $0 + $1.weight }
        let trueValue = data.filter { subset($0.key) }.reduce(0) { $0 + $1.value }
        let trials = 300
        var sumW = 0.0, sumV = 0.0, sqW = 0.0, insideW = 0, insideV = 0
        for trial in 0..<trials {
            var sample = try PrioritySample(capacity: 100, seed: UInt64(trial) + 1)
            for item in data { sample.update(item.key, weight: item.weight, value: item.value) }
            #expect(sample.sample.count == 100)
            let w = sample.estimateWeightSum(where: subset), v = sample.estimateValueSum(where: subset)
            sumW += w.estimate; sqW += w.estimate * w.estimate; sumV += v.estimate
            if w.lowerBound() <= trueWeight && trueWeight <= w.upperBound() { insideW += 1 }
            if v.lowerBound() <= trueValue && trueValue <= v.upperBound() { insideV += 1 }
        }
        let meanW = sumW / Double(trials)
        let sdW = (sqW / Double(trials) - meanW * meanW).squareRoot()
        // Unbiased: the mean is within 4 standard errors of the truth.
        #expect(abs(meanW - trueWeight) < 4 * sdW / Double(trials).squareRoot(), "\(meanW) vs \(trueWeight)")
        #expect(abs(sumV / Double(trials) - trueValue) < 4 * sdW / Double(trials).squareRoot())
        // Nominal 95 % intervals (normal approximation) cover at least 90 %.
        #expect(Double(insideW) / Double(trials) >= 0.9, "\(insideW)")
        #expect(Double(insideV) / Double(trials) >= 0.9, "\(insideV)")
    }

    @Test func exactBelowCapacityAndTotalsExact() throws {
        var sample = try PrioritySample(capacity: 50, seed: 1)
        let data = items(seed: 2, n: 40)
        for item in data { sample.update(item.key, weight: item.weight, value: item.value) }
        #expect(sample.threshold == 0)
        let all = sample.estimateWeightSum { _ in true }
        #expect(abs(all.estimate - data.reduce(0) { $0 + $1.weight }) < 1e-9 * all.estimate)
        #expect(all.variance == 0)
    }

    @Test func itemsBelowThresholdChangeNothingAndMergeIsExact() throws {
        let data = items(seed: 3, n: 3000)
        // Priorities from a hash so that two sketches see the same priorities.
        func priority(_ item: (key: UInt64, weight: Double, value: Double)) -> Double {
            item.weight / ((Double(XXH3.hash(item.key, seed: 5) >> 11) + 1) * 0x1p-53)
        }
        var whole = try PrioritySample(capacity: 64, seed: 1)
        var a = try PrioritySample(capacity: 64, seed: 2), b = try PrioritySample(capacity: 64, seed: 3)
        var skipped = 0
        for (i, item) in data.enumerated() {
            let q = priority(item)
            if q <= whole.threshold {
                let before = whole.sample
                whole.update(item.key, weight: item.weight, value: item.value, priority: q)
                #expect(whole.sample == before)
                skipped += 1
            } else {
                whole.update(item.key, weight: item.weight, value: item.value, priority: q)
            }
            if i < 1700 { a.update(item.key, weight: item.weight, value: item.value, priority: q) }
            else { b.update(item.key, weight: item.weight, value: item.value, priority: q) }
        }
        #expect(skipped > 2000)
        try a.merge(b)
        #expect(a.sample == whole.sample)
        #expect(a.threshold == whole.threshold)
        #expect(a.count == whole.count)
        #expect(throws: SketchError.self) { try a.merge(try PrioritySample(capacity: 65, seed: 1)) }
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        var sample = try PrioritySample(capacity: 12, seed: 4)
        for item in items(seed: 5, n: 500) { sample.update(item.key, weight: item.weight, value: item.value) }
        let bytes = sample.serialized()
        var back = try PrioritySample(deserializing: bytes)
        #expect(back == sample)
        #expect(back.serialized() == bytes)
        for item in items(seed: 6, n: 200) {
            sample.update(item.key, weight: item.weight, value: item.value)
            back.update(item.key, weight: item.weight, value: item.value)
        }
        #expect(back == sample)
        expectDamageDetected(bytes) { _ = try PrioritySample(deserializing: $0) }
    }
}
