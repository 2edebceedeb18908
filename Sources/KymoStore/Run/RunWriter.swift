import KymoCore

/// The one writer of a run. Appends column chunks to segment files; `commit` makes them and a
/// prefix of steps durable and visible to readers at once.
///
/// Commit protocol: chunks go to the segment file as they are appended (not yet synced);
/// `commit` fsyncs the segment files, then appends a checksummed commit record to
/// `commits.klog` and fsyncs it. The log's valid prefix is the committed state; anything after
/// it (in the log or the segments) is a torn tail, ignored by readers and cut off when the run
/// is next opened for writing.
///
/// Not thread-safe: use a writer from one thread at a time. A run has one writer, enforced by
/// an `flock` on `lock` (a second writer gets `StoreError.locked` naming the holder's pid).
public final class RunWriter {
    /// The run's name and directory.
    public let name: String
    public let directory: String
    /// The manifest as last written.
    public private(set) var manifest: RunManifest
    /// Steps `0..<committedSteps.upperBound` are durable.
    public private(set) var committedSteps: Range<Int>
    /// Commits made so far (over the run's whole life, across reopenings).
    public private(set) var commitCount: Int

    /// Segment files roll over once they pass this many bytes.
    public var segmentLimit: Int = 1 << 30

    var faultHook: FaultHook? {
        didSet { log.faultHook = faultHook; segment.faultHook = faultHook }
    }

    private let lock: StoreFile
    private var log: StoreFile
    private var logLength: Int
    private var segment: StoreFile
    private var segmentIndex: Int
    private var segmentLength: Int
    private var unsyncedSegments: [StoreFile] = []
    private var newSegmentFile = false
    private var pending: [ChunkInfo] = []
    private var columnEnds: [String: Int] = [:]
    private let encoder: ChunkEncoder
    private var failure: String?
    private var closed = false

    /// The reserved column that holds checkpoints.
    /// The reserved column that holds checkpoints (one blob chunk per checkpoint, its tag the state hash).
    public static let checkpointColumn = "_checkpoint"

    static func paths(_ directory: String) -> (manifest: String, log: String, lock: String, segments: String) {
        (directory + "/manifest.json", directory + "/commits.klog", directory + "/lock", directory + "/segments")
    }

    /// Takes the run's lock or throws `.locked` with the holder's pid.
    static func acquireLock(directory: String, name: String) throws(StoreError) -> StoreFile {
        let path = paths(directory).lock
        let file = try StoreFile.openForWriting(path, create: true)
        guard try file.tryLock() else {
            let text = (try? file.readAll()).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw .locked(run: name, holderPID: Int32(text.trimmingSpaces()))
        }
        try file.truncate(to: 0)
        try file.write(Array("\(StoreFS.currentPID())\n".utf8), at: 0)
        return file
    }

    /// Creates a new run directory. Use `Lab.createRun`.
    init(creating directory: String, name: String, manifest: RunManifest, compressionLevel: Int32) throws(StoreError) {
        let p = Self.paths(directory)
        // The commit log is created last: a directory without it is a creation cut short, redone here.
        if StoreFS.exists(p.log) { throw .exists(run: name) }
        try StoreFS.makeDirectory(p.segments)
        self.name = name
        self.directory = directory
        lock = try Self.acquireLock(directory: directory, name: name)
        var initial = manifest
        initial.status = .running
        initial.formatVersion = RunManifest.currentFormatVersion
        initial.finalCommitCount = nil
        initial.finalLogLength = nil
        self.manifest = initial
        segment = try StoreFile.openForWriting(p.segments + "/" + SegmentFormat.fileName(0), create: true)
        try segment.truncate(to: 0)
        try segment.write(SegmentFormat.header(index: 0), at: 0)
        try segment.sync()
        try StoreFS.syncDirectory(p.segments)
        log = try StoreFile.openForWriting(p.log + ".new", create: true)
        try log.truncate(to: 0)
        try log.write(CommitLog.header(), at: 0)
        try log.sync()
        try StoreFS.writeAtomically(try initial.encoded(), to: p.manifest)
        // The log appears last, under its final name: a run without it was never created.
        try Self.rename(p.log + ".new", to: p.log)
        try StoreFS.syncDirectory(directory)
        log = try StoreFile.openForWriting(p.log, create: false)
        logLength = CommitLog.headerSize
        segmentIndex = 0
        segmentLength = SegmentFormat.headerSize
        committedSteps = 0..<0
        commitCount = 0
        encoder = ChunkEncoder(level: compressionLevel)
    }

