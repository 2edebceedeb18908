import KymoCore

/// One entry of a Space-Saving top-k answer.
public struct SpaceSavingItem: Sendable, Equatable {
    public let key: UInt64
    /// The counter (an upper bound on the key's admitted mass).
    public let estimate: Double
    /// The key's true mass is at least this (deterministic).
    public let lowerBound: Double
    /// The key's true mass is at most this (deterministic), rejected mass included.
    public let upperBound: Double
    /// True when the key is certainly among the true top-j keys of the query that returned it.
    public let isGuaranteed: Bool
}

/// Weighted Space-Saving (Metwally–Agrawal–El Abbadi) over `UInt64` keys with non-negative
/// weights: the keys of largest total mass, each with deterministic lower and upper bounds.
///
/// k counters (key, count, error) live in fixed slots ("ids"); a 4-ary min-heap orders the ids by
/// count, and an open-addressing table (XXH3, linear probing, backward-shift deletion) maps a key
/// to its id. Heap moves touch only (count, id) pairs and the id → position array. An update of a
/// monitored key adds to its count; an unmonitored key takes over the minimum counter m: count
/// m + w, error m.
///
/// **Admission test.** `admissionThreshold` is the minimum counter (0 until k keys are monitored).
/// `offer(_:weight:)` drops an update with weight below it in O(1), without hashing: it is added to
/// M and to the rejected mass R, and every upper bound includes R. (This is sound whether or not
/// the key was monitored: a rejected key's true mass is its admitted mass plus at most R.) When
/// each key arrives at most once per summary (the recorder's per-epoch case), a rejected key's own
/// mass is below the minimum counter, so nothing that could enter the top-k is lost.
///
/// **Accuracy (deterministic).** With M_a the admitted mass and R the rejected mass (M = M_a + R):
/// for a monitored key, `count − error ≤ f(x) ≤ count + R`; for any other key,
/// `0 ≤ f(x) ≤ min + R`; and `error ≤ min ≤ M_a/k`. So every key's interval is at most
/// M/k wide when nothing is rejected (the classical bound), and M_a/k + R in general.
/// `topK(j)` marks a returned key guaranteed when its lower bound is at least the upper bound of
/// every key not returned (so it belongs to a true top-j set).
///
/// **Space.** k·(8+4+4+8+8+4) bytes plus a table of 4k to 8k slots of 8+4 bytes.
///
/// **Merge** (Agarwal et al.): sketches with equal k and seed combine per key
/// `count = ub_A + ub_B`, `error = count − (lb_A + lb_B)` (ub/lb are the admitted-mass bounds,
/// an absent key counting its sketch's minimum as upper and 0 as lower bound), keeping the k
/// largest counts (ties by smaller key); M and R add. Each error stays ≤ min_A + min_B ≤ M_a/k,
/// and the kept counts sum to at most M_a, so the new minimum is again ≤ M_a/k and bounds the
/// mass of every key not kept.
///
/// **Serialization.** Envelope kind 3. Body: capacity k (UInt32, off 16), seed (UInt64, 20),
/// totalWeight M (Double, 28), rejectedWeight R (Double, 36), n = monitored keys (UInt32, 44),
/// then n entries in heap order of key (UInt64), count (Double), error (Double).
///
/// **Background.** A. Metwally, D. Agrawal, A. El Abbadi, "Efficient computation of frequent and
/// top-k elements in data streams", ICDT 2005; P. Agarwal, G. Cormode, Z. Huang, J. Phillips,
/// Z. Wei, K. Yi, "Mergeable summaries", PODS 2012 / TODS 38(4), 2013.
///
/// `@unchecked Sendable`: `ManagedBuffer` is not `Sendable`, but the sketch is a value with
/// copy-on-write storage: a buffer that two sketches share is only read (every mutation first
/// copies it unless `isKnownUniquelyReferenced`, an atomic check), like `Array`'s.
public struct SpaceSavingSketch: @unchecked Sendable {
    /// k, the number of counters.
    public let capacity: Int
    /// Seed of the key table's hash (affects speed only, never an answer).
    public let seed: UInt64
    /// Total mass M of every update, admitted or rejected.
    public private(set) var totalWeight: Double = 0
    /// Mass R dropped by `offer(_:weight:)` or `reject(weight:)`.
    public private(set) var rejectedWeight: Double = 0

