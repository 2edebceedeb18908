#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KymoCore

/// A uniform random sample of k keys from a stream (Li's Algorithm L: it draws the number of
/// items to skip before the next replacement, so most updates only count).
///
/// **Accuracy.** Each k-subset of the n items seen is equally likely to be the sample (for
/// n ≤ k the sample is the whole stream). `estimateCount(where:)` scales the matching fraction of
/// the sample to n; its variance is the hypergeometric n²·p̂(1−p̂)/k·(n−k)/(n−1) (estimated), and
/// the interval is a normal-approximation interval, so its coverage is approximate.
///
/// **Space.** 8k bytes plus a few words of state.
///
/// **Merge.** Reservoirs of equal capacity merge by drawing how many of the k merged slots come
/// from each side (hypergeometric over the two stream lengths) and a uniform subset of that size
/// of each sample: the result is a uniform k-sample of the concatenated streams. A merged
/// reservoir keeps counting with Algorithm R (one draw per item) because Algorithm L's skip state
/// cannot be reconstructed from a sample.
///
/// **Serialization.** Envelope kind 4. Body: capacity (UInt32, off 16), rng.key (UInt64, 20),
/// rng.counter (UInt64, 28), seen n (UInt64, 36), W (Double, 44), nextAccept (UInt64, 52),
/// algorithmR (UInt8, 60), items.count (UInt64, 61), items (UInt64 each, 69).
///
/// **Background.** K.-H. Li, "Reservoir-sampling algorithms of time complexity O(n(1+log(N/n)))",
/// ACM TOMS 20(4), 1994; J. S. Vitter, "Random sampling with a reservoir", ACM TOMS 11(1), 1985.
/// The skip lengths use `log`/`exp` from the C library; a platform whose libm rounds differently
/// in the last place could, very rarely, skip differently.
public struct UniformReservoir: Sendable, Equatable {
    public let capacity: Int
    package private(set) var rng: CounterRNG
    /// The sampled keys (at most `capacity`).
    public private(set) var items: [UInt64] = []
    /// Number of items seen, n.
    public private(set) var count: UInt64 = 0
    var w: Double = 1
    var nextAccept: UInt64 = 0
    var algorithmR = false

