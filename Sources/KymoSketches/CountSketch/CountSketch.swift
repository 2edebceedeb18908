#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KymoCore

/// Count Sketch (Charikar–Chen–Farach-Colton) of signed `Double` values over `UInt64` keys.
/// Linear: sketches with the same shape and seed add and subtract, so two runs are compared by
/// subtracting their sketches.
///
/// Row `i` hashes a key with XXH3 under its own seed: the high bits pick a bucket, the low bit a
/// sign s ∈ {+1, −1}; an update adds s·value to the bucket. The estimate is the median over rows
/// of s·bucket (for even depth, the mean of the two middle values).
///
/// **Accuracy.** With v the vector of true values, in each row the error s·C − v(x) has mean 0
/// and variance ≤ ‖v‖₂²/width, so by Chebyshev it exceeds 2‖v‖₂/√width with probability ≤ 1/4.
/// The median is off by more only if at least ⌈depth/2⌉ rows are, so
/// `|estimate − v(x)| ≤ 2‖v‖₂/√width` with probability at least
/// `1 − Σ_{j ≥ ⌈d/2⌉} C(d, j)(1/4)^j(3/4)^(d−j)` (`confidence`; 0.90 at depth 5, 0.98 at depth
/// 9). ‖v‖₂ is estimated from the sketch itself (median over rows of Σ C², the AMS estimator,
/// unbiased with relative standard deviation ≤ √(2/width)), so the stated bound is approximate to
/// that degree. The bound is two-sided and random (not deterministic).
///
/// **Space.** `8·width·depth` bytes plus `8·depth` of row seeds.
///
/// **Merge.** `add`/`subtract`/`merge` need equal width, depth and seed; the result is exactly
/// the sketch of the summed (or differenced) value vectors, up to float addition order (exact for
/// values that are sums of integers below 2⁵³).
///
/// **Serialization.** Envelope kind 2. Body: width (UInt32, off 16), depth (UInt32, 20),
/// seed (UInt64, 24), counters.count (UInt64, 32), counters (Double, row-major, 40).
///
/// **Background.** M. Charikar, K. Chen, M. Farach-Colton, "Finding frequent items in data
/// streams", ICALP 2002 / TCS 312(1), 2004; ‖v‖₂² estimate: N. Alon, Y. Matias, M. Szegedy,
/// "The space complexity of approximating the frequency moments", STOC 1996.
public struct CountSketch: Sendable, Equatable {
    public let width: Int
    public let depth: Int
    public let seed: UInt64
    package private(set) var counters: [Double]
    /// Row seeds, stored inline (no reference to retain in the update loop).
    let rowSeeds: SIMD16<UInt64>

    /// - Complexity: O(width · depth).
    public init(width: Int, depth: Int, seed: UInt64) throws(SketchError) {
        guard width >= 1, width <= 1 << 30, depth >= 1, depth <= 16, width * depth <= 1 << 30 else {
            throw .invalidArgument(sketch: "CountSketch", message: "width \(width) × depth \(depth) out of range")
        }
        self.width = width
        self.depth = depth
        self.seed = seed
        counters = [Double](repeating: 0, count: width * depth)
        var seeds = SIMD16<UInt64>()
        for row in 0..<depth { seeds[row] = SketchHash.rowSeed(seed, row: row) }
        rowSeeds = seeds
    }

    /// ⌈4/ε²⌉: the width for which the error is at most ε‖v‖₂ (per row with probability 3/4).
    /// - Complexity: O(1).
    public static func suggestedWidth(epsilon: Double) -> Int { Int((4 / (epsilon * epsilon)).rounded(.up)) }

    /// The smallest odd depth whose `confidence` is at least 1 − δ.
    /// - Complexity: O(depth²).
    public static func suggestedDepth(delta: Double) -> Int {
        var d = 1
        while 1 - confidence(depth: d) > delta && d < 63 { d += 2 }
        return d
    }

    @inline(__always)
    private static func bucketAndSign(_ h: UInt64, _ width: UInt64) -> (Int, Double) {
        (SketchHash.reduce(h, width), (h & 1) == 0 ? 1 : -1)
    }

    /// Adds `value` (any sign) to `key`.
    /// - Complexity: O(depth).
    public mutating func update(_ key: UInt64, value: Double) {
        let w = UInt64(width), width = self.width, depth = self.depth
        var seeds = rowSeeds
        withUnsafeBytes(of: &seeds) { seedBytes in
            let seed = seedBytes.bindMemory(to: UInt64.self)
            counters.withUnsafeMutableBufferPointer { c in
                var base = 0
                for row in 0..<depth {
                    let h = SketchHash.hash(key, seed: seed[row])
                    // Branch-free sign: flip the sign bit of `value` when the hash's low bit is 1.
                    let signed = Double(bitPattern: value.bitPattern ^ ((h & 1) << 63))
                    c[base &+ SketchHash.reduce(h, w)] += signed
                    base &+= width
                }
            }
        }
    }

