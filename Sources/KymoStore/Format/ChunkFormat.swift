import KymoCore

/// Where a chunk lives and what it holds: the entry a commit record lists for every chunk, and
/// the reader's index entry. Mirrors the chunk's header so a reader can locate chunks without
/// touching the segment files.
public struct ChunkInfo: Equatable, Sendable {
    public var column: String
    public var type: ColumnType
    public var codec: UInt8
    public var filter: ChunkFilter
    /// Values per step.
    public var width: Int
    public var steps: Range<Int>
    /// Elements (bytes for a blob).
    public var count: Int
    /// Scale of quantized codes (1 otherwise).
    public var scale: Float
    /// A caller's 64-bit tag (the hash of a checkpoint; 0 otherwise).
    public var tag: UInt64
    public var rawSize: Int
    public var storedSize: Int
    /// Segment file number and byte offset of the chunk's first header byte.
    public var segment: Int
    public var offset: Int
    /// XXH3 of the header and payload, as in the chunk's trailer.
    public var checksum: UInt64

    /// Bytes the chunk occupies in its segment: header, name, payload, checksum.
    public var length: Int { ChunkFormat.fixedHeaderSize + column.utf8.count + storedSize + 8 }
}

/// Chunk byte layout (see docs/format/store.md).
enum ChunkFormat {
    static let magic: UInt32 = 0x4843_594B // "KYCH"
    static let version: UInt16 = 1
    static let fixedHeaderSize = 72
    static let codecNone: UInt8 = 0
    static let codecZstd: UInt8 = 1

    /// The header bytes of `info` (without the payload).
    /// - Complexity: O(name length).
    static func header(_ info: ChunkInfo) -> [UInt8] {
        var w = ByteWriter(capacity: fixedHeaderSize + info.column.utf8.count)
        w.write(magic)
        w.write(version)
        w.write(info.type.rawValue)
        w.write(info.codec)
        w.write(info.filter.rawValue)
        w.write(UInt8(0))
        w.write(UInt16(info.column.utf8.count))
        w.write(UInt32(info.width))
        w.write(Int64(info.steps.lowerBound))
        w.write(Int64(info.steps.upperBound))
        w.write(UInt64(info.count))
        w.write(UInt64(info.rawSize))
        w.write(UInt64(info.storedSize))
        w.write(info.scale)
        w.write(UInt32(0))
        w.write(info.tag)
        w.write(raw: info.column.utf8)
        return w.bytes
    }

    /// Checks that a chunk's header bytes agree with the index entry that points at it.
    /// - Complexity: O(name length).
    static func checkHeader(_ bytes: [UInt8], against info: ChunkInfo, file: String) throws(StoreError) {
        let expected = header(info)
        guard bytes.count == expected.count else {
            throw .corrupt(file: file, offset: info.offset, message: "chunk header of '\(info.column)' is truncated")
        }
        for i in 0..<expected.count where bytes[i] != expected[i] {
            let field: String = switch i {
            case 0..<4: "magic"
            case 4..<6: "version"
            case 6: "type"
            case 7: "codec"
            case 8: "filter"
            case 10..<12: "name length"
            case 12..<16: "width"
            case 16..<32: "step range"
            case 32..<40: "count"
            case 40..<56: "sizes"
            case 56..<60: "scale"
            case 64..<72: "tag"
            case 72...: "column name"
            default: "reserved"
            }
            throw .corrupt(file: file, offset: info.offset + i,
                           message: "chunk of '\(info.column)' steps \(info.steps): header field '\(field)' disagrees with the commit record")
        }
    }

    /// Validates the type-dependent invariants of an entry read from a commit record.
    static func validate(_ info: ChunkInfo, file: String, at offset: Int) throws(StoreError) {
        func fail(_ m: String) -> StoreError { .corrupt(file: file, offset: offset, message: "chunk entry for '\(info.column)': \(m)") }
        guard info.steps.lowerBound >= 0 else { throw fail("negative step") }
        guard info.rawSize == info.count * info.type.elementSize else { throw fail("raw size \(info.rawSize) ≠ count × element size") }
        if info.type != .blob {
            let (product, overflow) = info.width.multipliedReportingOverflow(by: info.steps.count)
            guard !overflow, product == info.count else { throw fail("width × steps ≠ count") }
        }
        guard info.codec <= codecZstd else { throw fail("unknown codec \(info.codec)") }
        if info.codec == codecNone, info.storedSize != info.rawSize { throw fail("stored size ≠ raw size without codec") }
        guard info.storedSize >= 0, info.storedSize <= ZstdCompressor.bound(info.rawSize) + 64 else { throw fail("stored size \(info.storedSize) impossible") }
    }
}

/// Segment file header: magic "KYSG", version, segment number.
enum SegmentFormat {
    static let magic: UInt32 = 0x4753_594B // "KYSG"
    static let version: UInt16 = 1
    static let headerSize = 16

    static func header(index: Int) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.write(magic); w.write(version); w.write(UInt16(0)); w.write(UInt32(index)); w.write(UInt32(0))
        return w.bytes
    }

    static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".kseg"
    }
}

extension StoreError {
    /// A decoding error of KymoCore, placed in `file` at `base` + its offset.
    static func from(_ error: CoreError, file: String, base: Int) -> StoreError {
        switch error {
        case let .truncated(_, field, offset, needed, available):
            .corrupt(file: file, offset: base + offset, message: "field '\(field)' needs \(needed) bytes, only \(available) remain")
        case let .invalid(_, field, offset, message):
            .corrupt(file: file, offset: base + offset, message: "field '\(field)': \(message)")
        case let .corrupt(_, offset, message):
            .corrupt(file: file, offset: base + offset, message: message)
        case let .io(path, message):
            .io(file: path, offset: nil, operation: "read", message: message)
        }
    }
}