    /// - Complexity: O(1).
    public init(capacity: Int, seed: UInt64) throws(SketchError) {
        guard capacity >= 1, capacity <= 1 << 28 else {
            throw .invalidArgument(sketch: "UniformReservoir", message: "capacity \(capacity) out of range")
        }
        self.capacity = capacity
        rng = CounterRNG(key: seed)
        items.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func uniformOpen() -> Double { (Double(rng.next() >> 11) + 1) * 0x1p-53 }

    private mutating func drawSkip() -> UInt64 {
        let skip = (log(uniformOpen()) / log1p(-w)).rounded(.down)
        return skip < 0x1p62 ? UInt64(skip) : 1 << 62
    }

    /// Offers one key.
    /// - Complexity: O(1); amortized a compare and an increment.
    public mutating func update(_ key: UInt64) {
        if count == nextAccept { accept(key) }
        count &+= 1
    }

    private mutating func accept(_ key: UInt64) {
        let k = capacity
        if count < UInt64(k) {
            items.append(key)
            if count + 1 == UInt64(k) {
                w = exp(log(uniformOpen()) / Double(k))
                nextAccept = count + drawSkip() + 1
            } else {
                nextAccept = count + 1
            }
        } else if algorithmR {
            let j = rng.next(below: count + 1)
            if j < UInt64(k) { items[Int(j)] = key }
            nextAccept = count + 1
        } else {
            items[Int(rng.next(below: UInt64(k)))] = key
            w *= exp(log(uniformOpen()) / Double(k))
            nextAccept = count + drawSkip() + 1
        }
    }

    /// Offers every key of `keys`.
    /// - Complexity: O(n) increments, O(k(1 + log(n/k))) random draws.
    public mutating func update(_ keys: [UInt64]) {
        keys.withUnsafeBufferPointer { keys in
            var i = 0
            while i < keys.count {
                // Jump straight to the next accepted position.
                let gap = nextAccept &- count
                if gap >= UInt64(keys.count - i) {
                    count &+= UInt64(keys.count - i)
                    return
                }
                i += Int(gap)
                count &+= gap
                accept(keys[i])
                count &+= 1
                i += 1
            }
        }
    }

    /// How many upcoming items will be skipped before the next one enters (0: the next one does).
    /// Callers may advance with `skip(_:)` instead of offering them.
    /// - Complexity: O(1).
    public var itemsUntilNextAcceptance: UInt64 { nextAccept &- count }

    /// Counts `n` items without offering them. Requires `n ≤ itemsUntilNextAcceptance`.
    /// - Complexity: O(1).
    public mutating func skip(_ n: UInt64) {
        precondition(n <= itemsUntilNextAcceptance, "skip past the next acceptance")
        count &+= n
    }

    /// Estimate of how many of the n items satisfy `predicate`, with a variance estimate.
    /// - Complexity: O(k).
    public func estimateCount(where predicate: (UInt64) -> Bool) -> SubsetSumEstimate {
        guard !items.isEmpty else { return SubsetSumEstimate(estimate: 0, variance: 0) }
        let matches = items.reduce(0) { $0 + (predicate($1) ? 1 : 0) }
        let k = Double(items.count), n = Double(count)
        let p = Double(matches) / k
        let fpc = n > 1 ? (n - k) / (n - 1) : 0
        return SubsetSumEstimate(estimate: p * n, variance: n * n * p * (1 - p) / k * fpc)
    }

    /// Merges `other` (see Merge).
    /// - Throws: `SketchError.incompatible` unless the capacities agree.
    /// - Complexity: O(k).
    public mutating func merge(_ other: UniformReservoir) throws(SketchError) {
        guard capacity == other.capacity else {
            throw .incompatible(sketch: "UniformReservoir", message: "capacity \(capacity)/\(other.capacity) must agree")
        }
        let total = count + other.count
        var a = items, b = other.items
        if total <= UInt64(capacity) {
            items = a + b
        } else {
            // How many of the k slots come from each stream: k draws without replacement.
            var remainingA = count, remainingB = other.count, fromA = 0
            for _ in 0..<capacity {
                if rng.next(below: remainingA + remainingB) < remainingA { fromA += 1; remainingA -= 1 } else { remainingB -= 1 }
            }
            // Uniform subsets by partial Fisher–Yates.
            func take(_ xs: inout [UInt64], _ m: Int, _ rng: inout CounterRNG) -> ArraySlice<UInt64> {
                for i in 0..<m {
                    let j = i + Int(rng.next(below: UInt64(xs.count - i)))
                    xs.swapAt(i, j)
                }
                return xs[0..<m]
            }
            items = Array(take(&a, fromA, &rng)) + Array(take(&b, capacity - fromA, &rng))
            algorithmR = true
        }
        count = total
        nextAccept = count
        if count < UInt64(capacity) { algorithmR = false }
        else if count == UInt64(capacity) && !algorithmR {
            w = exp(log(uniformOpen()) / Double(capacity))
            nextAccept = count + drawSkip()
        } else { algorithmR = true }
    }

    /// - Complexity: O(k).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.uniformReservoir, capacity: 8 * items.count + 64)
        writer.write(UInt32(capacity))
        writer.write(rng.key)
        writer.write(rng.counter)
        writer.write(count)
        writer.write(w)
        writer.write(nextAccept)
        writer.write(algorithmR)
        writer.write(array: items)
        return SketchEnvelope.finish(&writer)
    }

    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(k).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .uniformReservoir)
        let state = try SketchEnvelope.decode { () throws(CoreError) in
            let kAt = reader.offset
            let k = Int(try reader.read(UInt32.self, "capacity"))
            try reader.check(k >= 1 && k <= 1 << 28, field: "capacity", at: kAt, "capacity \(k) out of range")
            let key = try reader.read(UInt64.self, "rng.key")
            let counter = try reader.read(UInt64.self, "rng.counter")
            let n = try reader.read(UInt64.self, "count")
            let w = try reader.readDouble("W")
            let next = try reader.read(UInt64.self, "nextAccept")
            let r = try reader.readBool("algorithmR")
            let itemsAt = reader.offset
            let items = try reader.readArray(UInt64.self, "items")
            try reader.check(UInt64(items.count) == min(n, UInt64(k)) && next >= n, field: "items", at: itemsAt,
                             "\(items.count) items for capacity \(k) after \(n) updates")
            try reader.expectEnd()
            return (k, key, counter, n, w, next, r, items)
        }
        try self.init(capacity: state.0, seed: 0)
        rng = CounterRNG(key: state.1, counter: state.2)
        count = state.3; w = state.4; nextAccept = state.5; algorithmR = state.6; items = state.7
    }
}

/// An unbiased estimate of a sum with an (unbiased or approximate) variance estimate.
public struct SubsetSumEstimate: Sendable, Equatable {
    public let estimate: Double
    public let variance: Double

    /// - Complexity: O(1).
    public init(estimate: Double, variance: Double) {
        self.estimate = estimate
        self.variance = variance
    }

    /// √variance.
    /// - Complexity: O(1).
    public var standardError: Double { variance.squareRoot() }
    /// `estimate − z·standardError` (normal approximation; z = 1.96 for 95 %).
    /// - Complexity: O(1).
    public func lowerBound(z: Double = 1.96) -> Double { estimate - z * standardError }
    /// `estimate + z·standardError`.
    /// - Complexity: O(1).
    public func upperBound(z: Double = 1.96) -> Double { estimate + z * standardError }
}
