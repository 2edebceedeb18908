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
        let offsets: [UInt64] = bytes.withUnsafeBytes { raw in
            (0...n).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
        }
        guard offsets[0] == 0 else { throw fail(0, "the first offset is \(offsets[0]), not 0") }
        let available = UInt64(bytes.count - table)
        var result: [Range<Int>] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            guard offsets[i + 1] >= offsets[i], offsets[i + 1] <= available else {
                throw fail(8 * (i + 1), "offset \(offsets[i + 1]) of step \(chunk.steps.lowerBound + i) runs backwards or past the \(available) bytes of blobs")
            }
            result.append((table + Int(offsets[i]))..<(table + Int(offsets[i + 1])))
        }
        guard offsets[n] == available else { throw fail(8 * n, "the blobs end at \(offsets[n]), the payload has \(available) bytes of blobs") }
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
