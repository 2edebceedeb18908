/// An explicit, counter-based random generator: the `n`-th output is a pure function of
/// `(key, n)`, so the whole state is two integers that a checkpoint stores and a replay restores.
///
/// Output `n` is SplitMix64's finalizer applied to `key + (n + 1)·γ` (γ = 2⁶⁴/φ), which is exactly
/// Steele, Lea and Flood's SplitMix64 stream ("Fast splittable pseudorandom number generators",
/// OOPSLA 2014); it passes BigCrush. Independent streams (`stream(_:)`) derive a new key by mixing
/// the parent key with a stream id, so per-purpose generators (data order, dropout, sampling)
/// never share outputs.
///
/// Never use the system generator or the standard library's `shuffle` (their algorithms may change
/// between Swift versions); `shuffle(_:)` here is a fixed Fisher–Yates.
package struct CounterRNG: RandomNumberGenerator, Hashable, Sendable {
    /// The stream's key (the run seed, or a key derived from it).
    package let key: UInt64
    /// How many outputs have been drawn.
    package var counter: UInt64

    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// - Complexity: O(1).
    package init(key: UInt64, counter: UInt64 = 0) {
        self.key = key
        self.counter = counter
    }

    /// SplitMix64's output function (Stafford's Mix13 variant).
    /// - Complexity: O(1).
    @inline(__always)
    package static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// The output at position `index` of this stream, without advancing.
    /// - Complexity: O(1).
    @inline(__always)
    package func value(at index: UInt64) -> UInt64 {
        Self.mix(key &+ (index &+ 1) &* Self.gamma)
    }

    /// - Complexity: O(1).
    @inline(__always)
    package mutating func next() -> UInt64 {
        let result = value(at: counter)
        counter &+= 1
        return result
    }

    /// An independent generator for purpose `id` (e.g. 1 = data order, 2 = dropout).
    /// - Complexity: O(1).
    package func stream(_ id: UInt64) -> CounterRNG {
        CounterRNG(key: Self.mix(key ^ Self.mix(id &+ 0x5851_F42D_4C95_7F2D)))
    }

    /// Uniform in [0, 1) with 24 random bits.
    /// - Complexity: O(1).
    @inline(__always)
    package mutating func nextFloat() -> Float {
        Float(next() &>> 40) * 0x1p-24
    }

    /// Uniform in [0, 1) with 53 random bits.
    /// - Complexity: O(1).
    @inline(__always)
    package mutating func nextDouble() -> Double {
        Double(next() &>> 11) * 0x1p-53
    }

    /// Uniform in 0..<bound without modulo bias (Lemire's multiply-and-reject).
    /// - Precondition: bound > 0.
    /// - Complexity: O(1) expected.
    package mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// Fisher–Yates shuffle, fixed across Swift versions (unlike `Array.shuffle`).
    /// - Complexity: O(n).
    package mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = Int(next(below: UInt64(i + 1)))
            values.swapAt(i, j)
        }
    }
}
