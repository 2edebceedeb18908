import KymoCore

/// A DDSketch-style relative-error histogram of magnitudes |x| of `Float` values, with a
/// deterministic two-sided bound on the fraction of values above any threshold.
///
/// **Why DDSketch, not KLL.** The queries ask "more than P % of |g| above T" for arbitrary T.
/// DDSketch's buckets answer that with a *deterministic* bound (only the one bucket holding T is
/// uncertain) and merge *exactly* (bucket counts add), so a per-step sketch merged over a run is
/// the sketch of the run. KLL bounds rank error only with probability 1 − δ and its merges are
/// randomized.
///
/// **Index mapping.** Bucket i holds the magnitudes whose IEEE-754 bit pattern, shifted right by
/// 23 − m, equals i (m = `precisionBits`): for normal floats, [2^e·(1 + j/2^m), 2^e·(1 + (j+1)/2^m)).
/// Adjacent bucket edges differ by a factor of at most 1 + 2^−m (relative accuracy α ≈ 2^−(m+1)),
/// exactly like DDSketch's logarithmic mapping but computed with a shift instead of a `log`,
/// so it is exact and identical on every machine. Bucket 0 holds zero and the tiniest
/// subnormals; +∞ has its own bucket; NaNs are only counted (`nanCount`).
///
/// **Accuracy (deterministic).** `fractionAbove(t)` returns lower = (values in buckets above t's
/// bucket)/n and upper = lower + (values in t's bucket)/n; the true fraction of values > t lies in
/// [lower, upper]. `quantile(q)` returns the bucket that holds rank ⌊q·(n−1)⌋: the true quantile is
/// in [lowerBound, upperBound), whose ratio is at most 1 + 2^−m.
///
/// **Space.** 8 bytes per bucket between the smallest and largest magnitude seen:
/// 2^m per binade (m = 6: 64 buckets, 512 bytes per factor of 2 in range).
///
/// **Merge.** Sketches with equal `precisionBits` merge exactly (bucket counts add).
///
/// **Serialization.** Envelope kind 6, format version 2 (docs/format/sketches.md): precisionBits
/// (UInt8, off 16), count (UInt64, 17), nanCount (UInt64, 25), countWidth (UInt8, 33: 4 when
/// every bucket fits a UInt32, else 8), runCount (UInt32, 34), then per run its first bucket
/// index (UInt32), its length (UInt32) and its counts (countWidth bytes each). Runs ascend and
/// cover every non-empty bucket; a gap of `runGap` or more empty buckets starts a new run. A
/// step's |g| histogram (zeros in bucket 0, the rest ~30 binades up) takes ~8 KB instead of the
/// ~60 KB of version 1 (one dense UInt64 range from the first to the last non-empty bucket),
/// which is still read.
///
/// **Background.** C. Masson, J. E. Rim, H. K. Lee, "DDSketch: a fast and fully-mergeable quantile
/// sketch with relative-error guarantees", VLDB 12(12), 2019 (the bit-pattern mapping is the
/// "fast" mapping family discussed there, as in HdrHistogram).
public struct MagnitudeQuantiles: Sendable, Equatable {
    /// m: mantissa bits kept per bucket (0...10).
    public let precisionBits: Int
    let shift: UInt32
    /// Values counted (NaNs excluded).
    public private(set) var count: UInt64 = 0
    /// NaNs seen (not in `count`).
    public private(set) var nanCount: UInt64 = 0
    var minIndex = 0
    var buckets: [UInt64] = []

    /// - Complexity: O(1).
    public init(precisionBits: Int = 6) throws(SketchError) {
        guard (0...10).contains(precisionBits) else {
            throw .invalidArgument(sketch: "MagnitudeQuantiles", message: "precisionBits \(precisionBits) not in 0...10")
        }
        self.precisionBits = precisionBits
        shift = UInt32(23 - precisionBits)
    }

