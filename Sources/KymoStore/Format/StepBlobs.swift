import KymoCore

/// Many steps' blobs in one chunk (`RunWriter.putStepBlobs`): a per-step blob column (a sketch
/// per step) written one chunk per step costs a header, a zstd frame and an index entry per step;
/// packed, a reader of a step range decodes one chunk per pack.
///
/// A packed chunk is a blob chunk whose tag is `tag` (plain blob chunks have tag 0). Its payload,
/// for steps `a ..< a + n`: n + 1 UInt64 offsets (little-endian), relative to the end of the
/// offset table and ascending from 0, then the n blobs back to back; step `a + i`'s blob is bytes
/// `offsets[i] ..< offsets[i + 1]` after the table.
public enum StepBlobs {
    /// The chunk tag that marks a packed chunk: "KYSTBLOB" as a little-endian UInt64.
    public static let tag: UInt64 = 0x424F_4C42_5453_594B

    /// The payload of a pack.
    /// - Complexity: O(total bytes).
    static func pack(_ blobs: [[UInt8]]) -> [UInt8] {
        let total = blobs.reduce(0) { $0 + $1.count }
        var w = ByteWriter(capacity: 8 * (blobs.count + 1) + total)
        var offset: UInt64 = 0
        w.write(offset)
        for b in blobs {
            offset += UInt64(b.count)
            w.write(offset)
        }
        for b in blobs { w.write(raw: b) }
        return w.bytes
    }

    /// Per step of `chunk`, the byte range of its blob in `bytes` (the chunk's decoded payload):
    /// a packed chunk's table checked against the payload, or the whole blob for every step of a
    /// plain blob chunk.
    /// - Throws: `StoreError.corrupt` naming the column and the table offset that is wrong.
    /// - Complexity: O(steps).
    public static func ranges(of chunk: ChunkInfo, bytes: [UInt8]) throws(StoreError) -> [Range<Int>] {
        guard chunk.type == .blob, chunk.tag == tag else {
            return Array(repeating: 0..<bytes.count, count: chunk.steps.count)
        }
        let n = chunk.steps.count
        let table = 8 * (n + 1)
        func fail(_ at: Int, _ m: String) -> StoreError {
            .corrupt(file: "column '\(chunk.column)' steps \(chunk.steps)", offset: at, message: "step-blob pack: \(m)")
        }
        guard bytes.count >= table else { throw fail(0, "\(bytes.count) bytes cannot hold the \(n + 1)-entry offset table") }
        var result: [Range<Int>] = []
        result.reserveCapacity(n)
        bytes.withUnsafeBytes { raw in
            var previous = table
            for i in 0..<n {
                let end = table + Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * (i + 1), as: UInt64.self)))
                result.append(previous..<max(previous, end))
                previous = end
            }
        }
        let first = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        guard first == 0 else { throw fail(0, "the first offset is \(first), not 0") }
        var previous = table
        for (i, r) in result.enumerated() {
            guard r.lowerBound == previous, r.upperBound <= bytes.count else {
                throw fail(8 * (i + 1), "offset of step \(chunk.steps.lowerBound + i) runs backwards or past the \(bytes.count)-byte payload")
            }
            previous = r.upperBound
        }
        guard previous == bytes.count else { throw fail(8 * n, "the blobs end at \(previous), the payload at \(bytes.count)") }
        return result
    }
}

/// The decoded blobs of one chunk of a per-step blob column, packed or not.
public struct StepBlobChunk: Sendable {
    public let steps: Range<Int>
    public let bytes: [UInt8]
    /// Per step, its blob's byte range in `bytes`.
    public let ranges: [Range<Int>]

    /// The blob of `step`, nil outside the chunk.
    /// - Complexity: O(1) (a slice, no copy).
    public func blob(step: Int) -> ArraySlice<UInt8>? {
        guard steps.contains(step) else { return nil }
        return bytes[ranges[step - steps.lowerBound]]
    }
}
