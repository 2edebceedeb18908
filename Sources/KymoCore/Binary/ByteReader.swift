/// Reads little-endian fixed-width values from a byte buffer, checking every bound.
///
/// Every read names the field it reads, so a truncated or damaged input produces an error such
/// as "possible corruption: sketch.bin at offset 40: field 'width' needs 4 bytes, only 2 remain"
/// and never a crash. Lengths read from the input are checked against what remains before any
/// allocation, so a corrupt length cannot make the reader allocate gigabytes.
///
/// Speed across modules: this type is not `@inlinable` (house style), so a caller in another
/// module runs the generic `read(_:_:)` unspecialized, one witness-table call per operation
/// (about 10 µs for a 17-field record). The fixed-width reads therefore exist as concrete
/// methods (`readUInt8`…`readUInt64`, one unaligned load each) that every other read, the
/// generic one included, goes through; hot decoders in other modules call those.
package struct ByteReader {
    package let bytes: [UInt8]
    /// Names the input in errors (a file path, or a description such as "CountMinSketch").
    package let source: String
    /// Offset of the next byte to read.
    package private(set) var offset: Int
    /// Reads stop here (`bytes.count` unless given): a reader over one record of a larger buffer.
    package let end: Int

    /// A reader of `bytes[offset..<end]`; offsets in errors are offsets into `bytes`.
    /// - Complexity: O(1).
    package init(_ bytes: [UInt8], source: String, offset: Int = 0, end: Int? = nil) {
        precondition((end ?? 0) <= bytes.count, "ByteReader end past the buffer")
        self.bytes = bytes
        self.source = source
        self.offset = offset
        self.end = end ?? bytes.count
    }

    /// Bytes left to read.
    package var remaining: Int { end - offset }

    /// True when every byte has been read.
    package var isAtEnd: Bool { offset == end }

    private func need(_ count: Int, _ field: String) throws(CoreError) {
        guard count >= 0, offset >= 0, count <= remaining else {
            throw .truncated(source: source, field: field, offset: offset,
                             needed: count, available: remaining)
        }
    }

    /// - Complexity: O(1).
    package mutating func readUInt8(_ field: String) throws(CoreError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// - Complexity: O(1).
    package mutating func readUInt16(_ field: String) throws(CoreError) -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) })
    }

    /// - Complexity: O(1).
    package mutating func readUInt32(_ field: String) throws(CoreError) -> UInt32 {
        try need(4, field)
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) })
    }

    /// - Complexity: O(1).
    package mutating func readUInt64(_ field: String) throws(CoreError) -> UInt64 {
        try need(8, field)
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) })
    }

    /// Any integer of 1, 2, 4 or 8 bytes, through the concrete reads above.
    /// - Complexity: O(1).
    package mutating func read<T: FixedWidthInteger>(_: T.Type = T.self, _ field: String) throws(CoreError) -> T {
        switch MemoryLayout<T>.size {
        case 1: return T(truncatingIfNeeded: try readUInt8(field))
        case 2: return T(truncatingIfNeeded: try readUInt16(field))
        case 4: return T(truncatingIfNeeded: try readUInt32(field))
        case 8: return T(truncatingIfNeeded: try readUInt64(field))
        default:
            let size = MemoryLayout<T>.size
            try need(size, field)
            var value: T = 0
            for i in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
            offset += size
            return value
        }
    }

    /// - Complexity: O(1).
    package mutating func readFloat(_ field: String) throws(CoreError) -> Float {
        Float(bitPattern: try readUInt32(field))
    }

    /// - Complexity: O(1).
    package mutating func readDouble(_ field: String) throws(CoreError) -> Double {
        Double(bitPattern: try readUInt64(field))
    }

    /// - Complexity: O(1).
    package mutating func readBool(_ field: String) throws(CoreError) -> Bool {
        let offsetBefore = offset
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let other:
            throw .invalid(source: source, field: field, offset: offsetBefore,
                           message: "expected 0 or 1, found \(other)")
        }
    }

    /// Reads `count` raw bytes.
    /// - Complexity: O(n).
    package mutating func readRaw(count: Int, _ field: String) throws(CoreError) -> ArraySlice<UInt8> {
        try need(count, field)
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// Reads a UInt32 byte count and that many UTF-8 bytes.
    /// - Complexity: O(n).
    package mutating func readString(_ field: String) throws(CoreError) -> String {
        if remaining < 4 { try need(4, field + ".length") }   // the suffixed name only when it fails
        let count = Int(try readUInt32(field))
        let raw = try readRaw(count: count, field)
        return String(decoding: raw, as: UTF8.self)
    }

    /// Reads an element count written by `ByteWriter.write(array:)` and checks that that many
    /// elements of `elementSize` bytes remain.
    package mutating func readCount(_ field: String, elementSize: Int) throws(CoreError) -> Int {
        let at = offset
        if remaining < 8 { try need(8, field + ".count") }
        let raw = try readUInt64(field)
        guard raw <= UInt64(Int.max / max(elementSize, 1)) else {
            throw .invalid(source: source, field: field, offset: at, message: "count \(raw) is impossible")
        }
        let count = Int(raw)
        try need(count * elementSize, field)
        return count
    }

    /// - Complexity: O(n).
    package mutating func readArray<T: FixedWidthInteger>(_: T.Type = T.self, _ field: String) throws(CoreError) -> [T] {
        let count = try readCount(field, elementSize: MemoryLayout<T>.size)
        var result = [T]()
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try read(T.self, field)) }
        return result
    }

    /// - Complexity: O(n).
    package mutating func readFloatArray(_ field: String) throws(CoreError) -> [Float] {
        let count = try readCount(field, elementSize: 4)
        var result = [Float](repeating: 0, count: count)
        #if _endian(little)
        result.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count * 4)]))
            }
        }
        offset += count * 4
        #else
        for i in 0..<count { result[i] = try readFloat(field) }
        #endif
        return result
    }

    /// - Complexity: O(n).
    package mutating func readDoubleArray(_ field: String) throws(CoreError) -> [Double] {
        let count = try readCount(field, elementSize: 8)
        var result = [Double]()
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try readDouble(field)) }
        return result
    }

    /// Throws unless `condition` holds; names the field and the offset where it was read.
    package func check(_ condition: Bool, field: String, at fieldOffset: Int, _ message: @autoclosure () -> String) throws(CoreError) {
        guard condition else {
            throw .invalid(source: source, field: field, offset: fieldOffset, message: message())
        }
    }

    /// Throws unless every byte was read.
    package func expectEnd() throws(CoreError) {
        guard isAtEnd else {
            throw .invalid(source: source, field: "end", offset: offset,
                           message: "\(remaining) unexpected trailing bytes")
        }
    }
}
