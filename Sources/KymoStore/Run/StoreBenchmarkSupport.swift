/// Inputs for the store's benchmarks and ratio scripts (which live in a separate package and
/// so see only `public` API).
public enum StoreBenchmarkSupport {
    /// `steps × width` Float32 weight snapshots: each weight a fixed value plus a small drift
    /// per step (the shape of T2 trajectories and checkpoints).
    /// - Complexity: O(steps × width).
    public static func weightSnapshots(steps: Range<Int>, width: Int, seed: UInt64 = 2) -> [Float] {
        SyntheticColumns.rows(seed: seed, steps: steps, width: width)
    }

    /// Creates run `name` whose commit log indexes `chunksPerColumn` chunks of `chunkBytes` raw
    /// Float32 bytes for each of `columns` columns, committed `chunksPerCommit` at a time,
    /// pointing into sparse segment files that hold no data. Opening the run and locating
    /// chunks costs exactly what it costs for a store of that size; reading the chunks fails
    /// their checksums. For measuring the index, not the data.
    /// - Complexity: O(total chunks).
    public static func makeIndexOnlyRun(lab: Lab, name: String, columns: [String], chunksPerColumn: Int,
                                        chunkBytes: Int, stepsPerChunk: Int, chunksPerCommit: Int = 16) throws(StoreError) {
        try Lab.checkName(name)
        let directory = lab.directory(of: name)
        let p = RunWriter.paths(directory)
        try StoreFS.makeDirectory(p.segments)
        try StoreFS.writeAtomically(try RunManifest(tiers: ["t2"]).encoded(), to: p.manifest)
        var log = CommitLog.header()
        var offset = SegmentFormat.headerSize
        var pending: [ChunkInfo] = []
        var commits = 0
        for c in 0..<chunksPerColumn {
            for column in columns {
                let info = ChunkInfo(column: column, type: .float32, codec: ChunkFormat.codecZstd, filter: .xorShuffle,
                                     width: chunkBytes / 4 / stepsPerChunk, steps: (c * stepsPerChunk)..<((c + 1) * stepsPerChunk),
                                     count: chunkBytes / 4, scale: 1, tag: 0, rawSize: chunkBytes, storedSize: chunkBytes * 3 / 4,
                                     segment: 0, offset: offset, checksum: UInt64(truncatingIfNeeded: offset))
                offset += info.length
                pending.append(info)
            }
            if pending.count >= chunksPerCommit || c == chunksPerColumn - 1 {
                log += CommitLog.encode(CommitRecord(number: commits, committedEnd: (c + 1) * stepsPerChunk, segment: 0,
                                                     segmentEnd: offset, chunks: pending))
                commits += 1
                pending = []
            }
        }
        let segment = try StoreFile.openForWriting(p.segments + "/" + SegmentFormat.fileName(0), create: true)
        try segment.write(SegmentFormat.header(index: 0), at: 0)
        try segment.truncate(to: offset)
        let file = try StoreFile.openForWriting(p.log, create: true)
        try file.write(log, at: 0)
    }

    /// Total bytes the segment files of a run occupy (apparent size).
    /// - Complexity: O(segments).
    public static func segmentBytes(lab: Lab, run: String) throws(StoreError) -> Int {
        let dir = RunWriter.paths(lab.directory(of: run)).segments
        var total = 0
        for name in try StoreFS.list(dir) { total += try StoreFile.openForReading(dir + "/" + name).size() }
        return total
    }
}