    /// Every array of the sketch in one reference-counted allocation (copied on write).
    var storage: Storage
    /// Live counters; ids 0..<count are in use.
    var count = 0
    let mask: Int

    /// - Complexity: O(k).
    public init(capacity: Int, seed: UInt64 = 0) throws(SketchError) {
        guard capacity >= 1, capacity <= 1 << 26 else {
            throw .invalidArgument(sketch: "SpaceSavingSketch", message: "capacity \(capacity) out of range")
        }
        self.capacity = capacity
        self.seed = seed
        var tableSize = 16
        while tableSize < 4 * capacity { tableSize <<= 1 }
        storage = Storage.make(capacity: capacity, tableSize: tableSize)
        mask = tableSize - 1
    }

    /// The sizes of a `Storage`'s regions.
    struct Shape {
        let capacity: Int
        let tableSize: Int

        /// 8-byte words: Double counts and errors, UInt64 keys and table keys, then the four
        /// Int32 arrays two to a word.
        var words: Int { 3 * capacity + tableSize + (3 * capacity + tableSize + 1) / 2 }
        var int32Start: Int { 3 * capacity + tableSize }
    }

    /// The arrays of one sketch as a `ManagedBuffer` of 8-byte words: the buffer owns the memory
    /// (freed with the last reference; every element type is trivial, so nothing needs
    /// deinitializing), and a sketch copies it before a mutation when another sketch shares it
    /// (`makeUnique()`, copy-on-write). Typed pointers into it exist only as a `View` inside
    /// `withView`, for the duration of one operation; they never outlive the closure.
    final class Storage: ManagedBuffer<Shape, UInt64> {
        /// A buffer with counts, errors and keys 0 and every Int32 −1 (empty table slots).
        static func make(capacity: Int, tableSize: Int) -> Storage {
            let shape = Shape(capacity: capacity, tableSize: tableSize)
            let buffer = unsafeDowncast(create(minimumCapacity: shape.words) { _ in shape }, to: Storage.self)
            buffer.withUnsafeMutablePointerToElements { words in
                words.initialize(repeating: 0, count: shape.int32Start)
                (words + shape.int32Start).initialize(repeating: .max, count: shape.words - shape.int32Start)
                View.bind(words, shape)
            }
            return buffer
        }

        /// A buffer with the same contents.
        func copy() -> Storage {
            let shape = header
            let buffer = unsafeDowncast(Storage.create(minimumCapacity: shape.words) { _ in shape }, to: Storage.self)
            withUnsafeMutablePointerToElements { source in
                buffer.withUnsafeMutablePointerToElements { words in
                    UnsafeMutableRawPointer(words).copyMemory(from: source, byteCount: 8 * shape.words)
                    View.bind(words, shape)
                }
            }
            return buffer
        }
    }

    /// Typed pointers to the regions of a `Storage`, valid only inside the `withView` closure
    /// that made them.
    struct View {
        /// Heap position → count, and → id.
        let heapCount: UnsafeMutablePointer<Double>
        let heapId: UnsafeMutablePointer<Int32>
        /// Id → heap position, key, error, table slot.
        let position: UnsafeMutablePointer<Int32>
        let keys: UnsafeMutablePointer<UInt64>
        let errors: UnsafeMutablePointer<Double>
        let slotOf: UnsafeMutablePointer<Int32>
        /// Table slot → key, id (−1 = empty).
        let tKeys: UnsafeMutablePointer<UInt64>
        let tId: UnsafeMutablePointer<Int32>
        let tableSize: Int

        /// Binds the regions of freshly initialized words to their element types.
        static func bind(_ words: UnsafeMutablePointer<UInt64>, _ shape: Shape) {
            let raw = UnsafeMutableRawPointer(words)
            _ = raw.bindMemory(to: Double.self, capacity: 2 * shape.capacity)
            _ = (raw + 8 * shape.int32Start).bindMemory(to: Int32.self, capacity: 3 * shape.capacity + shape.tableSize)
        }

