#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KymoCore

/// Count-Min sketch (Cormode–Muthukrishnan) of non-negative `Float` weights over `UInt64` keys,
/// with optional conservative update.
///
/// `depth` rows of `width` counters; row `i` hashes a key with XXH3 under its own seed
/// (`SketchHash.rowSeed(seed, row: i)`) and adds the weight to one counter. The estimate of a
/// key is the minimum of its `depth` counters. With conservative update a counter is only raised
/// to `estimate + weight`, which never hurts and usually tightens the estimate.
///
/// **Accuracy.** Let M be the total weight and f(x) the true weight of x. Deterministically
/// `estimate(of: x) ≥ f(x)` (so `upperBound == estimate`). With probability at least
/// `1 − e^(−depth)` (per query), `f(x) ≥ estimate(of: x) − e·M/width` (`lowerBound`). Proof:
/// in one row the excess over f(x) is the weight of colliding keys, with expectation ≤ M/width
/// (pairwise-independent hashing); by Markov's inequality it exceeds e·M/width with probability
/// ≤ 1/e, independently in each row. Hence ε = e/width and δ = e^(−depth):
/// `suggestedWidth(epsilon:)` = ⌈e/ε⌉, `suggestedDepth(delta:)` = ⌈ln(1/δ)⌉. Counters are
/// `Float`: the bounds are exact while every counter stays below 2²⁴ in units of the weights'
/// resolution (integer weights up to 16.7 M total), and otherwise hold up to a relative rounding
/// of about n·2⁻²⁴.
///
/// **Space.** `4·width·depth` bytes of counters plus `8·depth` of row seeds.
///
/// **Merge.** Two sketches with the same width, depth, seed and update rule merge by adding
/// counters; the result is the sketch of the concatenated streams (bit-exact for plain update up
/// to float addition order; for conservative update it stays an upper bound with the same error
/// bound, since each counter is at most the plain one).
///
/// **Serialization.** Envelope kind 1 (docs/format/sketches.md). Body:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 16 | 4 | width (UInt32) |
/// | 20 | 4 | depth (UInt32) |
/// | 24 | 8 | seed |
/// | 32 | 1 | conservative (0/1) |
/// | 33 | 8 | totalWeight (Double) |
/// | 41 | 8 | counters.count (= width·depth) |
/// | 49 | 4·width·depth | counters (Float, row-major) |
///
/// **Background.** G. Cormode, S. Muthukrishnan, "An improved data stream summary: the count-min
/// sketch and its applications", J. Algorithms 55(1), 2005; conservative update: C. Estan,
/// G. Varghese, "New directions in traffic measurement and accounting", SIGCOMM 2002.
public struct CountMinSketch: Sendable, Equatable {
    public let width: Int
    public let depth: Int
    public let seed: UInt64
    public let conservative: Bool
    /// Row-major `depth × width` counters.
    package private(set) var counters: [Float]
    /// Row seeds, stored inline (no reference to retain in the update loop).
    let rowSeeds: SIMD16<UInt64>
    /// Total weight M of every update.
    public private(set) var totalWeight: Double = 0

