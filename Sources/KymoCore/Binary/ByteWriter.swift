/// Appends little-endian fixed-width values to a byte buffer: the one encoder behind every
/// serialized sketch, chunk header, manifest and checkpoint.
///
/// Floats are written by bit pattern, so a round trip is bit-exact (NaN payloads included).
package struct ByteWriter {
    package private(set) var bytes: [UInt8]

    /// - Complexity: O(1).
    package init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    package var count: Int { bytes.count }

    /// - Complexity: amortized O(1).
    package mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// - Complexity: amortized O(1).
    package mutating func write(_ value: Float) { write(value.bitPattern) }

    /// - Complexity: amortized O(1).
    package mutating func write(_ value: Double) { write(value.bitPattern) }

    /// - Complexity: amortized O(1).
    package mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }

    /// Writes raw bytes with no length prefix.
    /// - Complexity: O(n).
    package mutating func write(raw: some Collection<UInt8>) { bytes.append(contentsOf: raw) }

    /// Writes a UInt32 byte count, then the UTF-8 bytes.
    /// - Complexity: O(n).
    package mutating func write(_ string: String) {
        let utf8 = Array(string.utf8)
        write(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Writes a UInt64 element count, then the elements' little-endian bytes.
    /// - Complexity: O(n).
    package mutating func write<T: FixedWidthInteger>(array: [T]) {
        write(UInt64(array.count))
        for value in array { write(value) }
    }

    /// Writes a UInt64 element count, then the floats' bit patterns.
    /// - Complexity: O(n).
    package mutating func write(array: [Float]) {
        write(UInt64(array.count))
        #if _endian(little)
        array.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in array { write(value) }
        #endif
    }

    /// Writes a UInt64 element count, then the doubles' bit patterns.
    /// - Complexity: O(n).
    package mutating func write(array: [Double]) {
        write(UInt64(array.count))
        for value in array { write(value) }
    }

    /// Overwrites 4 bytes at `offset` (for sizes known only after the payload is written).
    /// - Complexity: O(1).
    package mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }

    /// Overwrites 8 bytes at `offset`.
    /// - Complexity: O(1).
    package mutating func patch(_ value: UInt64, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<8 { bytes[offset + i] = raw[i] }
        }
    }
}