        @inline(__always)
        init(_ words: UnsafeMutablePointer<UInt64>, _ shape: Shape) {
            let (k, t) = (shape.capacity, shape.tableSize)
            let raw = UnsafeMutableRawPointer(words)
            let doubles = raw.assumingMemoryBound(to: Double.self)
            heapCount = doubles
            errors = doubles + k
            keys = words + 2 * k
            tKeys = words + 3 * k
            let ints = (raw + 8 * shape.int32Start).assumingMemoryBound(to: Int32.self)
            heapId = ints
            position = ints + k
            slotOf = ints + 2 * k
            tId = ints + 3 * k
            tableSize = t
        }

        /// Count of id `id`.
        func count(of id: Int) -> Double { heapCount[Int(position[id])] }

        /// Moves the entry at heap position `start` down (4-ary) until its children are larger.
        func siftDown(_ start: Int, _ n: Int) {
            var i = start
            let c = heapCount[i], id = heapId[i]
            while true {
                let first = 4 &* i &+ 1
                if first >= n { break }
                var best = first
                var bc = heapCount[first]
                if first &+ 3 < n {
                    let c1 = heapCount[first &+ 1], c2 = heapCount[first &+ 2], c3 = heapCount[first &+ 3]
                    let (m01, i01) = c1 < bc ? (c1, first &+ 1) : (bc, first)
                    let (m23, i23) = c3 < c2 ? (c3, first &+ 3) : (c2, first &+ 2)
                    (bc, best) = m23 < m01 ? (m23, i23) : (m01, i01)
                } else {
                    var j = first &+ 1
                    while j < n { if heapCount[j] < bc { bc = heapCount[j]; best = j }; j &+= 1 }
                }
                if bc >= c { break }
                heapCount[i] = bc
                let moved = heapId[best]
                heapId[i] = moved
                position[Int(moved)] = Int32(truncatingIfNeeded: i)
                i = best
            }
            heapCount[i] = c; heapId[i] = id; position[Int(id)] = Int32(truncatingIfNeeded: i)
        }

        /// Moves the entry at heap position `start` up until its parent is smaller or equal.
        func siftUp(_ start: Int) {
            var i = start
            let c = heapCount[i], id = heapId[i]
            while i > 0 {
                let parent = (i &- 1) >> 2
                if heapCount[parent] <= c { break }
                heapCount[i] = heapCount[parent]
                let moved = heapId[parent]
                heapId[i] = moved
                position[Int(moved)] = Int32(truncatingIfNeeded: i)
                i = parent
            }
            heapCount[i] = c; heapId[i] = id; position[Int(id)] = Int32(truncatingIfNeeded: i)
        }

        func freeSlot(for home: UInt64, mask: Int) -> Int {
            var slot = Int(truncatingIfNeeded: home) & mask
            while tId[slot] >= 0 { slot = (slot &+ 1) & mask }
            return slot
        }

        /// Backward-shift deletion for linear probing.
        func removeFromTable(_ slot: Int, mask: Int, seed: UInt64) {
            var hole = slot
            var j = slot
            while true {
                j = (j &+ 1) & mask
                let e = tId[j]
                if e < 0 { break }
                let home = Int(truncatingIfNeeded: SketchHash.hash(tKeys[j], seed: seed)) & mask
                if (j &- home) & mask >= (j &- hole) & mask {
                    tKeys[hole] = tKeys[j]; tId[hole] = e; slotOf[Int(e)] = Int32(truncatingIfNeeded: hole)
                    hole = j
                }
            }
            tId[hole] = -1
        }
    }