    /// - Complexity: O(width · depth).
    public init(width: Int, depth: Int, seed: UInt64, conservative: Bool = false) throws(SketchError) {
        guard width >= 1, width <= 1 << 30, depth >= 1, depth <= 16, width * depth <= 1 << 31 else {
            throw .invalidArgument(sketch: "CountMinSketch", message: "width \(width) × depth \(depth) out of range")
        }
        self.width = width
        self.depth = depth
        self.seed = seed
        self.conservative = conservative
        counters = [Float](repeating: 0, count: width * depth)
        var seeds = SIMD16<UInt64>()
        for row in 0..<depth { seeds[row] = SketchHash.rowSeed(seed, row: row) }
        rowSeeds = seeds
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

    /// Adds `weight` (≥ 0) to `key`.
    /// - Complexity: O(depth).
    public mutating func update(_ key: UInt64, weight: Float = 1) {
        precondition(weight >= 0, "Count-Min weights must be non-negative")
        totalWeight += Double(weight)
        if depth == 4 && !conservative {
            // The common shape, without copying the row seeds: four independent read-modify-writes.
            let (width, s0, s1, s2, s3) = (self.width, rowSeeds[0], rowSeeds[1], rowSeeds[2], rowSeeds[3])
            let w = UInt64(width)
            let j0 = SketchHash.reduce(SketchHash.hash(key, seed: s0), w)
            let j1 = SketchHash.reduce(SketchHash.hash(key, seed: s1), w)
            let j2 = SketchHash.reduce(SketchHash.hash(key, seed: s2), w)
            let j3 = SketchHash.reduce(SketchHash.hash(key, seed: s3), w)
            counters.withUnsafeMutableBufferPointer { c in
                c[j0] += weight
                c[width &+ j1] += weight
                c[2 &* width &+ j2] += weight
                c[3 &* width &+ j3] += weight
            }
            return
        }
        updateAnyShape(key, weight)
    }

    @inline(never)
    private mutating func updateAnyShape(_ key: UInt64, _ weight: Float) {
        let (width, depth, seeds, conservative) = (self.width, self.depth, rowSeeds, self.conservative)
        counters.withUnsafeMutableBufferPointer { c in
            Self.add(key, weight, to: c, width: width, depth: depth, seeds: seeds, conservative: conservative)
        }
    }

    @inline(__always)
    private static func add(_ key: UInt64, _ weight: Float, to c: UnsafeMutableBufferPointer<Float>,
                            width: Int, depth: Int, seeds: SIMD16<UInt64>, conservative: Bool) {
        let w = UInt64(width)
        if !conservative {
            if depth == 4 {
                // The common shape, unrolled: four independent read-modify-writes.
                let j0 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[0]), w)
                let j1 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[1]), w)
                let j2 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[2]), w)
                let j3 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[3]), w)
                c[j0] += weight
                c[width &+ j1] += weight
                c[2 &* width &+ j2] += weight
                c[3 &* width &+ j3] += weight
                return
            }
            var rowSeeds = seeds
            withUnsafeBytes(of: &rowSeeds) { seedBytes in
                let seed = seedBytes.bindMemory(to: UInt64.self)
                var base = 0
                for row in 0..<depth {
                    let j = SketchHash.reduce(SketchHash.hash(key, seed: seed[row]), w)
                    c[base &+ j] += weight
                    base &+= width
                }
            }
        } else {
            var minimum = Float.infinity
            var base = 0
            for row in 0..<depth {
                let j = SketchHash.reduce(SketchHash.hash(key, seed: seeds[row]), w)
                minimum = Swift.min(minimum, c[base &+ j])
                base &+= width
            }
            let target = minimum + weight
            base = 0
            for row in 0..<depth {
                let j = SketchHash.reduce(SketchHash.hash(key, seed: seeds[row]), w)
                if c[base &+ j] < target { c[base &+ j] = target }
                base &+= width
            }
        }
    }

    /// Adds each `weights[i]` to `keys[i]`.
    /// - Complexity: O(n · depth).
    public mutating func update(_ keys: [UInt64], weights: [Float]) {
        precondition(keys.count == weights.count)
        let (width, depth, seeds, conservative) = (self.width, self.depth, rowSeeds, self.conservative)
        var total = totalWeight   // same additions, same order as one update at a time
        keys.withUnsafeBufferPointer { k in
            weights.withUnsafeBufferPointer { w in
                counters.withUnsafeMutableBufferPointer { c in
                    if depth == 4 && !conservative {
                        // The common shape: four independent read-modify-writes per key.
                        let uw = UInt64(width)
                        for i in k.indices {
                            let key = k[i], weight = w[i]
                            precondition(weight >= 0, "Count-Min weights must be non-negative")
                            total += Double(weight)
                            let j0 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[0]), uw)
                            let j1 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[1]), uw)
                            let j2 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[2]), uw)
                            let j3 = SketchHash.reduce(SketchHash.hash(key, seed: seeds[3]), uw)
                            c[j0] += weight
                            c[width &+ j1] += weight
                            c[2 &* width &+ j2] += weight
                            c[3 &* width &+ j3] += weight
                        }
                        return
                    }
                    for i in k.indices {
                        precondition(w[i] >= 0, "Count-Min weights must be non-negative")
                        total += Double(w[i])
                        Self.add(k[i], w[i], to: c, width: width, depth: depth, seeds: seeds, conservative: conservative)
                    }
                }
            }
        }
        totalWeight = total
    }

    /// The minimum of the key's counters: never below the truth.
    /// - Complexity: O(depth).
    public func estimate(of key: UInt64) -> Float {
        var minimum = Float.infinity
        for row in 0..<depth {
            let j = SketchHash.reduce(SketchHash.hash(key, seed: rowSeeds[row]), UInt64(width))
            minimum = Swift.min(minimum, counters[row * width + j])
        }
        return minimum
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
    /// - Throws: `SketchError.incompatible` unless width, depth, seed and update rule agree.
    /// - Complexity: O(width · depth).
    public mutating func merge(_ other: CountMinSketch) throws(SketchError) {
        guard width == other.width, depth == other.depth, seed == other.seed, conservative == other.conservative else {
            throw .incompatible(sketch: "CountMinSketch", message:
                "width \(width)/\(other.width), depth \(depth)/\(other.depth), seed \(seed)/\(other.seed), conservative \(conservative)/\(other.conservative) must all agree")
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
        let (width, depth, seed, conservative, total, counters) = try SketchEnvelope.decode { () throws(CoreError) in
            let at = reader.offset
            let width = Int(try reader.read(UInt32.self, "width"))
            let depth = Int(try reader.read(UInt32.self, "depth"))
            try reader.check(width >= 1 && depth >= 1 && depth <= 16 && width * depth <= 1 << 31,
                             field: "width", at: at, "width \(width) × depth \(depth) out of range")
            let seed = try reader.read(UInt64.self, "seed")
            let conservative = try reader.readBool("conservative")
            let totalAt = reader.offset
            let total = try reader.readDouble("totalWeight")
            try reader.check(total >= 0, field: "totalWeight", at: totalAt, "negative total weight \(total)")
            let countersAt = reader.offset
            let counters = try reader.readFloatArray("counters")
            try reader.check(counters.count == width * depth, field: "counters", at: countersAt,
                             "\(counters.count) counters, expected \(width * depth)")
            try reader.expectEnd()
            return (width, depth, seed, conservative, total, counters)
        }
        try self.init(width: width, depth: depth, seed: seed, conservative: conservative)
        self.totalWeight = total
        self.counters = counters
    }
}
