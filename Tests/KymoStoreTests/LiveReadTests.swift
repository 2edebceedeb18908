import Foundation
import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore

/// Results handed from a thread back to the test.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

@Suite struct LiveReadTests {
    /// A reader refreshes in a loop while a writer on another thread appends and commits; each
    /// snapshot must be complete (every committed step readable and exact), prefixes only grow.
    @Test func readerRefreshesWhileWriterAppends() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path
        let blocks = 150, stepsPerBlock = 2, width = 300
        let lab = try Lab(path: path)
        let created = try lab.createRun("live", manifest: RunManifest())
        try SyntheticColumns.writeBlocks(created, blocks: 1, stepsPerBlock: stepsPerBlock, width: width) { _ in }
        let writerError = Box<String?>(nil)
        let readerResult = Box<(snapshots: Int, failures: [String])>((0, []))
        let readerSeen = Box(0)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let writer = created
        Thread {
            do {
                // Every 10 commits, let a slow reader catch up (at most 5 s), so that it sees
                // many distinct commits however the machine schedules the two threads.
                for _ in 0..<((blocks - 1) / 10) {
                    try SyntheticColumns.writeBlocks(writer, blocks: 10, stepsPerBlock: stepsPerBlock, width: width) { _ in }
                    let deadline = Date().addingTimeInterval(5)
                    while readerSeen.value < writer.committedSteps.upperBound - 10 * stepsPerBlock, Date() < deadline { usleep(1000) }
                }
                try SyntheticColumns.writeBlocks(writer, blocks: (blocks - 1) % 10, stepsPerBlock: stepsPerBlock, width: width) { _ in }
                try writer.finish()
            } catch { writerError.value = "\(error)" }
            done.signal()
        }.start()
        Thread {
            var failures: [String] = []
            var snapshots = 0
            do {
                let reader = try Lab(existing: path).openRun("live")
                var previous = 0
                let target = blocks * stepsPerBlock
                let deadline = Date().addingTimeInterval(30)
                while previous < target, Date() < deadline {
                    if try reader.refresh() || snapshots == 0 {
                        let end = reader.committedSteps.upperBound
                        if end < previous { failures.append("prefix went back from \(previous) to \(end)") }
                        // The newest block of the snapshot is complete and exact.
                        let from = max(0, end - 2 * stepsPerBlock)
                        let w = try reader.read(column: "t2/w", steps: from..<end)
                        if w != .float32(SyntheticColumns.rows(seed: 2, steps: from..<end, width: width)) {
                            failures.append("snapshot at \(end): wrong values")
                        }
                        let loss = try reader.readSlices(column: "t0/loss", steps: 0..<end)
                        if loss.last?.steps.upperBound != end { failures.append("snapshot at \(end): loss ends at \(loss.last?.steps.upperBound ?? -1)") }
                        previous = end
                        readerSeen.value = end
                        snapshots += 1
                    }
                }
                if previous < target { failures.append("reader stopped at \(previous) of \(target)") }
            } catch { failures.append("\(error)") }
            readerResult.value = (snapshots, failures)
            done.signal()
        }.start()
        done.wait()
        done.wait()
        #expect(writerError.value == nil)
        #expect(readerResult.value.failures == [])
        #expect(readerResult.value.snapshots > 5, "the reader saw too few distinct commits")
        #expect(lab.verify(run: "live").damage == [])
    }
}