    /// The smallest m whose bucket ratio 1 + 2^−m is at most 1 + relativeWidth.
    /// - Complexity: O(1).
    public static func suggestedPrecisionBits(relativeWidth: Double) -> Int {
        var m = 0
        while m < 10 && 1.0 / Double(1 << m) > relativeWidth { m += 1 }
        return m
    }

    var maxIndex: Int { Int(UInt32(0x7F80_0000) >> shift) }

    /// Adds |value| (`weight` times).
    /// - Complexity: O(1) (amortized: the bucket range grows rarely).
    public mutating func update(_ value: Float, weight: UInt64 = 1) {
        let bits = value.bitPattern & 0x7FFF_FFFF
        if bits > 0x7F80_0000 { nanCount &+= weight; return }
        let index = Int(bits >> shift)
        let r = index &- minIndex
        if r >= 0 && r < buckets.count {
            buckets.withUnsafeMutableBufferPointer { $0[r] &+= weight }
        } else {
            grow(to: index)
            buckets[index - minIndex] &+= weight
        }
        count &+= weight
    }

    /// Adds |v| for every v of `values`.
    /// - Complexity: O(n).
    public mutating func update(_ values: UnsafeBufferPointer<Float>) {
        var lo = minIndex, n = buckets.count
        var added: UInt64 = 0
        for v in values {
            let bits = v.bitPattern & 0x7FFF_FFFF
            if bits > 0x7F80_0000 { nanCount &+= 1; continue }
            let r = Int(bits >> shift) &- lo
            if r >= 0 && r < n {
                buckets.withUnsafeMutableBufferPointer { $0[r] &+= 1 }
            } else {
                grow(to: r + lo)
                buckets[r + lo - minIndex] &+= 1
                lo = minIndex; n = buckets.count
            }
            added &+= 1
        }
        count &+= added
    }

    /// Adds |v| for every v of `values`.
    /// - Complexity: O(n).
    public mutating func update(_ values: [Float]) {
        values.withUnsafeBufferPointer { update($0) }
    }

    private mutating func grow(to index: Int) {
        if buckets.isEmpty {
            let lo = max(0, index - 32), hi = min(maxIndex, index + 32)
            minIndex = lo
            buckets = [UInt64](repeating: 0, count: hi - lo + 1)
            return
        }
        let oldHi = minIndex + buckets.count - 1
        // Grow by at least a quarter of the range so growth is amortized O(1).
        let slack = max(32, buckets.count / 4)
        let lo = index < minIndex ? max(0, index - slack) : minIndex
        let hi = index > oldHi ? min(maxIndex, index + slack) : oldHi
        var grown = [UInt64](repeating: 0, count: hi - lo + 1)
        for i in buckets.indices { grown[minIndex - lo + i] = buckets[i] }
        buckets = grown
        minIndex = lo
    }

    /// Lower edge (inclusive) of bucket `index`.
    func lowerEdge(_ index: Int) -> Float { Float(bitPattern: UInt32(index) << shift) }
    /// Upper edge (exclusive) of bucket `index`.
    func upperEdge(_ index: Int) -> Float {
        index >= maxIndex ? .infinity : Float(bitPattern: UInt32(index + 1) << shift)
    }

    /// The fraction of values whose magnitude exceeds `t`, with deterministic bounds.
    /// - Complexity: O(buckets).
    public func fractionAbove(_ t: Float) -> (estimate: Double, lowerBound: Double, upperBound: Double) {
        guard count > 0 else { return (0, 0, 0) }
        if t < 0 { return (1, 1, 1) }
        if t.isNaN { return (0, 0, 1) }
        let ti = Int(t.bitPattern >> shift)
        var above: UInt64 = 0, inBucket: UInt64 = 0
        for (i, c) in buckets.enumerated() {
            let index = minIndex + i
            if index > ti { above &+= c } else if index == ti { inBucket = c }
        }
        let n = Double(count)
        // Values equal to +∞ are above every finite t; the +∞ bucket is never ambiguous.
        if ti == maxIndex { return (0, 0, 0) }
        return ((Double(above) + Double(inBucket) / 2) / n, Double(above) / n, Double(above + inBucket) / n)
    }

