#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KymoCore

/// Count-Min sketch (Cormode–Muthukrishnan) of non-negative `Float` weights over `UInt64` keys,
/// with optional conservative update.
///
/// `depth` rows of `width` counters. A key is hashed **once** per update, h = XXH3-64(key) under
/// the sketch's hash seed (`SketchHash.rowSeed(seed, row: 0)`), and every row's column comes from
/// that one hash (`RowHashing`):
/// - `.bitSlices` (width a power of two 2^b and depth·b ≤ 64, e.g. 4 × 2¹⁶): row i takes bits
///   [i·b, (i+1)·b) of h.
/// - `.doubleHashing` (any other shape): Kirsch–Mitzenmacher, h₁ = h, h₂ = SplitMix64(h) | 1, row i
///   takes column ⌊((h₁ + i·h₂) mod 2⁶⁴) · width / 2⁶⁴⌋.
///
/// **Block keys.** With `blockSize` s > 1 a key is read as `major·s + minor` (minor < s ≤ width):
/// the rows hash only `major` as above, and the key's column in row i is
/// `(column_i(major) + minor) mod width`. The keys of one major then occupy s consecutive
/// counters (cyclically) in every row, so `add(major:firstMinor:weights:)` adds a whole run of
/// them with vector adds and one hash per row run (the recorder's (sample, neuron) masses: one
/// run per sample and layer). The accuracy argument below is unchanged: two keys with different
/// majors collide in a row with probability 1/width (the majors' columns are uniform and
/// independent, so their difference is uniform mod width), and two keys with the same major never
/// collide (their minors differ by less than width). s = 1 is the plain sketch.
///
/// The estimate of a key is the minimum of its `depth` counters. With conservative update a
/// counter is only raised to `estimate + weight`, which never hurts and usually tightens the
/// estimate.
///
/// **Accuracy.** Let M be the total weight and f(x) the true weight of x. Deterministically
/// `estimate(of: x) ≥ f(x)` (so `upperBound == estimate`). With probability at least
/// `1 − e^(−depth)` (per query), `f(x) ≥ estimate(of: x) − e·M/width` (`lowerBound`). Proof:
/// in one row the excess over f(x) is the weight of colliding keys, with expectation ≤ M/width
/// (pairwise-independent columns); by Markov's inequality it exceeds e·M/width with probability
/// ≤ 1/e, independently in each row. Hence ε = e/width and δ = e^(−depth):
/// `suggestedWidth(epsilon:)` = ⌈e/ε⌉, `suggestedDepth(delta:)` = ⌈ln(1/δ)⌉.
///
/// *What the one-hash row scheme assumes.* Both schemes model XXH3-64 of distinct keys as
/// independent uniform 64-bit values (the same assumption the per-row-seed scheme made, once per
/// row). Under it `.bitSlices` columns are exactly uniform and *fully independent across rows*
/// (disjoint bits of one uniform word), so the proof above holds as written. `.doubleHashing`
/// columns are uniform and pairwise independent within a row, but not independent across rows:
/// two keys that collide in two rows (probability ≈ 1/width², as for independent rows) tend to
/// collide in all of them. The Markov step per row still holds; the product over rows is what
/// becomes approximate. A heuristic estimate of the extra failure probability: at most width/e
/// keys are heavy enough to break the bound alone, each meets x in some pair of rows with
/// probability ≲ depth²/(2·width²), so about depth²/(2e·width) more — vanishing as width grows
/// at fixed depth, as in Kirsch and Mitzenmacher's analysis of double hashing. For small widths
/// it is an approximation, checked by the coverage tests (many seeded trials, both schemes).
/// `suggestedWidth` rarely returns a power of two; rounding it up to one gives independent rows
/// and a smaller ε. Two distinct keys with the same 64-bit hash (probability 2⁻⁶⁴) collide in
/// every row under either scheme.
///
/// Counters are `Float`: the bounds are exact while every counter stays below 2²⁴ in units of the
/// weights' resolution (integer weights up to 16.7 M total), and otherwise hold up to a relative
/// rounding of about n·2⁻²⁴.
///
/// **Space.** `4·width·depth` bytes of counters plus a few words of parameters.
///
/// **Merge.** Two sketches with the same width, depth, seed, row hashing and update rule merge by
/// adding counters; the result is the sketch of the concatenated streams (bit-exact for plain
/// update up to float addition order; for conservative update it stays an upper bound with the
/// same error bound, since each counter is at most the plain one).
///
/// **Serialization.** Envelope kind 1, format version 3 (docs/format/sketches.md; versions 1 and 2,
/// without block keys, are refused with a message saying so). Body:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 16 | 4 | width (UInt32) |
/// | 20 | 4 | depth (UInt32) |
/// | 24 | 8 | seed |
/// | 32 | 1 | rowHashing (1 bit slices, 2 double hashing) |
/// | 33 | 4 | blockSize (UInt32, ≥ 1, ≤ width; version 3) |
/// | 37 | 1 | conservative (0/1) |
/// | 38 | 8 | totalWeight (Double) |
/// | 46 | 8 | counters.count (= width·depth) |
/// | 54 | 4·width·depth | counters (Float, row-major) |
///
/// **Background.** G. Cormode, S. Muthukrishnan, "An improved data stream summary: the count-min
/// sketch and its applications", J. Algorithms 55(1), 2005; conservative update: C. Estan,
/// G. Varghese, "New directions in traffic measurement and accounting", SIGCOMM 2002; double
/// hashing: A. Kirsch, M. Mitzenmacher, "Less hashing, same performance: building a better Bloom
/// filter", Random Structures & Algorithms 33(2), 2008.
public struct CountMinSketch: Sendable, Equatable {
    /// How the `depth` row columns derive from the key's one XXH3-64 hash (recorded in the
    /// serialized form).
    public enum RowHashing: UInt8, Sendable {
        /// Row i takes bits [i·b, (i+1)·b) of the hash; needs width = 2^b and depth·b ≤ 64.
        /// Rows fully independent.
        case bitSlices = 1
        /// Kirsch–Mitzenmacher h₁ + i·h₂ with h₂ = SplitMix64(h₁) | 1, reduced by multiply-high.
        /// Any width.
        case doubleHashing = 2

