import KymoCore

/// Turns column data into chunk bytes: filter (chosen by trying), zstd, header, checksum.
/// Keeps its scratch buffers and zstd context across chunks.
final class ChunkEncoder {
    private let compressor: ZstdCompressor
    private var filtered = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    private(set) var output = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    /// Per column: the filter last chosen and the chunks encoded since it was chosen.
    private var choices: [String: (filter: ChunkFilter, age: Int)] = [:]
    /// Chunks between re-trials of the filters for a column.
    static let retrialPeriod = 32

    init(level: Int32) { compressor = ZstdCompressor(level: level) }

    deinit {
        filtered.deallocate()
        scratch.deallocate()
        output.deallocate()
    }

    private func reserve(filtered f: Int, output o: Int) {
        if filtered.count < f {
            filtered.deallocate()
            filtered = .allocate(byteCount: max(f, filtered.count * 2), alignment: 16)
            scratch.deallocate()
            scratch = .allocate(byteCount: filtered.count, alignment: 16)
        }
        if output.count < o {
            output.deallocate()
            output = .allocate(byteCount: max(o, output.count * 2), alignment: 16)
        }
    }

    /// Encodes a chunk into `output[0..<info.length]`; segment and offset are left 0. Without
    /// `compress` the payload is stored raw (codec 0), as a chunk zstd does not shrink is.
    /// - Complexity: O(n) per filter tried: one filter on most chunks, every candidate on a
    ///   column's first chunk and every `retrialPeriod`-th after.
    func encode(column: String, steps: Range<Int>, width: Int, data: ColumnData, tag: UInt64, compress allowCompression: Bool = true) throws(StoreError) -> ChunkInfo {
        let type = data.type
        let elementSize = type.elementSize
        let nameLength = column.utf8.count
        let headerSize = ChunkFormat.fixedHeaderSize + nameLength
        return try data.withRawBytes { (raw) throws(StoreError) -> ChunkInfo in
            let rawSize = raw.count
            reserve(filtered: rawSize, output: headerSize + ZstdCompressor.bound(rawSize) + 8)
            let payload = UnsafeMutableRawBufferPointer(rebasing: output[headerSize..<(output.count - 8)])
            let filteredView = UnsafeMutableRawBufferPointer(rebasing: filtered[0..<rawSize])

            func compress(_ filter: ChunkFilter) throws(StoreError) -> Int {
                filter.apply(raw, into: filteredView, elementSize: elementSize, width: width, scratch: scratch)
                return try compressor.compress(UnsafeRawBufferPointer(filteredView), into: payload)
            }

            var filter: ChunkFilter
            var stored: Int
            let previous = choices[column]
            if rawSize < 64 || !allowCompression {
                filter = .none
                stored = rawSize
            } else if let previous, previous.age < Self.retrialPeriod {
                filter = previous.filter
                stored = try compress(filter)
                choices[column] = (filter, previous.age + 1)
            } else {
                let candidates = ChunkFilter.candidates(for: type)
                var best = (filter: candidates[0], size: Int.max)
                var last = candidates[0]
                for candidate in candidates {
                    let size = try compress(candidate)
                    last = candidate
                    if size < best.size { best = (candidate, size) }
                }
                filter = best.filter
                stored = best.size
                if last != best.filter { stored = try compress(best.filter) }
                choices[column] = (filter, 1)
            }
            var codec = ChunkFormat.codecZstd
            if stored >= rawSize {
                codec = ChunkFormat.codecNone
                filter = .none
                stored = rawSize
                if rawSize > 0 { UnsafeMutableRawBufferPointer(rebasing: payload[0..<rawSize]).copyMemory(from: raw) }
            }
            let info = ChunkInfo(column: column, type: type, codec: codec, filter: filter, width: width, steps: steps,
                                 count: data.count, scale: data.scale, tag: tag, rawSize: rawSize, storedSize: stored,
                                 segment: 0, offset: 0, checksum: 0)
            let header = ChunkFormat.header(info)
            header.withUnsafeBytes { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
            let sum = XXH3.hash(UnsafeRawBufferPointer(rebasing: output[0..<(headerSize + stored)]))
            output.baseAddress!.advanced(by: headerSize + stored).storeBytes(of: sum.littleEndian, as: UInt64.self)
            var result = info
            result.checksum = sum
            return result
        }
    }
}
