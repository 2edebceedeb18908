import KymoCore

/// One sampled item of a `PrioritySample`.
public struct WeightedItem: Sendable, Equatable {
    public let key: UInt64
    /// Sampling weight w > 0 (for contributions, |c|).
    public let weight: Double
    /// Attached value summed by `estimateValueSum` (for contributions, the signed c).
    public let value: Double
    /// w/u with u uniform in (0, 1].
    public let priority: Double
}

/// Priority sampling (Duffield–Lund–Thorup): a weighted sample of k items that gives unbiased
/// Horvitz–Thompson estimates of the weight (or of an attached value) of any subset.
///
/// Each item gets priority q = w/u, u uniform in (0, 1]. The sketch keeps the k + 1 largest
/// priorities in a min-heap; the sample is the top k and τ, the (k+1)-th largest priority, is the
/// threshold. Items whose priority is at most τ leave the sketch unchanged, so a caller that draws
/// candidates in bulk (from rank-one factors) may skip every candidate with w/u ≤ `threshold`
/// (it enters with probability min(1, w/τ)) and offer only the rest with `update(_:weight:value:priority:)`.
///
/// **Accuracy.** Item i of the sample estimates its weight by ŵᵢ = max(wᵢ, τ) and its value by
/// vᵢ·max(1, τ/wᵢ): Σ over the sampled items of a subset is an unbiased estimate of the subset's
/// sum (DLT, Thm. 1). The variance estimate Σ vᵢ²(1 − pᵢ)/pᵢ² with pᵢ = min(1, wᵢ/τ) (for
/// weights: Σ τ·max(0, τ − wᵢ)) is unbiased too, and the interval estimate ± z·√variance is a
/// normal approximation (coverage approximate, good when the subset has several sampled items).
/// With fewer than k + 1 items seen, τ = 0 and every estimate is exact.
///
/// **Space.** 32(k+1) bytes.
///
/// **Merge.** Samples with the same k merge by keeping the k + 1 largest priorities of both:
/// exactly the sample of the concatenated stream when both drew independent priorities (use
/// different seeds for different shards).
///
/// **Serialization.** Envelope kind 5. Body: capacity k (UInt32, off 16), rng.key (UInt64, 20),
/// rng.counter (UInt64, 28), count (UInt64, 36), totalWeight (Double, 44), n (UInt32, 52), then n
/// entries in heap order of key (UInt64), weight, value, priority (Double).
///
/// **Background.** N. Duffield, C. Lund, M. Thorup, "Priority sampling for estimation of arbitrary
/// subset sums", J. ACM 54(6), 2007; M. Szegedy, "The DLT priority sampling is essentially
/// optimal", STOC 2006.
public struct PrioritySample: Sendable, Equatable {
    public let capacity: Int
    package private(set) var rng: CounterRNG
    /// Items offered (with positive weight).
    public private(set) var count: UInt64 = 0
    /// Exact total weight offered.
    public private(set) var totalWeight: Double = 0
    // Min-heap on priority of at most k + 1 entries.
    var keys: [UInt64] = []
    var weights: [Double] = []
    var values: [Double] = []
    var priorities: [Double] = []

    /// - Complexity: O(1).
    public init(capacity: Int, seed: UInt64) throws(SketchError) {
        guard capacity >= 1, capacity <= 1 << 26 else {
            throw .invalidArgument(sketch: "PrioritySample", message: "capacity \(capacity) out of range")
        }
        self.capacity = capacity
        rng = CounterRNG(key: seed)
        keys.reserveCapacity(capacity + 1); weights.reserveCapacity(capacity + 1)
        values.reserveCapacity(capacity + 1); priorities.reserveCapacity(capacity + 1)
    }

    /// τ: the (k+1)-th largest priority so far, 0 until k + 1 items were seen. An item enters the
    /// sketch only if its priority exceeds τ.
    /// - Complexity: O(1).
    public var threshold: Double { priorities.count == capacity + 1 ? priorities[0] : 0 }

    /// Offers an item, drawing its priority from the sketch's own generator.
    /// - Complexity: O(1) when it does not enter (most items once n ≫ k), O(log k) otherwise.
    public mutating func update(_ key: UInt64, weight: Double, value: Double = 0) {
        guard weight > 0 else { return }
        let u = (Double(rng.next() >> 11) + 1) * 0x1p-53
        if priorities.count == capacity + 1 && weight <= priorities[0] * u {
            count &+= 1
            totalWeight += weight
            return
        }
        update(key, weight: weight, value: value, priority: weight / u)
    }

    /// Offers an item whose priority w/u the caller drew (u uniform in (0, 1], independent of
    /// everything else). Items with priority ≤ `threshold` only count.
    /// - Complexity: O(log k).
    public mutating func update(_ key: UInt64, weight: Double, value: Double, priority: Double) {
        guard weight > 0 else { return }
        count &+= 1
        totalWeight += weight
        insert(key, weight: weight, value: value, priority: priority)
    }

    /// Counts `n` items of total weight `weight` that the caller skipped because their priority
    /// could not exceed `threshold`.
    /// - Complexity: O(1).
    public mutating func skip(count n: UInt64, weight: Double) {
        count &+= n
        totalWeight += weight
    }

    private mutating func insert(_ key: UInt64, weight: Double, value: Double, priority: Double) {
        let full = capacity + 1
        if priorities.count == full {
            if priority <= priorities[0] { return }
            keys[0] = key; weights[0] = weight; values[0] = value; priorities[0] = priority
            siftDown(0)
        } else {
            keys.append(key); weights.append(weight); values.append(value); priorities.append(priority)
            siftUp(priorities.count - 1)
        }
    }