        /// `.bitSlices` where the shape allows it, else `.doubleHashing`.
        /// - Complexity: O(1).
        public static func preferred(width: Int, depth: Int) -> RowHashing {
            bitSlicesFit(width: width, depth: depth) ? .bitSlices : .doubleHashing
        }

        static func bitSlicesFit(width: Int, depth: Int) -> Bool {
            width > 0 && width & (width - 1) == 0 && depth * width.trailingZeroBitCount <= 64
        }
    }

    public let width: Int
    public let depth: Int
    public let seed: UInt64
    public let conservative: Bool
    public let rowHashing: RowHashing
    /// Keys are `major·blockSize + minor` (see **Block keys**); 1 for plain keys.
    public let blockSize: Int
    /// Row-major `depth × width` counters.
    package private(set) var counters: [Float]
    /// The seed of the one key hash.
    let hashSeed: UInt64
    /// b = log2(width) and 2^b − 1 for `.bitSlices` (unused otherwise).
    private let sliceBits: UInt64, sliceMask: UInt64
    /// `depth == 4 && !conservative && rowHashing == .bitSlices && blockSize == 1`: the unrolled path.
    private let fourSlices: Bool
    /// Total weight M of every update.
    public private(set) var totalWeight: Double = 0

    /// A sketch with the preferred row hashing for its shape.
    /// - Complexity: O(width · depth).
    public init(width: Int, depth: Int, seed: UInt64, conservative: Bool = false, blockSize: Int = 1) throws(SketchError) {
        try self.init(width: width, depth: depth, seed: seed, conservative: conservative,
                      rowHashing: .preferred(width: width, depth: depth), blockSize: blockSize)
    }

    /// A sketch with an explicit row hashing (`.bitSlices` only where it fits the shape).
    /// - Complexity: O(width · depth).
    package init(width: Int, depth: Int, seed: UInt64, conservative: Bool, rowHashing: RowHashing,
                 blockSize: Int = 1) throws(SketchError) {
        guard width >= 1, width <= 1 << 30, depth >= 1, depth <= 16, width * depth <= 1 << 31 else {
            throw .invalidArgument(sketch: "CountMinSketch", message: "width \(width) × depth \(depth) out of range")
        }
        guard blockSize >= 1, blockSize <= width else {
            throw .invalidArgument(sketch: "CountMinSketch", message: "block size \(blockSize) must be in 1...width (\(width))")
        }
        guard rowHashing != .bitSlices || RowHashing.bitSlicesFit(width: width, depth: depth) else {
            throw .invalidArgument(sketch: "CountMinSketch", message:
                "bit-slice row hashing needs a power-of-two width with depth·log2(width) ≤ 64, not \(width) × \(depth)")
        }
        self.width = width
        self.depth = depth
        self.seed = seed
        self.conservative = conservative
        self.rowHashing = rowHashing
        self.blockSize = blockSize
        counters = [Float](repeating: 0, count: width * depth)
        hashSeed = SketchHash.rowSeed(seed, row: 0)
        sliceBits = UInt64(width.trailingZeroBitCount)
        sliceMask = UInt64(width) &- 1
        fourSlices = depth == 4 && !conservative && rowHashing == .bitSlices && blockSize == 1
    }