    /// Reopens an existing run to continue writing; cuts off any torn tail left by a crash.
    /// Use `Lab.openRunForWriting`.
    init(reopening directory: String, name: String, compressionLevel: Int32) throws(StoreError) {
        let p = Self.paths(directory)
        guard StoreFS.exists(p.log) else { throw .notFound("run '\(name)'") }
        self.name = name
        self.directory = directory
        lock = try Self.acquireLock(directory: directory, name: name)
        manifest = try RunManifest.decode(try StoreFile.openForReading(p.manifest).readAll(), file: p.manifest)
        if manifest.status == .finished {
            throw .invalidArgument("run '\(name)' is finished; it cannot be written again")
        }
        log = try StoreFile.openForWriting(p.log, create: false)
        let bytes = try log.readAll()
        try CommitLog.checkHeader(bytes, file: p.log)
        let parsed = try CommitLog.parse(Array(bytes[CommitLog.headerSize...]), base: CommitLog.headerSize, file: p.log)
        if case .torn = parsed.tail {
            try log.truncate(to: parsed.end)
            try log.sync()
        }
        logLength = parsed.end
        commitCount = parsed.records.count
        let last = parsed.records.last
        committedSteps = 0..<(last?.committedEnd ?? 0)
        for record in parsed.records {
            for chunk in record.chunks { columnEnds[chunk.column] = max(columnEnds[chunk.column] ?? 0, chunk.steps.upperBound) }
        }
        segmentIndex = last?.segment ?? 0
        segmentLength = last?.segmentEnd ?? SegmentFormat.headerSize
        // Segments created after the last commit were never committed.
        for file in try StoreFS.list(p.segments) {
            if file.hasSuffix(".kseg"), let n = Int(file.dropLast(5)), n > segmentIndex {
                try Self.remove(p.segments + "/" + file)
            }
        }
        let segmentPath = p.segments + "/" + SegmentFormat.fileName(segmentIndex)
        segment = try StoreFile.openForWriting(segmentPath, create: segmentLength == SegmentFormat.headerSize)
        let actual = try segment.size()
        if actual < segmentLength {
            if segmentLength == SegmentFormat.headerSize && actual == 0 {
                try segment.write(SegmentFormat.header(index: segmentIndex), at: 0)
            } else {
                throw .corrupt(file: segmentPath, offset: actual, message: "segment ends before its committed length \(segmentLength)")
            }
        } else if actual > segmentLength {
            try segment.truncate(to: segmentLength)
        }
        try segment.sync()
        encoder = ChunkEncoder(level: compressionLevel)
    }

    deinit {
        if !closed { try? log.sync() }
    }

    /// Refuses all further work after an I/O error and releases the lock at once, so the run
    /// can be reopened (and repaired) while this object still exists.
    private func poison(_ error: StoreError) {
        failure = error.description
        lock.unlock()
    }

    private func checkUsable() throws(StoreError) {
        if let failure { throw .writerFailed(failure) }
        if closed { throw .invalidArgument("run '\(name)' writer is finished") }
    }

    /// Appends `data` for `steps` to `column` (row-major, `data.count / steps.count` values per
    /// step). Step ranges of a column must not go backwards or overlap. Visible to readers after
    /// the next `commit`. Column names starting with "_" are reserved.
    /// - Complexity: O(n) (filter, zstd level 1, checksum, one write).
    public func append(column: String, steps: Range<Int>, _ data: ColumnData) throws(StoreError) {
        guard !column.isEmpty, !column.hasPrefix("_"), column.utf8.count < 1 << 15 else {
            throw .invalidArgument("column name '\(column)' is empty, too long or reserved (starts with '_')")
        }
        try appendChunk(column: column, steps: steps, data, tag: 0)
    }

    /// Stores an opaque blob (a serialized sketch) for `steps` of `column`.
    /// - Complexity: O(n).
    public func putBlob(column: String, steps: Range<Int>, bytes: [UInt8]) throws(StoreError) {
        try append(column: column, steps: steps, .blob(bytes))
    }

    /// Stores one blob per step for steps `firstStep ..< firstStep + blobs.count` in one chunk
    /// (`StepBlobs`: a packed chunk, tagged). Read back with `RunReader.readStepBlobs`. Without
    /// `compress` the chunk is stored raw: for blobs zstd barely shrinks, whose decoding (Huffman
    /// literals, ~1 GB/s) would cost readers more than the bytes saved.
    /// - Complexity: O(total bytes).
    public func putStepBlobs(column: String, firstStep: Int, blobs: [[UInt8]], compress: Bool = true) throws(StoreError) {
        guard !column.isEmpty, !column.hasPrefix("_"), column.utf8.count < 1 << 15 else {
            throw .invalidArgument("column name '\(column)' is empty, too long or reserved (starts with '_')")
        }
        guard !blobs.isEmpty else { throw .invalidArgument("\(column): no blobs to pack") }
        try appendChunk(column: column, steps: firstStep..<(firstStep + blobs.count), .blob(StepBlobs.pack(blobs)), tag: StepBlobs.tag, compress: compress)
    }

    /// Stores a checkpoint taken after `step` with the hash of its state (kept as given).
    /// - Complexity: O(n).
    public func writeCheckpoint(step: Int, bytes: [UInt8], hash: UInt64) throws(StoreError) {
        try appendChunk(column: Self.checkpointColumn, steps: step..<(step + 1), .blob(bytes), tag: hash)
    }

