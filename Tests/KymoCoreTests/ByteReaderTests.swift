import Testing
@testable import KymoCore

@Suite struct ByteReaderTests {
    @Test func roundTripsEveryFieldType() throws {
        var writer = ByteWriter()
        writer.write(UInt8(7)); writer.write(Int16(-3)); writer.write(UInt32(0xDEAD_BEEF))
        writer.write(Int64.min); writer.write(Float.nan); writer.write(-0.0 as Double)
        writer.write(true); writer.write("fc1[12,40]")
        writer.write(array: [Float(1.5), -2, .infinity]); writer.write(array: [UInt32(1), 2, 3])
        writer.write(array: [Double.pi])
        var reader = ByteReader(writer.bytes, source: "test")
        #expect(try reader.read(UInt8.self, "a") == 7)
        #expect(try reader.read(Int16.self, "b") == -3)
        #expect(try reader.read(UInt32.self, "c") == 0xDEAD_BEEF)
        #expect(try reader.read(Int64.self, "d") == .min)
        #expect(try reader.readFloat("e").bitPattern == Float.nan.bitPattern)
        #expect(try reader.readDouble("f").bitPattern == (-0.0 as Double).bitPattern)
        #expect(try reader.readBool("g") == true)
        #expect(try reader.readString("h") == "fc1[12,40]")
        #expect(try reader.readFloatArray("i") == [1.5, -2, .infinity])
        #expect(try reader.readArray(UInt32.self, "j") == [1, 2, 3])
        #expect(try reader.readDoubleArray("k") == [.pi])
        try reader.expectEnd()
    }

    @Test func truncationNamesTheField() {
        var writer = ByteWriter()
        writer.write(UInt16(1))
        var reader = ByteReader(writer.bytes, source: "blob.bin")
        #expect(throws: CoreError.truncated(source: "blob.bin", field: "width", offset: 0, needed: 4, available: 2)) {
            _ = try reader.read(UInt32.self, "width")
        }
    }

    @Test func hugeCountIsRejectedBeforeAllocating() {
        var writer = ByteWriter()
        writer.write(UInt64.max / 2)
        var reader = ByteReader(writer.bytes, source: "blob.bin")
        #expect(throws: CoreError.self) { _ = try reader.readFloatArray("values") }
    }
}
