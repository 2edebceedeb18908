import KymoCore

/// A checkpoint as stored: the step it was taken after, its bytes and the hash given with them.
public struct StoredCheckpoint: Equatable, Sendable {
    public var step: Int
    public var bytes: [UInt8]
    public var hash: UInt64
}

/// A read-only snapshot of a run at its last commit; `refresh()` moves it to a newer commit.
/// Many readers (in any processes) may read a run while its writer appends.
///
/// Every chunk read is checked against its checksum and its commit record; damage throws
/// `StoreError.corrupt` naming the file and offset. Not thread-safe: one reader per thread.
public final class RunReader {
    public let name: String
    public let directory: String
    /// The manifest as of the last `refresh()` (or opening).
    public private(set) var manifest: RunManifest
    /// Steps `0..<committedSteps.upperBound` are committed in this snapshot.
    public private(set) var committedSteps: Range<Int> = 0..<0
    /// Commits in this snapshot.
    public private(set) var commitCount = 0
    /// Bytes after the last commit record at the last refresh (a writer mid-commit, or a torn
    /// tail after a crash): the log offset where they start.
    private(set) var logTail: LogTail = .clean
    /// Where each segment's committed bytes end in this snapshot.
    private(set) var segmentEnd: (segment: Int, end: Int) = (0, SegmentFormat.headerSize)