    private func appendChunk(column: String, steps: Range<Int>, _ data: ColumnData, tag: UInt64, compress: Bool = true) throws(StoreError) {
        try checkUsable()
        guard steps.lowerBound >= 0, !steps.isEmpty else { throw .invalidArgument("\(column): empty or negative step range \(steps)") }
        let width: Int
        if data.type == .blob {
            width = data.count
        } else {
            guard data.count % steps.count == 0 else {
                throw .invalidArgument("\(column): \(data.count) values do not divide into \(steps.count) steps")
            }
            width = data.count / steps.count
        }
        if let end = columnEnds[column], steps.lowerBound < end {
            throw .invalidArgument("\(column): steps \(steps) overlap or precede steps already written (up to \(end))")
        }
        var info = try encoder.encode(column: column, steps: steps, width: width, data: data, tag: tag, compress: compress)
        do {
            if segmentLength >= segmentLimit { try rollSegment() }
            info.segment = segmentIndex
            info.offset = segmentLength
            try segment.write(UnsafeRawBufferPointer(rebasing: encoder.output[0..<info.length]), at: segmentLength)
        } catch {
            poison(error)
            throw error
        }
        segmentLength += info.length
        pending.append(info)
        columnEnds[column] = steps.upperBound
    }

    private func rollSegment() throws(StoreError) {
        unsyncedSegments.append(segment)
        segmentIndex += 1
        let path = Self.paths(directory).segments + "/" + SegmentFormat.fileName(segmentIndex)
        segment = try StoreFile.openForWriting(path, create: true)
        segment.faultHook = faultHook
        try segment.truncate(to: 0)
        try segment.write(SegmentFormat.header(index: segmentIndex), at: 0)
        segmentLength = SegmentFormat.headerSize
        newSegmentFile = true
    }

    /// Makes every chunk appended so far and steps `0...step` durable and visible, at once.
    /// On an I/O error (a full disk) it throws, the previous commit stays intact and readable,
    /// and this writer refuses further work: reopen the run (which repairs it) to go on.
    /// - Complexity: O(pending chunks) plus the fsyncs.
    public func commit(through step: Int) throws(StoreError) {
        try commit(end: step + 1)
    }

    /// Commits the pending chunks without advancing the step prefix.
    /// - Complexity: O(pending chunks) plus the fsyncs.
    public func commit() throws(StoreError) {
        try commit(end: committedSteps.upperBound)
    }

    private func commit(end: Int) throws(StoreError) {
        try checkUsable()
        guard end >= committedSteps.upperBound else {
            throw .invalidArgument("commit through step \(end - 1) goes back before the committed prefix \(committedSteps)")
        }
        if pending.isEmpty && end == committedSteps.upperBound && commitCount > 0 { return }
        let record = CommitRecord(number: commitCount, committedEnd: end, segment: segmentIndex,
                                  segmentEnd: segmentLength, chunks: pending)
        let bytes = CommitLog.encode(record)
        do {
            for file in unsyncedSegments { try file.sync() }
            try segment.sync()
            if newSegmentFile { try StoreFS.syncDirectory(Self.paths(directory).segments, hook: faultHook) }
            try log.write(bytes, at: logLength)
            try log.sync()
        } catch {
            poison(error)
            // Best effort: drop a partial record now (a reopen would drop it anyway).
            try? log.truncate(to: logLength)
            throw error
        }
        unsyncedSegments = []
        newSegmentFile = false
        logLength += bytes.count
        commitCount += 1
        pending = []
        committedSteps = 0..<end
    }

    /// Replaces the manifest atomically (its status and format version are kept).
    /// - Complexity: O(manifest size) plus an fsync.
    public func updateManifest(_ newManifest: RunManifest) throws(StoreError) {
        try checkUsable()
        var m = newManifest
        m.status = manifest.status
        m.formatVersion = manifest.formatVersion
        try writeManifest(m)
    }

    /// Records that training diverged at `step`.
    /// - Complexity: O(manifest size) plus an fsync.
    public func markDiverged(step: Int, message: String) throws(StoreError) {
        try checkUsable()
        var m = manifest
        m.status = .diverged(step: step, message: message)
        try writeManifest(m)
    }

    private func writeManifest(_ m: RunManifest) throws(StoreError) {
        do {
            try StoreFS.writeAtomically(try m.encoded(), to: Self.paths(directory).manifest, hook: faultHook)
        } catch {
            throw error
        }
        manifest = m
    }

    /// Commits what is pending, marks the run finished (unless it diverged) and releases the
    /// lock. The writer cannot be used afterwards.
    /// - Complexity: O(pending chunks) plus the fsyncs.
    public func finish() throws(StoreError) {
        try commit()
        var m = manifest
        if m.status == .running { m.status = .finished }
        m.finalCommitCount = commitCount
        m.finalLogLength = logLength
        try writeManifest(m)
        closed = true
        try? lock.truncate(to: 0)
        lock.unlock()
    }

    static func rename(_ from: String, to: String) throws(StoreError) {
        if !StoreFS.rename(from, to) {
            throw .io(file: to, offset: nil, operation: "rename", message: StoreFile.errorText(StoreFS.lastError()))
        }
    }

    static func remove(_ path: String) throws(StoreError) {
        if !StoreFS.remove(path) {
            throw .io(file: path, offset: nil, operation: "unlink", message: StoreFile.errorText(StoreFS.lastError()))
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
