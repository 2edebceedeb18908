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

    @Test func concreteReadsAgreeWithGenericAndStopAtEnd() throws {
        var writer = ByteWriter()
        writer.write(UInt8(0xAB)); writer.write(UInt16(0xBEEF)); writer.write(UInt32(0x0102_0304))
        writer.write(UInt64(0x1122_3344_5566_7788)); writer.write(UInt32(99))
        var concrete = ByteReader(writer.bytes, source: "rec", offset: 0, end: 15)
        var generic = ByteReader(writer.bytes, source: "rec", offset: 0, end: 15)
        #expect(try concrete.readUInt8("a") == 0xAB && generic.read(UInt8.self, "a") == 0xAB)
        #expect(try concrete.readUInt16("b") == 0xBEEF && generic.read(Int16.self, "b") == Int16(bitPattern: 0xBEEF))
        #expect(try concrete.readUInt32("c") == 0x0102_0304 && generic.read(UInt32.self, "c") == 0x0102_0304)
        #expect(try concrete.readUInt64("d") == 0x1122_3344_5566_7788 && generic.read(Int64.self, "d") == 0x1122_3344_5566_7788)
        try concrete.expectEnd()
        // The 4 bytes after `end` are not readable through this reader.
        #expect(throws: CoreError.truncated(source: "rec", field: "e", offset: 15, needed: 4, available: 0)) {
            _ = try concrete.readUInt32("e")
        }
        // A reader positioned before the buffer fails instead of reading out of bounds.
        var before = ByteReader(writer.bytes, source: "rec", offset: -8)
        #expect(throws: CoreError.self) { _ = try before.readUInt64("f") }
        // A short length or count names the suffixed field.
        var short = ByteReader([1, 2], source: "rec")
        #expect(throws: CoreError.truncated(source: "rec", field: "name.length", offset: 0, needed: 4, available: 2)) {
            _ = try short.readString("name")
        }
    }
}