    /// ⌈e/ε⌉: the width for which the additive error is at most ε·M.
    /// - Complexity: O(1).
    public static func suggestedWidth(epsilon: Double) -> Int {
        Int((M_E / epsilon).rounded(.up))
    }

    /// ⌈ln(1/δ)⌉: the depth for which the error bound fails with probability at most δ.
    /// - Complexity: O(1).
    public static func suggestedDepth(delta: Double) -> Int {
        max(1, Int(log(1 / delta).rounded(.up)))
    }

    /// The columns of one key: computes its one hash, then yields `row·width + column` per row.
    struct Cells {
        let h1: UInt64, h2: UInt64, rowHashing: RowHashing, width: Int, bits: UInt64, mask: UInt64
        /// The key's minor (0 with plain keys): added to every row's column of the major.
        let minor: Int
        let blockSize: UInt64

        @inline(__always)
        init(_ key: UInt64, seed: UInt64, rowHashing: RowHashing, width: Int, bits: UInt64, mask: UInt64,
             blockSize: UInt64 = 1) {
            let major = blockSize == 1 ? key : key / blockSize
            minor = blockSize == 1 ? 0 : Int(truncatingIfNeeded: key % blockSize)
            h1 = SketchHash.hash(major, seed: seed)
            h2 = rowHashing == .doubleHashing ? CounterRNG.mix(h1) | 1 : 0
            (self.rowHashing, self.width, self.bits, self.mask, self.blockSize) = (rowHashing, width, bits, mask, blockSize)
        }

        /// The cells of another key in the same sketch.
        @inline(__always)
        func rehashed(_ key: UInt64, seed: UInt64) -> Cells {
            Cells(key, seed: seed, rowHashing: rowHashing, width: width, bits: bits, mask: mask, blockSize: blockSize)
        }

        /// The major's column in `row` (before the minor is added).
        @inline(__always)
        func majorColumn(_ row: Int) -> Int {
            rowHashing == .bitSlices
                ? Int(truncatingIfNeeded: (h1 &>> (UInt64(truncatingIfNeeded: row) &* bits)) & mask)
                : SketchHash.reduce(h1 &+ UInt64(truncatingIfNeeded: row) &* h2, UInt64(width))
        }

        @inline(__always)
        subscript(row: Int) -> Int {
            var column = majorColumn(row) &+ minor
            if column >= width { column &-= width }
            return row &* width &+ column
        }
    }

    @inline(__always)
    func cells(_ key: UInt64) -> Cells {
        Cells(key, seed: hashSeed, rowHashing: rowHashing, width: width, bits: sliceBits, mask: sliceMask,
              blockSize: UInt64(blockSize))
    }

    /// The unrolled `fourSlices` path: one hash, four independent read-modify-writes.
    @inline(__always)
    private static func addFourSlices(_ h: UInt64, _ weight: Float, to c: UnsafeMutableBufferPointer<Float>,
                                      width: Int, bits: UInt64, mask: UInt64) {
        c[Int(truncatingIfNeeded: h & mask)] += weight
        c[width &+ Int(truncatingIfNeeded: (h &>> bits) & mask)] += weight
        c[2 &* width &+ Int(truncatingIfNeeded: (h &>> (2 &* bits)) & mask)] += weight
        c[3 &* width &+ Int(truncatingIfNeeded: (h &>> (3 &* bits)) & mask)] += weight
    }

    /// Adds `weight` (≥ 0) to `key`.
    /// - Complexity: O(depth); one hash.
    public mutating func update(_ key: UInt64, weight: Float = 1) {
        precondition(weight >= 0, "Count-Min weights must be non-negative")
        totalWeight += Double(weight)
        if fourSlices {
            let (h, width, bits, mask) = (SketchHash.hash(key, seed: hashSeed), self.width, sliceBits, sliceMask)
            counters.withUnsafeMutableBufferPointer { c in
                Self.addFourSlices(h, weight, to: c, width: width, bits: bits, mask: mask)
            }
            return
        }
        updateAnyShape(key, weight)
    }

    @inline(never)
    private mutating func updateAnyShape(_ key: UInt64, _ weight: Float) {
        let cells = cells(key)
        let (depth, conservative) = (self.depth, self.conservative)
        counters.withUnsafeMutableBufferPointer { c in
            Self.add(cells, weight, to: c, depth: depth, conservative: conservative)
        }
    }

