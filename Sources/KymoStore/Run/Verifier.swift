/// One problem found by `verify`: the file, the byte offset, what is wrong.
public struct Damage: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var offset: Int
    public var message: String
    public var description: String { "\(file) at offset \(offset): \(message)" }
}

/// What `Lab.verify(run:)` found.
public struct VerifyReport: Sendable {
    public var run: String
    public var damage: [Damage]
    public var chunksChecked: Int
    public var bytesChecked: Int
    public var isSound: Bool { damage.isEmpty }
}

/// Checks a run at rest: manifest checksum, commit log records, every chunk (header against its
/// commit record, checksum, decompression), segment layout (chunks tile each segment with no
/// gap and nothing after the last committed byte), and, for a finished run, that the log holds
/// as many commits as the manifest says.
enum Verifier {
    static func verify(directory: String, name: String) -> VerifyReport {
        var report = VerifyReport(run: name, damage: [], chunksChecked: 0, bytesChecked: 0)
        func note(_ error: StoreError, fallbackFile: String) {
            switch error {
            case let .corrupt(file, offset, message): report.damage.append(Damage(file: file, offset: offset, message: message))
            case let .io(file, offset, op, message): report.damage.append(Damage(file: file, offset: offset ?? 0, message: "\(op): \(message)"))
            default: report.damage.append(Damage(file: fallbackFile, offset: 0, message: error.description))
            }
        }
        let p = RunWriter.paths(directory)
        var manifest: RunManifest?
        do {
            manifest = try RunManifest.decode(try StoreFile.openForReading(p.manifest).readAll(), file: p.manifest)
        } catch { note(error, fallbackFile: p.manifest) }

        let records: [CommitRecord]
        let logEnd: Int
        do {
            let bytes = try StoreFile.openForReading(p.log).readAll()
            try CommitLog.checkHeader(bytes, file: p.log)
            let parsed = try CommitLog.parse(Array(bytes[CommitLog.headerSize...]), base: CommitLog.headerSize, file: p.log)
            records = parsed.records
            logEnd = parsed.end
            if case let .torn(offset, count) = parsed.tail {
                report.damage.append(Damage(file: p.log, offset: offset,
                    message: "\(count) bytes after the last commit record (a torn write or a damaged final record); opening the run for writing cuts them off"))
            }
        } catch {
            note(error, fallbackFile: p.log)
            return report
        }
        if let manifest, let count = manifest.finalCommitCount, let length = manifest.finalLogLength {
            if count != records.count || length != logEnd {
                report.damage.append(Damage(file: p.log, offset: logEnd,
                    message: "the finished run's manifest records \(count) commits ending at \(length); the log holds \(records.count) ending at \(logEnd)"))
            }
        }

        // Chunks in segment order must tile each segment from its header on.
        var bySegment: [Int: [ChunkInfo]] = [:]
        var lastCommitted = (segment: 0, end: SegmentFormat.headerSize)
        var previousEnd = 0
        for record in records {
            for chunk in record.chunks { bySegment[chunk.segment, default: []].append(chunk) }
            lastCommitted = (record.segment, record.segmentEnd)
            if record.committedEnd < previousEnd {
                report.damage.append(Damage(file: p.log, offset: 0, message: "commit \(record.number) moves the step prefix backwards"))
            }
            previousEnd = record.committedEnd
        }
        let reader: RunReader?
        do { reader = try RunReader(directory: directory, name: name) } catch {
            note(error, fallbackFile: p.log)
            reader = nil
        }
        let files = (try? StoreFS.list(p.segments)) ?? []
        for segmentNumber in 0...max(lastCommitted.segment, 0) {
            let path = p.segments + "/" + SegmentFormat.fileName(segmentNumber)
            guard let file = try? StoreFile.openForReading(path) else {
                report.damage.append(Damage(file: path, offset: 0, message: "segment file missing"))
                continue
            }
            do {
                let header = try file.readExactly(count: SegmentFormat.headerSize, at: 0, what: "segment header")
                let expected = SegmentFormat.header(index: segmentNumber)
                if let i = (0..<header.count).first(where: { header[$0] != expected[$0] }) {
                    report.damage.append(Damage(file: path, offset: i, message: "segment header is damaged"))
                }
            } catch { note(error, fallbackFile: path) }
            var cursor = SegmentFormat.headerSize
            for chunk in (bySegment[segmentNumber] ?? []).sorted(by: { $0.offset < $1.offset }) {
                if chunk.offset != cursor {
                    report.damage.append(Damage(file: path, offset: cursor,
                        message: "chunk of '\(chunk.column)' starts at \(chunk.offset); the previous ends at \(cursor)"))
                }
                cursor = chunk.offset + chunk.length
                if let reader {
                    do {
                        _ = try reader.readChunk(chunk)
                        report.chunksChecked += 1
                        report.bytesChecked += chunk.length
                    } catch { note(error, fallbackFile: path) }
                }
            }
            let size = (try? file.size()) ?? 0
            let committedEnd = segmentNumber == lastCommitted.segment ? lastCommitted.end : cursor
            if segmentNumber == lastCommitted.segment, cursor != committedEnd {
                report.damage.append(Damage(file: path, offset: cursor,
                    message: "the last commit says the segment ends at \(committedEnd); its chunks end at \(cursor)"))
            }
            if size > committedEnd {
                report.damage.append(Damage(file: path, offset: committedEnd,
                    message: "\(size - committedEnd) bytes after the last committed chunk (uncommitted or torn); opening the run for writing cuts them off"))
            } else if size < committedEnd, cursor <= size {
                report.damage.append(Damage(file: path, offset: size, message: "segment ends before its committed length \(committedEnd)"))
            }
        }
        for file in files where file.hasSuffix(".kseg") {
            if let n = Int(file.dropLast(5)), n > lastCommitted.segment {
                report.damage.append(Damage(file: p.segments + "/" + file, offset: 0, message: "segment file after the last committed segment"))
            }
        }
        return report
    }
}