    private var logOffset = CommitLog.headerSize
    private var manifestBytes: [UInt8]
    private let logFile: StoreFile
    private var index: [String: [ChunkInfo]] = [:]
    private var segments: [Int: StoreFile] = [:]
    private let decompressor = ZstdDecompressor()
    /// Scratch reused across chunk reads: the chunk's bytes, and the decompressed bytes before
    /// the filter is undone.
    private var chunkBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    private var scratchBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)

    deinit {
        chunkBuffer.deallocate()
        scratchBuffer.deallocate()
    }

    private static func grow(_ buffer: inout UnsafeMutableRawBufferPointer, to count: Int) {
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(byteCount: max(count, buffer.count * 2), alignment: 16)
        }
    }

    /// Opens the snapshot at the run's last commit. Use `Lab.openRun`.
    /// - Complexity: O(size of the commit log), about 100 bytes per chunk; no data is read.
    init(directory: String, name: String) throws(StoreError) {
        self.name = name
        self.directory = directory
        let p = RunWriter.paths(directory)
        guard StoreFS.exists(p.log) else { throw .notFound("run '\(name)' (no \(p.log))") }
        logFile = try StoreFile.openForReading(p.log)
        manifestBytes = try StoreFile.openForReading(p.manifest).readAll()
        manifest = try RunManifest.decode(manifestBytes, file: p.manifest)
        let header = try logFile.readExactly(count: CommitLog.headerSize, at: 0, what: "commit log header")
        try CommitLog.checkHeader(header, file: p.log)
        _ = try refresh()
    }

    /// Moves the snapshot to the newest commit and the newest manifest (a status change such as
    /// `diverged` shows without a commit). Returns true when either changed.
    /// - Complexity: O(bytes appended to the commit log since the last refresh + manifest size).
    @discardableResult
    public func refresh() throws(StoreError) -> Bool {
        let p = RunWriter.paths(directory)
        var changed = false
        // A manifest being replaced or damaged keeps the last good one; verify reports damage.
        if let bytes = try? StoreFile.openForReading(p.manifest).readAll(), bytes != manifestBytes,
           let m = try? RunManifest.decode(bytes, file: p.manifest) {
            manifestBytes = bytes
            manifest = m
            changed = true
        }
        let bytes = try logFile.readAll(from: logOffset)
        let parsed = try CommitLog.parse(bytes, base: logOffset, file: p.log)
        logTail = parsed.tail
        guard !parsed.records.isEmpty else { return changed }
        for record in parsed.records {
            for chunk in record.chunks { index[chunk.column, default: []].append(chunk) }
            committedSteps = 0..<record.committedEnd
            segmentEnd = (record.segment, record.segmentEnd)
        }
        commitCount += parsed.records.count
        logOffset = parsed.end
        return true
    }

    /// Column names in this snapshot, sorted (checkpoints excluded).
    /// - Complexity: O(c log c) in the number of columns.
    public func columns() -> [String] {
        index.keys.filter { $0 != RunWriter.checkpointColumn }.sorted()
    }

    /// The chunks of `column`, in step order.
    /// - Complexity: O(1).
    public func chunks(column: String) -> [ChunkInfo] { index[column] ?? [] }

    /// Every chunk of the snapshot, column by column (sorted by name), each in step order.
    /// - Complexity: O(n).
    public func allChunks() -> [ChunkInfo] {
        index.keys.sorted().flatMap { index[$0]! }
    }

    /// The chunks of `column` that overlap `steps` (binary search).
    /// - Complexity: O(log n + k).
    public func locate(column: String, steps: Range<Int>) -> ArraySlice<ChunkInfo> {
        guard let list = index[column] else { return [] }
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].steps.upperBound <= steps.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < list.count, list[end].steps.lowerBound < steps.upperBound { end += 1 }
        return list[lo..<end]
    }

    /// The values of `column` at the recorded steps within `steps`, one slice per chunk, cut to
    /// the range (blob chunks are returned whole when they overlap it).
    /// - Complexity: O(bytes of the overlapping chunks).
    public func readSlices(column: String, steps: Range<Int>) throws(StoreError) -> [ColumnSlice] {
        guard index[column] != nil else { throw .notFound("column '\(column)' in run '\(name)'") }
        var result: [ColumnSlice] = []
        for chunk in locate(column: column, steps: steps) {
            let data = try readChunk(chunk)
            if chunk.type == .blob || (steps.lowerBound <= chunk.steps.lowerBound && chunk.steps.upperBound <= steps.upperBound) {
                result.append(ColumnSlice(steps: chunk.steps, width: chunk.width, data: data))
            } else {
                let lower = max(steps.lowerBound, chunk.steps.lowerBound), upper = min(steps.upperBound, chunk.steps.upperBound)
                let first = (lower - chunk.steps.lowerBound) * chunk.width
                let last = (upper - chunk.steps.lowerBound) * chunk.width
                result.append(ColumnSlice(steps: lower..<upper, width: chunk.width, data: data.slice(first..<last)))
            }
        }
        return result
    }

    /// The values of `column` at the recorded steps within `steps`, concatenated row-major.
    /// Quantized chunks must share one scale (else use `readSlices`); blobs are concatenated.
    /// - Complexity: O(bytes of the overlapping chunks).
    public func read(column: String, steps: Range<Int>) throws(StoreError) -> ColumnData {
        let slices = try readSlices(column: column, steps: steps)
        guard let first = slices.first else {
            guard let type = index[column]?.first?.type else { throw .notFound("column '\(column)'") }
            return ColumnData.fromRawBytes(UnsafeRawBufferPointer(start: nil, count: 0), type: type, scale: 1)
        }
        if slices.count == 1 { return first.data }
        let scale = first.data.scale
        guard slices.allSatisfy({ $0.data.scale == scale }) else {
            throw .invalidArgument("column '\(column)': chunks in \(steps) have different scales; use readSlices")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(slices.reduce(0) { $0 + $1.data.count * $1.data.type.elementSize })
        for slice in slices {
            try slice.data.withRawBytes { (raw) throws(StoreError) in bytes.append(contentsOf: raw) }
        }
        return bytes.withUnsafeBytes { ColumnData.fromRawBytes($0, type: first.data.type, scale: scale) }
    }

    /// The blobs of one chunk of a per-step blob column, one per step: split from a packed chunk
    /// (`RunWriter.putStepBlobs`), or a plain blob chunk's bytes for each of its steps.
    /// - Throws: `StoreError.corrupt` for a damaged chunk or pack table.
    /// - Complexity: O(chunk size).
    public func readStepBlobs(_ chunk: ChunkInfo) throws(StoreError) -> StepBlobChunk {
        guard case let .blob(bytes) = try readChunk(chunk) else {
            throw .invalidArgument("column '\(chunk.column)' holds \(chunk.type) values, not blobs")
        }
        return StepBlobChunk(steps: chunk.steps, bytes: bytes, ranges: try StepBlobs.ranges(of: chunk, bytes: bytes))
    }

    /// Steps of the stored checkpoints, ascending.
    /// - Complexity: O(n).
    public func checkpointSteps() -> [Int] {
        (index[RunWriter.checkpointColumn] ?? []).map(\.steps.lowerBound)
    }

    /// The latest checkpoint taken at or before `step`, or nil.
    /// - Complexity: O(log n + checkpoint size).
    public func checkpoint(atOrBefore step: Int) throws(StoreError) -> StoredCheckpoint? {
        guard let list = index[RunWriter.checkpointColumn] else { return nil }
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].steps.lowerBound <= step { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let chunk = list[lo - 1]
        guard case let .blob(bytes) = try readChunk(chunk) else { return nil }
        return StoredCheckpoint(step: chunk.steps.lowerBound, bytes: bytes, hash: chunk.tag)
    }

    func segmentFile(_ n: Int) throws(StoreError) -> StoreFile {
        if let file = segments[n] { return file }
        let file = try StoreFile.openForReading(RunWriter.paths(directory).segments + "/" + SegmentFormat.fileName(n))
        segments[n] = file
        return file
    }

    /// Reads, checks and decodes one chunk.
    /// - Complexity: O(chunk size).
    public func readChunk(_ chunk: ChunkInfo) throws(StoreError) -> ColumnData {
        let file = try segmentFile(chunk.segment)
        let headerSize = ChunkFormat.fixedHeaderSize + chunk.column.utf8.count
        let length = chunk.length
        let fileSize = try file.size()
        guard chunk.offset + length <= fileSize else {
            throw .corrupt(file: file.path, offset: min(chunk.offset, fileSize),
                           message: "chunk of '\(chunk.column)' steps \(chunk.steps) needs \(length) bytes at \(chunk.offset), the file ends at \(fileSize)")
        }
        Self.grow(&chunkBuffer, to: length)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: chunkBuffer[0..<length])
        let got = try file.read(at: chunk.offset, into: buffer)
        guard got == length else {
            throw .corrupt(file: file.path, offset: chunk.offset + got,
                           message: "chunk of '\(chunk.column)' steps \(chunk.steps) needs \(length) bytes, the file ends after \(got)")
        }
        let header = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[0..<headerSize]))
        try ChunkFormat.checkHeader(header, against: chunk, file: file.path)
        let stored = buffer.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
        let actual = XXH3.hash(UnsafeRawBufferPointer(rebasing: buffer[0..<(length - 8)]))
        guard UInt64(littleEndian: stored) == actual, actual == chunk.checksum else {
            throw .corrupt(file: file.path, offset: chunk.offset,
                           message: "chunk of '\(chunk.column)' steps \(chunk.steps): checksum \(CommitLog.hex(UInt64(littleEndian: stored))) ≠ computed \(CommitLog.hex(actual)) (commit record says \(CommitLog.hex(chunk.checksum)))")
        }
        let payload = UnsafeRawBufferPointer(rebasing: buffer[headerSize..<(headerSize + chunk.storedSize)])
        let decompressor = self.decompressor
        if chunk.codec == ChunkFormat.codecZstd, ZstdDecompressor.declaredSize(payload) != chunk.rawSize {
            throw .corrupt(file: file.path, offset: chunk.offset + headerSize,
                           message: "chunk of '\(chunk.column)': the zstd frame does not declare \(chunk.rawSize) bytes")
        }
        Self.grow(&scratchBuffer, to: chunk.rawSize)
        let scratch = UnsafeMutableRawBufferPointer(rebasing: scratchBuffer[0..<chunk.rawSize])
        return try ColumnData.build(type: chunk.type, scale: chunk.scale, byteCount: chunk.rawSize) { (raw) throws(StoreError) in
            if chunk.codec == ChunkFormat.codecNone {
                if chunk.rawSize > 0 { raw.copyMemory(from: payload) }
                return
            }
            do {
                if chunk.filter == .none {
                    try decompressor.decompress(payload, into: raw)
                    return
                }
                try decompressor.decompress(payload, into: scratch)
                chunk.filter.invert(UnsafeRawBufferPointer(scratch), into: raw, elementSize: chunk.type.elementSize, width: chunk.width)
            } catch {
                throw .corrupt(file: file.path, offset: chunk.offset + headerSize, message: "chunk of '\(chunk.column)': \(error)")
            }
        }
    }
}