    @inline(__always)
    private static func add(_ cells: Cells, _ weight: Float, to c: UnsafeMutableBufferPointer<Float>,
                            depth: Int, conservative: Bool) {
        if !conservative {
            for row in 0..<depth { c[cells[row]] += weight }
        } else {
            var minimum = Float.infinity
            for row in 0..<depth { minimum = Swift.min(minimum, c[cells[row]]) }
            let target = minimum + weight
            for row in 0..<depth where c[cells[row]] < target { c[cells[row]] = target }
        }
    }

    /// Adds each `weights[i]` to `keys[i]`.
    /// - Complexity: O(n · depth); one hash per key.
    public mutating func update(_ keys: [UInt64], weights: [Float]) {
        precondition(keys.count == weights.count)
        let (width, depth, conservative, fourSlices) = (self.width, self.depth, self.conservative, self.fourSlices)
        let (seed, bits, mask) = (hashSeed, sliceBits, sliceMask)
        let prototype = cells(0)
        var total = totalWeight   // same additions, same order as one update at a time
        keys.withUnsafeBufferPointer { k in
            weights.withUnsafeBufferPointer { w in
                counters.withUnsafeMutableBufferPointer { c in
                    if fourSlices {
                        for i in k.indices {
                            let weight = w[i]
                            precondition(weight >= 0, "Count-Min weights must be non-negative")
                            total += Double(weight)
                            Self.addFourSlices(SketchHash.hash(k[i], seed: seed), weight, to: c,
                                               width: width, bits: bits, mask: mask)
                        }
                        return
                    }
                    for i in k.indices {
                        precondition(w[i] >= 0, "Count-Min weights must be non-negative")
                        total += Double(w[i])
                        Self.add(prototype.rehashed(k[i], seed: seed), w[i], to: c, depth: depth, conservative: conservative)
                    }
                }
            }
        }
        totalWeight = total
    }

    /// Adds `weights[i]` (each ≥ 0) to the key `major·blockSize + firstMinor + i` for every i: one
    /// hash of `major`, then per row a run of consecutive counters (wrapping at most once), added
    /// with vector adds. The same counters as one `update` per key, in the same order of
    /// additions (plain update only). M grows by the run's sum, taken in Double in eight lanes
    /// (`LaneSum`) rather than one weight at a time: M may differ from one `update` per key in
    /// its last bits (relative ≈ 2n·2⁻⁵³ at most); the same runs give the same bits.
    /// - Complexity: O(depth · weights.count), one hash.
    public mutating func add(major: UInt64, firstMinor: Int, weights: UnsafeBufferPointer<Float>) {
        let n = weights.count
        precondition(!conservative, "block runs need plain update")
        precondition(firstMinor >= 0 && firstMinor + n <= blockSize, "minors \(firstMinor)..<\(firstMinor + n) outside the block size \(blockSize)")
        guard n > 0, let w = weights.baseAddress else { return }
        let run = LaneSum.sum(w, count: n)
        precondition(run.nonNegative, "Count-Min weights must be non-negative (and not NaN)")
        totalWeight += run.sum
        let cells = Cells(major &* UInt64(blockSize), seed: hashSeed, rowHashing: rowHashing, width: width,
                          bits: sliceBits, mask: sliceMask, blockSize: UInt64(blockSize))
        let (width, depth) = (self.width, self.depth)
        counters.withUnsafeMutableBufferPointer { c in
            let base = c.baseAddress!
            for row in 0..<depth {
                var start = cells.majorColumn(row) &+ firstMinor
                if start >= width { start &-= width }
                let first = Swift.min(n, width &- start)
                Self.addRun(base + (row &* width &+ start), w, first)
                if first < n { Self.addRun(base + row &* width, w + first, n &- first) }
            }
        }
    }