    private mutating func swapEntries(_ i: Int, _ j: Int) {
        keys.swapAt(i, j); weights.swapAt(i, j); values.swapAt(i, j); priorities.swapAt(i, j)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = priorities.count
        while true {
            let left = 2 * i + 1
            if left >= n { return }
            var child = left
            if left + 1 < n && priorities[left + 1] < priorities[left] { child = left + 1 }
            if priorities[child] >= priorities[i] { return }
            swapEntries(i, child)
            i = child
        }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            if priorities[parent] <= priorities[i] { return }
            swapEntries(i, parent)
            i = parent
        }
    }

    /// The sample: the k items of largest priority (all items while fewer than k + 1 were seen),
    /// by priority descending, ties by key.
    /// - Complexity: O(k log k).
    public var sample: [WeightedItem] {
        let skipRoot = priorities.count == capacity + 1
        return priorities.indices.filter { !skipRoot || $0 != 0 }
            .map { WeightedItem(key: keys[$0], weight: weights[$0], value: values[$0], priority: priorities[$0]) }
            .sorted { $0.priority != $1.priority ? $0.priority > $1.priority : $0.key < $1.key }
    }

    /// Horvitz–Thompson estimate of the total weight of the items whose key satisfies `predicate`.
    /// - Complexity: O(k).
    public func estimateWeightSum(where predicate: (UInt64) -> Bool) -> SubsetSumEstimate {
        estimate(predicate) { $0.weight }
    }

    /// Horvitz–Thompson estimate of the total value of the items whose key satisfies `predicate`.
    /// - Complexity: O(k).
    public func estimateValueSum(where predicate: (UInt64) -> Bool) -> SubsetSumEstimate {
        estimate(predicate) { $0.value }
    }

    private func estimate(_ predicate: (UInt64) -> Bool, _ quantity: (WeightedItem) -> Double) -> SubsetSumEstimate {
        let tau = threshold
        var sum = 0.0, variance = 0.0
        for item in sample where predicate(item.key) {
            let v = quantity(item)
            let p = tau > 0 ? min(1, item.weight / tau) : 1
            sum += v / p
            variance += v * v * (1 - p) / (p * p)
        }
        return SubsetSumEstimate(estimate: sum, variance: variance)
    }

    /// Keeps the k + 1 largest priorities of both sketches (see Merge).
    /// - Throws: `SketchError.incompatible` unless the capacities agree.
    /// - Complexity: O(k log k).
    public mutating func merge(_ other: PrioritySample) throws(SketchError) {
        guard capacity == other.capacity else {
            throw .incompatible(sketch: "PrioritySample", message: "capacity \(capacity)/\(other.capacity) must agree")
        }
        var all: [WeightedItem] = []
        for s in [self, other] {
            for i in s.priorities.indices {
                all.append(WeightedItem(key: s.keys[i], weight: s.weights[i], value: s.values[i], priority: s.priorities[i]))
            }
        }
        all.sort { $0.priority != $1.priority ? $0.priority < $1.priority : $0.key > $1.key }
        keys = []; weights = []; values = []; priorities = []
        for item in all.suffix(capacity + 1) {
            keys.append(item.key); weights.append(item.weight); values.append(item.value); priorities.append(item.priority)
        }
        count &+= other.count
        totalWeight += other.totalWeight
    }

    /// - Complexity: O(k).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.prioritySample, capacity: 32 * priorities.count + 48)
        writer.write(UInt32(capacity))
        writer.write(rng.key)
        writer.write(rng.counter)
        writer.write(count)
        writer.write(totalWeight)
        writer.write(UInt32(priorities.count))
        for i in priorities.indices {
            writer.write(keys[i]); writer.write(weights[i]); writer.write(values[i]); writer.write(priorities[i])
        }
        return SketchEnvelope.finish(&writer)
    }

    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(k).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .prioritySample)
        let s = try SketchEnvelope.decode { () throws(CoreError) in
            let kAt = reader.offset
            let k = Int(try reader.read(UInt32.self, "capacity"))
            try reader.check(k >= 1 && k <= 1 << 26, field: "capacity", at: kAt, "capacity \(k) out of range")
            let key = try reader.read(UInt64.self, "rng.key")
            let counter = try reader.read(UInt64.self, "rng.counter")
            let n = try reader.read(UInt64.self, "count")
            let total = try reader.readDouble("totalWeight")
            let mAt = reader.offset
            let m = Int(try reader.read(UInt32.self, "entries.count"))
            try reader.check(m <= k + 1 && UInt64(m) <= n && m * 32 <= reader.remaining, field: "entries.count", at: mAt,
                             "\(m) entries for capacity \(k)")
            var items: [WeightedItem] = []
            for i in 0..<m {
                let at = reader.offset
                let item = WeightedItem(key: try reader.read(UInt64.self, "entries[\(i)].key"),
                                        weight: try reader.readDouble("entries[\(i)].weight"),
                                        value: try reader.readDouble("entries[\(i)].value"),
                                        priority: try reader.readDouble("entries[\(i)].priority"))
                try reader.check(item.weight > 0 && item.priority >= item.weight, field: "entries[\(i)]", at: at,
                                 "weight \(item.weight), priority \(item.priority)")
                items.append(item)
            }
            try reader.expectEnd()
            return (k, key, counter, n, total, items)
        }
        try self.init(capacity: s.0, seed: 0)
        rng = CounterRNG(key: s.1, counter: s.2)
        count = s.3
        totalWeight = s.4
        for item in s.5 {
            keys.append(item.key); weights.append(item.weight); values.append(item.value); priorities.append(item.priority)
        }
    }
}