    /// Runs `body` on typed pointers to this sketch's arrays (reads; a mutation calls
    /// `makeUnique()` first).
    @inline(__always)
    func withView<R>(_ body: (View) -> R) -> R {
        storage.withUnsafeMutablePointerToElements { body(View($0, Shape(capacity: capacity, tableSize: mask &+ 1))) }
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// ⌈1/ε⌉ counters: every key's interval is at most ε·M wide (nothing rejected).
    /// - Complexity: O(1).
    public static func suggestedCapacity(epsilon: Double) -> Int { Int((1 / epsilon).rounded(.up)) }

    /// Number of monitored keys (≤ k).
    /// - Complexity: O(1).
    public var monitoredCount: Int { count }

    /// The minimum counter once k keys are monitored, else 0: an unmonitored key's admitted mass
    /// is at most this, and `offer` rejects weights below it.
    /// - Complexity: O(1).
    public var admissionThreshold: Double { count == capacity ? withView { $0.heapCount[0] } : 0 }

    /// Adds `weight` (≥ 0) to `key` unless `weight < admissionThreshold`, in which case the mass
    /// is only counted in M and R. Returns whether it was admitted.
    /// - Complexity: O(1) when rejected; O(log k) expected otherwise.
    @discardableResult
    public mutating func offer(_ key: UInt64, weight: Double) -> Bool {
        if count == capacity && weight < withView({ $0.heapCount[0] }) {
            totalWeight += weight
            rejectedWeight += weight
            return false
        }
        update(key, weight: weight)
        return true
    }

    /// Accounts for mass the caller skipped after comparing it with `admissionThreshold` itself.
    /// - Complexity: O(1).
    public mutating func reject(weight: Double) {
        totalWeight += weight
        rejectedWeight += weight
    }

    /// Offers every `(keys[i], weights[i])` (see `offer`); returns how many were admitted.
    /// - Complexity: O(n) plus O(log k) per admitted update.
    @discardableResult
    public mutating func offer(_ keys: [UInt64], weights: [Double]) -> Int {
        precondition(keys.count == weights.count)
        var admitted = 0
        keys.withUnsafeBufferPointer { k in
            weights.withUnsafeBufferPointer { w in
                for i in k.indices {
                    if count == capacity && w[i] < withView({ $0.heapCount[0] }) {
                        totalWeight += w[i]
                        rejectedWeight += w[i]
                    } else {
                        update(k[i], weight: w[i])
                        admitted += 1
                    }
                }
            }
        }
        return admitted
    }

    /// Adds every `weights[i]` to `keys[i]` (always admitted).
    /// - Complexity: O(n log k) expected.
    public mutating func update(_ keys: [UInt64], weights: [Double]) {
        precondition(keys.count == weights.count)
        keys.withUnsafeBufferPointer { k in
            weights.withUnsafeBufferPointer { w in
                for i in k.indices { update(k[i], weight: w[i]) }
            }
        }
    }

    /// Adds `weight` (≥ 0) to `key` (always admitted: the classical algorithm).
    /// - Complexity: O(log k) expected.
    public mutating func update(_ key: UInt64, weight: Double) {
        precondition(weight >= 0, "Space-Saving weights must be non-negative")
        totalWeight += weight
        let home = SketchHash.hash(key, seed: seed)
        makeUnique()
        let (mask, seed, capacity, n) = (self.mask, self.seed, self.capacity, count)
        let added = withView { s -> Bool in
            // Look the key up.
            var slot = Int(truncatingIfNeeded: home) & mask
            while true {
                let id = s.tId[slot]
                if id < 0 { break }
                if s.tKeys[slot] == key {
                    let i = Int(s.position[Int(id)])
                    s.heapCount[i] += weight
                    s.siftDown(i, n)
                    return false
                }
                slot = (slot &+ 1) & mask
            }
            if n < capacity {
                // `slot` is the empty slot that ended the probe; id n goes to heap position n.
                s.keys[n] = key; s.errors[n] = 0
                s.tKeys[slot] = key; s.tId[slot] = Int32(truncatingIfNeeded: n); s.slotOf[n] = Int32(truncatingIfNeeded: slot)
                s.heapCount[n] = weight; s.heapId[n] = Int32(truncatingIfNeeded: n); s.position[n] = Int32(truncatingIfNeeded: n)
                s.siftUp(n)
                return true
            }
            // Replace the minimum counter (heap root) by the new key.
            let id = Int(s.heapId[0])
            s.removeFromTable(Int(s.slotOf[id]), mask: mask, seed: seed)
            let m = s.heapCount[0]
            s.errors[id] = m
            s.keys[id] = key
            s.heapCount[0] = m + weight
            let free = s.freeSlot(for: home, mask: mask)
            s.tKeys[free] = key; s.tId[free] = Int32(truncatingIfNeeded: id); s.slotOf[id] = Int32(truncatingIfNeeded: free)
            s.siftDown(0, n)
            return false
        }
        if added { count = n + 1 }
    }

    private func id(of key: UInt64) -> Int? {
        let mask = self.mask
        var slot = Int(truncatingIfNeeded: SketchHash.hash(key, seed: seed)) & mask
        return withView { s in
            while s.tId[slot] >= 0 {
                if s.tKeys[slot] == key { return Int(s.tId[slot]) }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// The key's counter, or 0 when it is not monitored.
    /// - Complexity: O(1) expected.
    public func estimate(of key: UInt64) -> Double {
        id(of: key).map { id in withView { $0.count(of: id) } } ?? 0
    }

    /// `count − error` for a monitored key, else 0 (deterministic).
    /// - Complexity: O(1) expected.
    public func lowerBound(of key: UInt64) -> Double {
        id(of: key).map { id in withView { $0.count(of: id) - $0.errors[id] } } ?? 0
    }

    /// `count + R` for a monitored key, else `admissionThreshold + R` (deterministic).
    /// - Complexity: O(1) expected.
    public func upperBound(of key: UInt64) -> Double {
        (id(of: key).map { id in withView { $0.count(of: id) } } ?? admissionThreshold) + rejectedWeight
    }

    /// The widest interval any key can have: the largest error among monitored keys, or the
    /// minimum counter for unmonitored keys, plus R. At most M_a/k + R.
    /// - Complexity: O(k).
    public var maximumError: Double {
        var worst = admissionThreshold
        withView { s in
            for i in 0..<count { worst = max(worst, s.errors[i]) }
        }
        return worst + rejectedWeight
    }

    /// Monitored entries in heap order.
    func heapEntries() -> [(key: UInt64, count: Double, error: Double)] {
        withView { s in
            (0..<count).map { i in
                let id = Int(s.heapId[i])
                return (s.keys[id], s.heapCount[i], s.errors[id])
            }
        }
    }

    /// Monitored entries sorted by count descending, ties by key ascending.
    func sortedEntries() -> [(key: UInt64, count: Double, error: Double)] {
        heapEntries().sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }

    /// The `j` keys with the largest counts (ties by smaller key), each with its bounds and
    /// whether it is certainly among the true top-j.
    /// - Complexity: O(k log k).
    public func topK(_ j: Int) -> [SpaceSavingItem] {
        let entries = sortedEntries()
        let taken = min(max(j, 0), entries.count)
        // Every key not returned has mass at most this.
        let outside = (taken < entries.count ? entries[taken].count : admissionThreshold) + rejectedWeight
        return entries[0..<taken].map { e in
            SpaceSavingItem(key: e.key, estimate: e.count, lowerBound: e.count - e.error,
                            upperBound: e.count + rejectedWeight, isGuaranteed: e.count - e.error >= outside)
        }
    }

    /// Merges `other` into this sketch (see Merge).
    /// - Throws: `SketchError.incompatible` unless capacity and seed agree.
    /// - Complexity: O(k log k).
    public mutating func merge(_ other: SpaceSavingSketch) throws(SketchError) {
        guard capacity == other.capacity, seed == other.seed else {
            throw .incompatible(sketch: "SpaceSavingSketch", message:
                "capacity \(capacity)/\(other.capacity), seed \(seed)/\(other.seed) must agree")
        }
        let minA = admissionThreshold, minB = other.admissionThreshold
        var combined: [(key: UInt64, count: Double, error: Double)] = []
        combined.reserveCapacity(count + other.count)
        for e in heapEntries() {
            let lower = e.count - e.error
            if let o = other.id(of: e.key) {
                let (oc, oe) = other.withView { ($0.count(of: o), $0.errors[o]) }
                let c = e.count + oc
                combined.append((e.key, c, c - (lower + oc - oe)))
            } else {
                let c = e.count + minB
                combined.append((e.key, c, c - lower))
            }
        }
        for e in other.heapEntries() where id(of: e.key) == nil {
            let c = e.count + minA
            combined.append((e.key, c, c - (e.count - e.error)))
        }
        combined.sort { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
        var merged = try! SpaceSavingSketch(capacity: capacity, seed: seed)
        // Insert in ascending order of count so that the heap is built by appends.
        for e in combined.prefix(capacity).reversed() { merged.insertEntry(e.key, count: e.count, error: e.error) }
        merged.totalWeight = totalWeight + other.totalWeight
        merged.rejectedWeight = rejectedWeight + other.rejectedWeight
        self = merged
    }

    /// Appends an entry (id = heap position = count) and restores the heap (merge, deserialization).
    mutating func insertEntry(_ key: UInt64, count c: Double, error e: Double) {
        makeUnique()
        let (n, mask, home) = (count, self.mask, SketchHash.hash(key, seed: seed))
        precondition(n < capacity)
        withView { s in
            s.keys[n] = key; s.errors[n] = e
            let slot = s.freeSlot(for: home, mask: mask)
            s.tKeys[slot] = key; s.tId[slot] = Int32(n); s.slotOf[n] = Int32(slot)
            s.heapCount[n] = c; s.heapId[n] = Int32(n); s.position[n] = Int32(n)
            s.siftUp(n)
        }
        count = n + 1
    }

    /// The envelope bytes; entries in heap order so a round trip restores the exact state.
    /// - Complexity: O(k).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.spaceSaving, capacity: 24 * count + 40)
        writer.write(UInt32(capacity))
        writer.write(seed)
        writer.write(totalWeight)
        writer.write(rejectedWeight)
        writer.write(UInt32(count))
        for e in heapEntries() {
            writer.write(e.key); writer.write(e.count); writer.write(e.error)
        }
        return SketchEnvelope.finish(&writer)
    }

    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(k).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .spaceSaving)
        let (k, seed, total, rejected, entries) = try SketchEnvelope.decode { () throws(CoreError) in
            let kAt = reader.offset
            let k = Int(try reader.read(UInt32.self, "capacity"))
            try reader.check(k >= 1 && k <= 1 << 26, field: "capacity", at: kAt, "capacity \(k) out of range")
            let seed = try reader.read(UInt64.self, "seed")
            let total = try reader.readDouble("totalWeight")
            let rejected = try reader.readDouble("rejectedWeight")
            let nAt = reader.offset
            let n = Int(try reader.read(UInt32.self, "entries.count"))
            try reader.check(n <= k && n * 24 <= reader.remaining, field: "entries.count", at: nAt,
                             "\(n) entries for capacity \(k) and \(reader.remaining) bytes")
            var entries: [(UInt64, Double, Double)] = []
            for i in 0..<n {
                let at = reader.offset
                let key = try reader.read(UInt64.self, "entries[\(i)].key")
                let c = try reader.readDouble("entries[\(i)].count")
                let e = try reader.readDouble("entries[\(i)].error")
                try reader.check(c >= 0 && e >= 0 && e <= c, field: "entries[\(i)]", at: at,
                                 "count \(c), error \(e)")
                entries.append((key, c, e))
            }
            try reader.expectEnd()
            return (k, seed, total, rejected, entries)
        }
        try self.init(capacity: k, seed: seed)
        totalWeight = total
        rejectedWeight = rejected
        for (i, e) in entries.enumerated() {
            if id(of: e.0) != nil {
                throw .malformed(sketch: "SpaceSavingSketch", field: "entries[\(i)].key", offset: 48 + 24 * i,
                                 message: "key \(e.0) appears twice")
            }
            insertEntry(e.0, count: e.1, error: e.2)
        }
    }
}
