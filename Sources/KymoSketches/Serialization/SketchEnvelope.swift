import KymoCore

/// The kind field of the serialization envelope.
public enum SketchKind: UInt16, Sendable, CaseIterable {
    case countMin = 1
    case countSketch = 2
    case spaceSaving = 3
    case uniformReservoir = 4
    case prioritySample = 5
    case magnitudeQuantiles = 6
    case quantizedTrajectory = 7

    /// The format version this build writes (envelope offset 4). Count-min is at 3: version 1
    /// hashed every row under its own seed; version 2 hashed a key once and recorded the row
    /// hashing scheme; version 3 adds the key block size. MagnitudeQuantiles is at 2 (runs of
    /// non-empty buckets; version 1, one dense bucket range of UInt64, is still read). Every
    /// other kind is at 1.
    var formatVersion: UInt16 {
        switch self {
        case .countMin: 3
        case .magnitudeQuantiles: 2
        default: 1
        }
    }

    /// The versions this build reads: the one it writes, and older ones whose decoder it keeps.
    var readableVersions: ClosedRange<UInt16> {
        switch self {
        case .magnitudeQuantiles: 1...2
        default: formatVersion...formatVersion
        }
    }

    var name: String {
        switch self {
        case .countMin: "CountMinSketch"
        case .countSketch: "CountSketch"
        case .spaceSaving: "SpaceSavingSketch"
        case .uniformReservoir: "UniformReservoir"
        case .prioritySample: "PrioritySample"
        case .magnitudeQuantiles: "MagnitudeQuantiles"
        case .quantizedTrajectory: "QuantizedTrajectory"
        }
    }
}

/// The one envelope around every serialized sketch (docs/format/sketches.md):
///
/// | offset | size | field | meaning |
/// | --- | --- | --- | --- |
/// | 0 | 4 | magic | ASCII "KYSK" |
/// | 4 | 2 | version | the kind's format version (`SketchKind.formatVersion`) |
/// | 6 | 2 | kind | `SketchKind` raw value |
/// | 8 | 8 | bodyLength | L, bytes of parameters + payload |
/// | 16 | L | body | the sketch's parameters, then its payload |
/// | 16+L | 8 | checksum | XXH3-64 (seed 0) of bytes 0..<16+L |
///
/// All integers and floats little-endian; floats by bit pattern.
enum SketchEnvelope {
    static let magic: [UInt8] = Array("KYSK".utf8)
    static let headerSize = 16

    /// Starts a buffer with the header; the body follows; `finish` patches the length and appends
    /// the checksum.
    static func begin(_ kind: SketchKind, capacity: Int = 64) -> ByteWriter {
        var writer = ByteWriter(capacity: capacity + 24)
        writer.write(raw: magic)
        writer.write(kind.formatVersion)
        writer.write(kind.rawValue)
        writer.write(UInt64(0))
        return writer
    }

    static func finish(_ writer: inout ByteWriter) -> [UInt8] {
        writer.patch(UInt64(writer.count - headerSize), at: 8)
        let checksum = writer.bytes.withUnsafeBytes { XXH3.hash($0, seed: 0) }
        writer.write(checksum)
        return writer.bytes
    }

    /// Checks magic, version, kind, length and checksum; returns a reader positioned at the start
    /// of the body whose input ends at the checksum (offsets stay those of the whole buffer).
    static func open(_ bytes: [UInt8], expecting kind: SketchKind) throws(SketchError) -> ByteReader {
        try openVersioned(bytes, expecting: kind).reader
    }

    /// `open`, also returning the format version found (one of `kind.readableVersions`).
    static func openVersioned(_ bytes: [UInt8], expecting kind: SketchKind) throws(SketchError) -> (reader: ByteReader, version: UInt16) {
        let source = kind.name
        let (end, stored, version) = try decode { () throws(CoreError) -> (Int, UInt64, UInt16) in
            var reader = ByteReader(bytes, source: source)
            let magicBytes = try reader.readRaw(count: 4, "magic")
            try reader.check(Array(magicBytes) == magic, field: "magic", at: 0,
                             "expected \"KYSK\", found \(Array(magicBytes)) (not a Kymograph sketch)")
            let foundVersion = try reader.read(UInt16.self, "version")
            let foundKind = try reader.read(UInt16.self, "kind")
            try reader.check(foundKind == kind.rawValue, field: "kind", at: 6,
                             "found sketch kind \(SketchKind(rawValue: foundKind)?.name ?? "unknown \(foundKind)"), expected \(source)")
            try reader.check(kind.readableVersions.contains(foundVersion), field: "version", at: 4,
                             "format version \(foundVersion) is not supported (expected \(kind.formatVersion))")
            let length = try reader.read(UInt64.self, "bodyLength")
            guard length <= UInt64(reader.remaining) else {
                throw .truncated(source: source, field: "body", offset: headerSize,
                                 needed: length > UInt64(Int.max) ? Int.max : Int(length),
                                 available: reader.remaining)
            }
            let end = headerSize + Int(length)
            var tail = ByteReader(bytes, source: source, offset: end)
            let stored = try tail.read(UInt64.self, "checksum")
            try tail.expectEnd()
            return (end, stored, foundVersion)
        }
        let computed = bytes.withUnsafeBytes { XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[0..<end]), seed: 0) }
        guard stored == computed else {
            throw .checksumMismatch(sketch: source, offset: end, stored: stored, computed: computed)
        }
        return (ByteReader(Array(bytes[0..<end]), source: source, offset: headerSize), version)
    }

    /// Runs `body` and turns KymoCore's decoding errors into `SketchError.format`.
    static func decode<T>(_ body: () throws(CoreError) -> T) throws(SketchError) -> T {
        do { return try body() } catch { throw SketchError(error) }
    }
}
