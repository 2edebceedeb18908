import KymoCore

/// One commit: the chunks it makes visible, the step prefix it makes durable, and where the
/// segment files end once it is durable.
struct CommitRecord: Equatable {
    var number: Int
    /// Steps `0..<committedEnd` are committed.
    var committedEnd: Int
    /// The segment being written and its valid length after this commit.
    var segment: Int
    var segmentEnd: Int
    var chunks: [ChunkInfo]
}

/// What follows the last good record of a commit log.
enum LogTail: Equatable {
    case clean
    /// Bytes from `offset` on are not a complete, checksummed record: a torn write (or a damaged
    /// final record, which looks the same). They are not committed.
    case torn(offset: Int, bytes: Int)
}

/// The commit log `commits.klog`: a header, then checksummed records, appended and fsynced one
/// per commit. Its valid prefix is the run's committed state (see docs/format/store.md).
enum CommitLog {
    static let fileMagic: UInt32 = 0x474C_594B   // "KYLG"
    static let recordMagic: UInt32 = 0x4D43_594B // "KYCM"
    static let version: UInt16 = 1
    static let headerSize = 8
    static let maxRecordPayload = 1 << 30

    static func header() -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.write(fileMagic); w.write(version); w.write(UInt16(0))
        return w.bytes
    }

    /// The bytes of one record: magic, payload length, payload, XXH3 of all before it.
    /// - Complexity: O(entries).
    static func encode(_ record: CommitRecord) -> [UInt8] {
        var p = ByteWriter(capacity: 40 + record.chunks.count * 112)
        p.write(UInt64(record.number))
        p.write(Int64(record.committedEnd))
        p.write(UInt32(record.segment))
        p.write(UInt64(record.segmentEnd))
        p.write(UInt32(record.chunks.count))
        for c in record.chunks {
            p.write(c.column)
            p.write(c.type.rawValue); p.write(c.codec); p.write(c.filter.rawValue); p.write(UInt8(0))
            p.write(UInt32(c.width))
            p.write(Int64(c.steps.lowerBound)); p.write(Int64(c.steps.upperBound))
            p.write(UInt64(c.count)); p.write(UInt64(c.rawSize)); p.write(UInt64(c.storedSize))
            p.write(c.scale); p.write(c.tag)
            p.write(UInt32(c.segment)); p.write(UInt64(c.offset)); p.write(c.checksum)
        }
        var w = ByteWriter(capacity: p.count + 16)
        w.write(recordMagic)
        w.write(UInt32(p.count))
        w.write(raw: p.bytes)
        let sum = w.bytes.withUnsafeBytes { XXH3.hash($0) }
        w.write(sum)
        return w.bytes
    }

    /// Parses records from `bytes` (the log file's content starting at `base`).
    /// A bad record that is the last thing in the file is a torn tail; a bad record followed by
    /// more bytes is corruption and throws, naming the file and offset.
    /// - Complexity: O(n) in the bytes parsed.
    static func parse(_ bytes: [UInt8], base: Int, file: String) throws(StoreError) -> (records: [CommitRecord], end: Int, tail: LogTail) {
        var records: [CommitRecord] = []
        var at = 0
        while at < bytes.count {
            let remaining = bytes.count - at
            func tornOrCorrupt(_ message: String, recordEnd: Int?) throws(StoreError) -> LogTail {
                let allZero = bytes[at...].allSatisfy { $0 == 0 }
                if allZero || recordEnd.map({ $0 >= bytes.count }) ?? (remaining < 8) {
                    return .torn(offset: base + at, bytes: remaining)
                }
                throw .corrupt(file: file, offset: base + at, message: "commit record: \(message)")
            }
            if remaining < 8 {
                return (records, base + at, try tornOrCorrupt("truncated", recordEnd: nil))
            }
            let magic = load32(bytes, at), length = Int(load32(bytes, at + 4))
            guard magic == recordMagic else {
                return (records, base + at, try tornOrCorrupt("bad magic \(hex(magic))", recordEnd: nil))
            }
            let end = at + 8 + length + 8
            guard length <= maxRecordPayload, end <= bytes.count else {
                return (records, base + at, try tornOrCorrupt("length \(length) runs past the end of the file", recordEnd: bytes.count))
            }
            let stored = load64(bytes, at + 8 + length)
            let actual = bytes.withUnsafeBytes { XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[at..<(at + 8 + length)])) }
            guard stored == actual else {
                return (records, base + at, try tornOrCorrupt("checksum \(hex(stored)) ≠ computed \(hex(actual))", recordEnd: end))
            }
            records.append(try decodePayload(Array(bytes[(at + 8)..<(at + 8 + length)]), file: file, base: base + at + 8))
            at = end
        }
        return (records, base + at, .clean)
    }

    private static func decodePayload(_ payload: [UInt8], file: String, base: Int) throws(StoreError) -> CommitRecord {
        var r = ByteReader(payload, source: file)
        do {
            let number = Int(try r.read(UInt64.self, "commit number"))
            let committedEnd = Int(try r.read(Int64.self, "committed end"))
            let segment = Int(try r.read(UInt32.self, "segment"))
            let segmentEnd = Int(try r.read(UInt64.self, "segment end"))
            let count = Int(try r.read(UInt32.self, "chunk count"))
            try r.check(count <= payload.count / 80, field: "chunk count", at: r.offset - 4, "\(count) chunks cannot fit")
            var chunks: [ChunkInfo] = []
            chunks.reserveCapacity(count)
            for _ in 0..<count {
                let entryOffset = r.offset
                let column = try r.readString("column")
                let typeOffset = r.offset
                let rawType = try r.read(UInt8.self, "type")
                guard let type = ColumnType(rawValue: rawType) else {
                    throw StoreError.corrupt(file: file, offset: base + typeOffset, message: "unknown column type \(rawType)")
                }
                let codec = try r.read(UInt8.self, "codec")
                let rawFilter = try r.read(UInt8.self, "filter")
                guard let filter = ChunkFilter(rawValue: rawFilter) else {
                    throw StoreError.corrupt(file: file, offset: base + typeOffset + 2, message: "unknown filter \(rawFilter)")
                }
                _ = try r.read(UInt8.self, "reserved")
                let width = Int(try r.read(UInt32.self, "width"))
                let lower = try r.read(Int64.self, "step start"), upper = try r.read(Int64.self, "step end")
                try r.check(lower <= upper, field: "step range", at: r.offset - 16, "start \(lower) > end \(upper)")
                let elementCount = try r.read(UInt64.self, "count")
                let rawSize = try r.read(UInt64.self, "raw size")
                let storedSize = try r.read(UInt64.self, "stored size")
                try r.check(elementCount < 1 << 40 && rawSize < 1 << 42 && storedSize < 1 << 42, field: "sizes", at: r.offset - 24, "impossible sizes")
                let scale = try r.readFloat("scale")
                let tag = try r.read(UInt64.self, "tag")
                let chunkSegment = Int(try r.read(UInt32.self, "chunk segment"))
                let offset = try r.read(UInt64.self, "chunk offset")
                try r.check(offset < 1 << 50, field: "chunk offset", at: r.offset - 8, "impossible offset")
                let checksum = try r.read(UInt64.self, "chunk checksum")
                let info = ChunkInfo(column: column, type: type, codec: codec, filter: filter, width: width,
                                     steps: Int(lower)..<Int(upper), count: Int(elementCount), scale: scale, tag: tag,
                                     rawSize: Int(rawSize), storedSize: Int(storedSize), segment: chunkSegment,
                                     offset: Int(offset), checksum: checksum)
                try ChunkFormat.validate(info, file: file, at: base + entryOffset)
                chunks.append(info)
            }
            try r.expectEnd()
            return CommitRecord(number: number, committedEnd: committedEnd, segment: segment, segmentEnd: segmentEnd, chunks: chunks)
        } catch let error as CoreError {
            throw StoreError.from(error, file: file, base: base)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt(file: file, offset: base, message: "\(error)")
        }
    }

    static func checkHeader(_ bytes: [UInt8], file: String) throws(StoreError) {
        guard bytes.count >= headerSize else {
            throw .corrupt(file: file, offset: bytes.count, message: "commit log header truncated")
        }
        let expected = header()
        for i in 0..<headerSize where bytes[i] != expected[i] {
            throw .corrupt(file: file, offset: i, message: i < 4 ? "not a kymo commit log (bad magic)" : "unsupported commit log version or reserved bytes")
        }
    }

    static func load32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func load64(_ b: [UInt8], _ at: Int) -> UInt64 {
        UInt64(load32(b, at)) | UInt64(load32(b, at + 4)) << 32
    }

    static func hex<T: FixedWidthInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }
}
