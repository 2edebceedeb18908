import Testing
@testable import KymoCore

@Suite struct ByteWriterArrayTests {
    /// The reference encoding: a UInt64 count, then each element little-endian, byte by byte.
    private func reference<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        var count = UInt64(values.count)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: count)); count >>= 8 }
        for v in values {
            var x = v
            for _ in 0..<(T.bitWidth / 8) {
                out.append(UInt8(truncatingIfNeeded: x))
                x = T.bitWidth > 8 ? x >> 8 : 0
            }
        }
        return out
    }

    @Test func concreteArrayWritersWriteTheReferenceBytes() throws {
        var rng = CounterRNG(key: 42)
        let n = 37
        let u8 = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let i8 = (0..<n).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        let u16 = (0..<n).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let u32 = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        let u64 = (0..<n).map { _ in rng.next() }
        let i32 = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next()) }
        let i64 = (0..<n).map { _ in Int64(bitPattern: rng.next()) }
        func check(_ body: (inout ByteWriter) -> Void, _ expected: [UInt8]) {
            var w = ByteWriter()
            body(&w)
            #expect(w.bytes == expected)
        }
        check({ $0.write(array: u8) }, reference(u8))
        check({ $0.write(array: i8) }, reference(i8))
        check({ $0.write(array: u16) }, reference(u16))
        check({ $0.write(array: u32) }, reference(u32))
        check({ $0.write(array: u64) }, reference(u64))
        check({ $0.write(array: i32) }, reference(i32))
        check({ $0.write(array: i64) }, reference(i64))
        check({ $0.write(array: [UInt64]()) }, reference([UInt64]()))
        // And the reader takes them back.
        var w = ByteWriter()
        w.write(array: u64); w.write(array: u8)
        var r = ByteReader(w.bytes, source: "test")
        #expect(try r.readArray(UInt64.self, "a") == u64)
        #expect(try r.readArray(UInt8.self, "b") == u8)
        try r.expectEnd()
    }
}
