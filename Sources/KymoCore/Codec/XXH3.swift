import CXXHash

/// XXH3-64, the one hash Kymograph uses: sketch keys, chunk and checkpoint checksums.
///
/// libxxhash is compiled *inline* into the caller (see `Sources/CXXHash/shim.h`), so hashing an
/// 8-byte key costs about a nanosecond instead of the 5–7 ns of a shared-library call.
/// Hash values depend only on the bytes and the seed: the same on every machine and build.
package enum XXH3 {
    /// Hashes `bytes` with `seed`.
    /// - Complexity: O(n) in the number of bytes.
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        kymo_xxh3_64(bytes.baseAddress, bytes.count, seed)
    }

    /// Hashes the 8 little-endian bytes of `key` with `seed`.
    ///
    /// Within KymoCore this inlines; from another module it is a call. The sketches' per-key
    /// hash (`SketchHash.hash`, KymoSketches) therefore calls the same shim function itself, in
    /// that one place, and a test checks that the two agree.
    /// - Complexity: O(1); about 1 ns.
    @inline(__always)
    package static func hash(_ key: UInt64, seed: UInt64) -> UInt64 {
        kymo_xxh3_u64(key.littleEndian, seed)
    }

    /// Hashes the bytes of a contiguous array.
    /// - Complexity: O(n).
    package static func hash<T: BitwiseCopyable>(_ values: [T], seed: UInt64 = 0) -> UInt64 {
        values.withUnsafeBytes { hash($0, seed: seed) }
    }
}

/// XXH3-64 over data that arrives in pieces; `digest()` equals `XXH3.hash` of the concatenation.
package struct XXH3Hasher: ~Copyable {
    private let state: UnsafeMutableRawPointer

    /// - Complexity: O(1).
    package init(seed: UInt64 = 0) {
        guard let state = kymo_xxh3_create(seed) else { fatalError("XXH3: out of memory") }
        self.state = state
    }

    deinit { kymo_xxh3_free(state) }

    /// - Complexity: O(n) in the number of bytes.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        kymo_xxh3_update(state, bytes.baseAddress, bytes.count)
    }

    /// - Complexity: O(n).
    package mutating func update<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBytes { update($0) }
    }

    /// - Complexity: O(1).
    package mutating func update<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { update($0) }
    }

    /// - Complexity: O(1).
    package func digest() -> UInt64 { kymo_xxh3_digest(state) }
}