    /// `target[i] += source[i]` for i < n (8 lanes at a time; element-wise, so the bits are those
    /// of the scalar loop).
    @inline(__always)
    private static func addRun(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let t = UnsafeMutableRawPointer(target), s = UnsafeRawPointer(source)
        while i &+ 8 <= n {
            let sum = t.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                + s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            t.storeBytes(of: sum, toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n {
            target[i] += source[i]
            i &+= 1
        }
    }

    /// The minimum of the key's counters: never below the truth.
    /// - Complexity: O(depth).
    public func estimate(of key: UInt64) -> Float {
        let cells = cells(key)
        return counters.withUnsafeBufferPointer { c in
            var minimum = Float.infinity
            for row in 0..<depth { minimum = Swift.min(minimum, c[cells[row]]) }
            return minimum
        }
    }

    /// Equals `estimate(of:)`: deterministic upper bound.
    /// - Complexity: O(depth).
    public func upperBound(of key: UInt64) -> Float { estimate(of: key) }

    /// `max(0, estimate − e·M/width)`: the truth is at least this with probability `confidence`.
    /// - Complexity: O(depth).
    public func lowerBound(of key: UInt64) -> Float {
        Swift.max(0, estimate(of: key) - Float(errorBound))
    }

    /// e·M/width, the additive error that holds with probability `confidence`.
    /// - Complexity: O(1).
    public var errorBound: Double { M_E * totalWeight / Double(width) }

    /// 1 − e^(−depth).
    /// - Complexity: O(1).
    public var confidence: Double { 1 - exp(-Double(depth)) }

    /// Adds `other`'s counters to this sketch's.
    /// - Throws: `SketchError.incompatible` unless width, depth, seed, row hashing and update rule
    ///   agree.
    /// - Complexity: O(width · depth).
    public mutating func merge(_ other: CountMinSketch) throws(SketchError) {
        guard width == other.width, depth == other.depth, seed == other.seed, conservative == other.conservative,
              rowHashing == other.rowHashing, blockSize == other.blockSize else {
            throw .incompatible(sketch: "CountMinSketch", message:
                "width \(width)/\(other.width), depth \(depth)/\(other.depth), seed \(seed)/\(other.seed), conservative \(conservative)/\(other.conservative), row hashing \(rowHashing)/\(other.rowHashing), block size \(blockSize)/\(other.blockSize) must all agree")
        }
        totalWeight += other.totalWeight
        other.counters.withUnsafeBufferPointer { o in
            counters.withUnsafeMutableBufferPointer { c in
                for i in c.indices { c[i] += o[i] }
            }
        }
    }
}

extension CountMinSketch {
    /// The envelope bytes (see the type's Serialization table).
    /// - Complexity: O(width · depth).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.countMin, capacity: 4 * counters.count + 40)
        writer.write(UInt32(width))
        writer.write(UInt32(depth))
        writer.write(seed)
        writer.write(rowHashing.rawValue)
        writer.write(UInt32(blockSize))
        writer.write(conservative)
        writer.write(totalWeight)
        writer.write(array: counters)
        return SketchEnvelope.finish(&writer)
    }

    /// Decodes `serialized()` bytes.
    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(n).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .countMin)
        let (width, depth, seed, rowHashing, blockSize, conservative, total, counters) = try SketchEnvelope.decode { () throws(CoreError) in
            let at = reader.offset
            let width = Int(try reader.read(UInt32.self, "width"))
            let depth = Int(try reader.read(UInt32.self, "depth"))
            try reader.check(width >= 1 && depth >= 1 && depth <= 16 && width * depth <= 1 << 31,
                             field: "width", at: at, "width \(width) × depth \(depth) out of range")
            let seed = try reader.read(UInt64.self, "seed")
            let hashingAt = reader.offset
            let hashingRaw = try reader.read(UInt8.self, "rowHashing")
            guard let rowHashing = RowHashing(rawValue: hashingRaw) else {
                throw .invalid(source: reader.source, field: "rowHashing", offset: hashingAt,
                               message: "unknown row hashing \(hashingRaw) (1 bit slices, 2 double hashing)")
            }
            try reader.check(rowHashing != .bitSlices || RowHashing.bitSlicesFit(width: width, depth: depth),
                             field: "rowHashing", at: hashingAt,
                             "bit-slice row hashing does not fit width \(width) × depth \(depth)")
            let blockAt = reader.offset
            let blockSize = Int(try reader.read(UInt32.self, "blockSize"))
            try reader.check(blockSize >= 1 && blockSize <= width, field: "blockSize", at: blockAt,
                             "block size \(blockSize) outside 1...\(width)")
            let conservative = try reader.readBool("conservative")
            let totalAt = reader.offset
            let total = try reader.readDouble("totalWeight")
            try reader.check(total >= 0, field: "totalWeight", at: totalAt, "negative total weight \(total)")
            let countersAt = reader.offset
            let counters = try reader.readFloatArray("counters")
            try reader.check(counters.count == width * depth, field: "counters", at: countersAt,
                             "\(counters.count) counters, expected \(width * depth)")
            try reader.expectEnd()
            return (width, depth, seed, rowHashing, blockSize, conservative, total, counters)
        }
        try self.init(width: width, depth: depth, seed: seed, conservative: conservative, rowHashing: rowHashing,
                      blockSize: blockSize)
        self.totalWeight = total
        self.counters = counters
    }
}