    private func rowEstimates(_ key: UInt64) -> [Double] {
        (0..<depth).map { row in
            let (j, s) = Self.bucketAndSign(SketchHash.hash(key, seed: rowSeeds[row]), UInt64(width))
            return s * counters[row * width + j]
        }
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// The median of the key's signed counters.
    /// - Complexity: O(depth log depth).
    public func estimate(of key: UInt64) -> Double { Self.median(rowEstimates(key)) }

    /// `estimate − errorBound()`.
    /// - Complexity: O(width · depth) (computes the ‖v‖₂ estimate; use `errorBound()` once for many keys).
    public func lowerBound(of key: UInt64) -> Double { estimate(of: key) - errorBound() }

    /// `estimate + errorBound()`.
    /// - Complexity: O(width · depth).
    public func upperBound(of key: UInt64) -> Double { estimate(of: key) + errorBound() }

    /// The AMS estimate of ‖v‖₂²: the median over rows of the sum of squared counters.
    /// - Complexity: O(width · depth).
    public func squaredNormEstimate() -> Double {
        Self.median((0..<depth).map { row in
            var sum = 0.0
            for j in 0..<width { let c = counters[row * width + j]; sum += c * c }
            return sum
        })
    }

    /// 2·‖v‖₂/√width with ‖v‖₂ estimated by `squaredNormEstimate()`.
    /// - Complexity: O(width · depth).
    public func errorBound() -> Double { 2 * (squaredNormEstimate() / Double(width)).squareRoot() }

    /// The probability that one query's error is within `errorBound()` (see Accuracy).
    /// - Complexity: O(depth).
    public var confidence: Double { Self.confidence(depth: depth) }

    static func confidence(depth d: Int) -> Double {
        // P(Binomial(d, 1/4) ≥ ⌈d/2⌉)
        var failure = 0.0
        for j in ((d + 1) / 2)...d {
            var choose = 1.0
            for i in 0..<j { choose = choose * Double(d - i) / Double(i + 1) }
            failure += choose * pow(0.25, Double(j)) * pow(0.75, Double(d - j))
        }
        return 1 - failure
    }

    private func checkCompatible(_ other: CountSketch) throws(SketchError) {
        guard width == other.width, depth == other.depth, seed == other.seed else {
            throw .incompatible(sketch: "CountSketch", message:
                "width \(width)/\(other.width), depth \(depth)/\(other.depth), seed \(seed)/\(other.seed) must all agree")
        }
    }

    /// Adds `other` (the sketch of the sum of the two value vectors).
    /// - Complexity: O(width · depth).
    public mutating func add(_ other: CountSketch) throws(SketchError) {
        try checkCompatible(other)
        for i in counters.indices { counters[i] += other.counters[i] }
    }

    /// Subtracts `other` (the sketch of the difference of the two value vectors).
    /// - Complexity: O(width · depth).
    public mutating func subtract(_ other: CountSketch) throws(SketchError) {
        try checkCompatible(other)
        for i in counters.indices { counters[i] -= other.counters[i] }
    }

    /// Same as `add(_:)`.
    /// - Complexity: O(width · depth).
    public mutating func merge(_ other: CountSketch) throws(SketchError) { try add(other) }

    /// The envelope bytes.
    /// - Complexity: O(width · depth).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.countSketch, capacity: 8 * counters.count + 32)
        writer.write(UInt32(width))
        writer.write(UInt32(depth))
        writer.write(seed)
        writer.write(array: counters)
        return SketchEnvelope.finish(&writer)
    }

    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(n).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .countSketch)
        let (width, depth, seed, counters) = try SketchEnvelope.decode { () throws(CoreError) in
            let at = reader.offset
            let width = Int(try reader.read(UInt32.self, "width"))
            let depth = Int(try reader.read(UInt32.self, "depth"))
            try reader.check(width >= 1 && depth >= 1 && depth <= 16 && width * depth <= 1 << 30,
                             field: "width", at: at, "width \(width) × depth \(depth) out of range")
            let seed = try reader.read(UInt64.self, "seed")
            let countersAt = reader.offset
            let counters = try reader.readDoubleArray("counters")
            try reader.check(counters.count == width * depth, field: "counters", at: countersAt,
                             "\(counters.count) counters, expected \(width * depth)")
            try reader.expectEnd()
            return (width, depth, seed, counters)
        }
        try self.init(width: width, depth: depth, seed: seed)
        self.counters = counters
    }
}
