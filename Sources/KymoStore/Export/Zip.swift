import CZlib
import KymoCore

/// A minimal, deterministic ZIP writer for `.npz`: stored (uncompressed) members, every
/// timestamp 1980-01-01 00:00, no extra fields, members in the order given. CRC-32 is zlib's.
enum Zip {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { b in
            UInt32(CZlib.crc32(0, b.baseAddress, uInt(b.count)))
        }
    }

    /// - Complexity: O(total size).
    static func archive(_ members: [(name: String, bytes: [UInt8])]) throws(StoreError) -> [UInt8] {
        var out = ByteWriter(capacity: members.reduce(22) { $0 + $1.bytes.count + 100 })
        var central = ByteWriter()
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
        for member in members {
            guard member.bytes.count < Int(UInt32.max), out.count < Int(UInt32.max) else {
                throw .invalidArgument("npz member \(member.name) exceeds 4 GB (ZIP64 is not supported)")
            }
            let crc = crc32(member.bytes)
            let name = Array(member.name.utf8)
            let offset = UInt32(out.count)
            out.write(UInt32(0x0403_4b50)); out.write(UInt16(20)); out.write(UInt16(0)); out.write(UInt16(0))
            out.write(dosTime); out.write(dosDate); out.write(crc)
            out.write(UInt32(member.bytes.count)); out.write(UInt32(member.bytes.count))
            out.write(UInt16(name.count)); out.write(UInt16(0))
            out.write(raw: name)
            out.write(raw: member.bytes)
            central.write(UInt32(0x0201_4b50)); central.write(UInt16(20)); central.write(UInt16(20))
            central.write(UInt16(0)); central.write(UInt16(0)); central.write(dosTime); central.write(dosDate)
            central.write(crc); central.write(UInt32(member.bytes.count)); central.write(UInt32(member.bytes.count))
            central.write(UInt16(name.count)); central.write(UInt16(0)); central.write(UInt16(0))
            central.write(UInt16(0)); central.write(UInt16(0)); central.write(UInt32(0)); central.write(offset)
            central.write(raw: name)
        }
        let centralOffset = UInt32(out.count)
        out.write(raw: central.bytes)
        out.write(UInt32(0x0605_4b50)); out.write(UInt16(0)); out.write(UInt16(0))
        out.write(UInt16(members.count)); out.write(UInt16(members.count))
        out.write(UInt32(central.count)); out.write(centralOffset); out.write(UInt16(0))
        return out.bytes
    }
}