    /// The q-quantile of the magnitudes: the bucket holding rank ⌊q·(n−1)⌋, its geometric-ish
    /// midpoint as the estimate and its edges as bounds.
    /// - Complexity: O(buckets).
    public func quantile(_ q: Double) -> (estimate: Float, lowerBound: Float, upperBound: Float)? {
        guard count > 0, q >= 0, q <= 1 else { return nil }
        let rank = UInt64((q * Double(count - 1)).rounded(.down))
        var seen: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            seen &+= c
            if seen > rank {
                let index = minIndex + i
                let lo = lowerEdge(index), hi = upperEdge(index)
                return (hi.isInfinite ? lo : lo + (hi - lo) / 2, lo, hi)
            }
        }
        return nil
    }

    /// Adds `other`'s buckets.
    /// - Throws: `SketchError.incompatible` unless `precisionBits` agree.
    /// - Complexity: O(buckets).
    public mutating func merge(_ other: MagnitudeQuantiles) throws(SketchError) {
        guard precisionBits == other.precisionBits else {
            throw .incompatible(sketch: "MagnitudeQuantiles", message: "precisionBits \(precisionBits)/\(other.precisionBits) must agree")
        }
        if let (lo, hi) = other.nonEmptyRange() {
            grow(to: lo); grow(to: hi)
            for index in lo...hi { buckets[index - minIndex] &+= other.buckets[index - other.minIndex] }
        }
        count &+= other.count
        nanCount &+= other.nanCount
    }

    func nonEmptyRange() -> (Int, Int)? {
        guard let first = buckets.firstIndex(where: { $0 != 0 }), let last = buckets.lastIndex(where: { $0 != 0 }) else { return nil }
        return (minIndex + first, minIndex + last)
    }

    /// (index, count) of every non-empty bucket, ascending.
    /// - Complexity: O(buckets).
    public var nonEmptyBuckets: [(index: Int, count: UInt64)] {
        buckets.enumerated().compactMap { $0.element == 0 ? nil : (minIndex + $0.offset, $0.element) }
    }

    /// Equal when they hold the same counts in the same non-empty buckets (spare capacity aside).
    /// - Complexity: O(buckets).
    public static func == (lhs: MagnitudeQuantiles, rhs: MagnitudeQuantiles) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// Empty buckets that split a run in the serialized form (a run header costs 8 bytes, so
    /// shorter gaps are written as zero counts).
    static let runGap = 4

    /// The non-empty buckets as runs: (offset into `buckets` of the first, length), ascending.
    /// - Complexity: O(buckets).
    func runs() -> [(start: Int, count: Int)] {
        var result: [(start: Int, count: Int)] = []
        var i = 0
        while i < buckets.count {
            guard buckets[i] != 0 else { i += 1; continue }
            var end = i + 1, last = i
            while end < buckets.count && end - last <= Self.runGap {
                if buckets[end] != 0 { last = end }
                end += 1
            }
            result.append((i, last - i + 1))
            i = last + 1
        }
        return result
    }

    /// Format version 2 (see the type's documentation).
    /// - Complexity: O(buckets).
    public func serialized() -> [UInt8] {
        let runs = runs()
        let wide = buckets.contains { $0 > UInt64(UInt32.max) }
        let width = wide ? 8 : 4
        let payload = runs.reduce(0) { $0 + 8 + width * $1.count }
        var writer = SketchEnvelope.begin(.magnitudeQuantiles, capacity: 24 + payload)
        writer.write(UInt8(precisionBits))
        writer.write(count)
        writer.write(nanCount)
        writer.write(UInt8(width))
        writer.write(UInt32(runs.count))
        var packed = [UInt8](repeating: 0, count: payload)
        packed.withUnsafeMutableBytes { raw in
            var o = 0
            for run in runs {
                raw.storeBytes(of: UInt32(minIndex + run.start).littleEndian, toByteOffset: o, as: UInt32.self)
                raw.storeBytes(of: UInt32(run.count).littleEndian, toByteOffset: o + 4, as: UInt32.self)
                o += 8
                for c in buckets[run.start..<(run.start + run.count)] {
                    if wide {
                        raw.storeBytes(of: c.littleEndian, toByteOffset: o, as: UInt64.self)
                    } else {
                        raw.storeBytes(of: UInt32(c).littleEndian, toByteOffset: o, as: UInt32.self)
                    }
                    o += width
                }
            }
        }
        writer.write(raw: packed)
        return SketchEnvelope.finish(&writer)
    }

    /// Reads format version 2, or version 1.
    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(buckets).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var (reader, version) = try SketchEnvelope.openVersioned(bytes, expecting: .magnitudeQuantiles)
        let s = try SketchEnvelope.decode { () throws(CoreError) in
            let mAt = reader.offset
            let m = Int(try reader.read(UInt8.self, "precisionBits"))
            try reader.check(m <= 10, field: "precisionBits", at: mAt, "\(m) not in 0...10")
            let n = try reader.read(UInt64.self, "count")
            let nan = try reader.read(UInt64.self, "nanCount")
            let maxIndex = Int(UInt32(0x7F80_0000) >> UInt32(23 - m))
            let lo: Int, buckets: [UInt64], bucketsAt: Int
            if version == 1 {
                let loAt = reader.offset
                lo = Int(try reader.read(UInt32.self, "minIndex"))
                bucketsAt = reader.offset
                buckets = try reader.readArray(UInt64.self, "buckets")
                try reader.check(lo + buckets.count <= maxIndex + 1, field: "minIndex", at: loAt,
                                 "bucket range \(lo)..<\(lo + buckets.count) exceeds \(maxIndex)")
            } else {
                (lo, buckets, bucketsAt) = try Self.readRuns(&reader, maxIndex: maxIndex)
            }
            var sum: UInt64 = 0
            var overflow = false
            for c in buckets { let r = sum.addingReportingOverflow(c); sum = r.partialValue; overflow = overflow || r.overflow }
            try reader.check(!overflow && sum == n, field: "buckets", at: bucketsAt, "bucket counts sum to \(sum), count is \(n)")
            try reader.expectEnd()
            return (m, n, nan, lo, buckets)
        }
        try self.init(precisionBits: s.0)
        count = s.1; nanCount = s.2; minIndex = s.3; buckets = s.4
    }

    /// Version 2's runs, as one dense range (first index, counts) and the offset where they start.
    private static func readRuns(_ reader: inout ByteReader, maxIndex: Int) throws(CoreError) -> (Int, [UInt64], Int) {
        let widthAt = reader.offset
        let width = Int(try reader.read(UInt8.self, "countWidth"))
        try reader.check(width == 4 || width == 8, field: "countWidth", at: widthAt, "\(width) is neither 4 nor 8")
        let runCount = Int(try reader.read(UInt32.self, "runCount"))
        let at = reader.offset
        try reader.check(runCount <= reader.remaining / 8, field: "runCount", at: at - 4,
                         "\(runCount) runs cannot fit in \(reader.remaining) bytes")
        var lo = 0
        var buckets: [UInt64] = []
        var next = 0
        for r in 0..<runCount {
            let startAt = reader.offset
            let start = Int(try reader.read(UInt32.self, "run.start"))
            let length = Int(try reader.read(UInt32.self, "run.length"))
            try reader.check(length > 0 && start >= next && start + length <= maxIndex + 1, field: "run", at: startAt,
                             "run \(r) covers buckets \(start)..<\(start + length): empty, out of order or beyond \(maxIndex)")
            try reader.check(length <= reader.remaining / width, field: "run.counts", at: reader.offset,
                             "\(length) counts of \(width) bytes do not fit in \(reader.remaining) bytes")
            if r == 0 { lo = start } else { buckets.append(contentsOf: repeatElement(0, count: start - next)) }
            for _ in 0..<length {
                buckets.append(width == 4 ? UInt64(try reader.read(UInt32.self, "run.counts")) : try reader.read(UInt64.self, "run.counts"))
            }
            next = start + length
        }
        return (lo, buckets, at)
    }
}
