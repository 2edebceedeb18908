import Foundation
import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore

/// Finds the `kymo` executable next to the test bundle in the build directory.
func kymoExecutable() throws -> String {
    var candidates: [URL] = [Bundle.main.bundleURL]
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath())
    for start in candidates {
        var dir = start.deletingLastPathComponent()
        for _ in 0..<4 {
            let path = dir.appendingPathComponent("kymo").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
            dir = dir.deletingLastPathComponent()
        }
    }
    throw StoreError.notFound("the kymo executable beside the test bundle; build it (swift build --build-tests)")
}

@Suite struct CrashTests {
    /// Kills a writing child process (kill -9) at random moments, 50 times, five runs each
    /// continued ten times. After each kill: a reader sees at least every step the child
    /// reported committed; reopening for writing repairs the tail; verify passes; the data of
    /// every committed step is exactly what was written.
    @Test func killedWriterLosesNothingCommitted() throws {
        let kymo = try kymoExecutable()
        let dir = try TemporaryDirectory()
        var rng = CounterRNG(key: 2026)
        var killedMidRun = 0
        let width = 512
        for trial in 0..<50 {
            let run = "r\(trial % 5)"
            let child = Process()
            child.executableURL = URL(fileURLWithPath: kymo)
            child.arguments = ["_store-crash-writer", dir.path, run, "--steps-per-block", "4", "--width", String(width)]
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Wait for a random number of commits (0–5), then a random 0–3 ms more, then kill.
            let wanted = Int(rng.next(below: 6))
            var output = Data()
            let reader = pipe.fileHandleForReading
            while output.filter({ $0 == UInt8(ascii: "\n") }).count < wanted {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                output.append(chunk)
            }
            usleep(UInt32(rng.next(below: 3000)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            output.append(reader.readDataToEndOfFile())
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
            let reported = lines.compactMap { $0.hasPrefix("committed ") ? Int($0.dropFirst(10)) : nil }.last
            let lab = try Lab(path: dir.path)
            guard try lab.runNames().contains(run) else {
                #expect(reported == nil, "a commit was reported but the run does not exist")
                continue
            }
            if reported != nil { killedMidRun += 1 }
            // A reader sees the last commit without any repair.
            let snapshot = try lab.openRun(run)
            #expect(snapshot.committedSteps.upperBound > (reported ?? -1), "trial \(trial): lost a reported commit")
            // Reopening for writing repairs a torn tail; the store then verifies.
            do { _ = try lab.openRunForWriting(run) }
            let report = lab.verify(run: run)
            #expect(report.isSound, "trial \(trial): \(report.damage)")
            let reopened = try lab.openRun(run)
            #expect(reopened.committedSteps == snapshot.committedSteps)
            let end = reopened.committedSteps.upperBound
            if end > 0 {
                let w = try reopened.read(column: "t2/w", steps: 0..<end)
                #expect(w == .float32(SyntheticColumns.rows(seed: 2, steps: 0..<end, width: width)), "trial \(trial)")
                let ids = try reopened.read(column: "t0/ids", steps: 0..<end)
                #expect(ids == .uint32((0..<end).map { UInt32($0 * 7 % 1000) }))
                if let c = try reopened.checkpoint(atOrBefore: end) { #expect(XXH3.hash(c.bytes) == c.hash) }
            }
        }
        #expect(killedMidRun >= 25, "too few kills landed after a commit: \(killedMidRun)")
    }

    /// A full disk (ENOSPC) or an I/O error during a commit: the commit throws, the previous
    /// commit stays intact and readable, and a reopen repairs the run.
    @Test(arguments: ["segment-fsync", "log-write", "log-fsync", "directory-fsync"])
    func failedCommitKeepsThePreviousCommit(fault: String) throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        writer.segmentLimit = fault == "directory-fsync" ? 1 : 1 << 30
        try writer.append(column: "a", steps: 0..<2, .float32([1, 2]))
        try writer.commit(through: 1)
        try writer.append(column: "a", steps: 2..<4, .float32([3, 4]))
        writer.faultHook = { operation, path in
            switch fault {
            case "segment-fsync": operation == "fsync" && path.hasSuffix(".kseg") ? ENOSPC : nil
            case "log-write": operation == "write" && path.hasSuffix("commits.klog") ? ENOSPC : nil
            case "log-fsync": operation == "fsync" && path.hasSuffix("commits.klog") ? EIO : nil
            default: operation == "fsync" && path.hasSuffix("segments") ? EIO : nil
            }
        }
        let result = capture { () throws(StoreError) in try writer.commit(through: 3) }
        guard case let .failure(error) = result, case let .io(file, _, _, message) = error else {
            Issue.record("commit did not fail with an I/O error: \(result)")
            return
        }
        #expect(!file.isEmpty && !message.isEmpty)
        #expect(error.description.contains(fault == "log-write" ? "No space left" : "error"))
        // Further use is refused until the run is reopened.
        #expect(throws: StoreError.self) { try writer.append(column: "a", steps: 4..<5, .float32([5])) }
        let reader = try lab.openRun("r")
        #expect(reader.committedSteps == 0..<2)
        #expect(try reader.read(column: "a", steps: 0..<10) == .float32([1, 2]))
        // The failed writer has released its lock: the run reopens while it still exists.
        let again = try lab.openRunForWriting("r")
        #expect(again.committedSteps == 0..<2)
        try again.append(column: "a", steps: 2..<3, .float32([9]))
        try again.finish()
        #expect(lab.verify(run: "r").damage == [])
        #expect(try lab.openRun("r").read(column: "a", steps: 0..<10) == .float32([1, 2, 9]))
        #expect(throws: StoreError.self) { try writer.commit() }
    }

    @Test func failedManifestUpdateKeepsTheOldManifest() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest(modelSpec: "old"))
        writer.faultHook = { operation, _ in operation == "rename" ? ENOSPC : nil }
        #expect(throws: StoreError.self) { try writer.updateManifest(RunManifest(modelSpec: "new")) }
        #expect(try lab.openRun("r").manifest.modelSpec == "old")
    }
}
