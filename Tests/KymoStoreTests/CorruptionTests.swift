import Foundation
import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore

@Suite struct CorruptionTests {
    /// 600 trials: flip a random byte (or cut a file short) in the manifest, the commit log or a
    /// segment of a finished run. Every trial must be reported by verify, naming the damaged
    /// file and an offset inside it; reading every column must throw or succeed, never crash.
    @Test func everyFlippedByteAndTruncationIsReported() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        do {
            let writer = try lab.createRun("pristine", manifest: RunManifest(seeds: ["run": 5], tiers: ["t0", "t2"]))
            writer.segmentLimit = 6000
            try SyntheticColumns.writeBlocks(writer, blocks: 8, stepsPerBlock: 4, width: 96) { _ in }
            try writer.putBlob(column: "t2/sketch", steps: 0..<32, bytes: (0..<500).map { UInt8(truncatingIfNeeded: $0 * 13) })
            try writer.finish()
        }
        #expect(lab.verify(run: "pristine").damage == [])
        let runDir = dir.path + "/runs/pristine"
        let names = ["manifest.json", "commits.klog"] + (try StoreFS.list(runDir + "/segments")).map { "segments/" + $0 }
        #expect(names.count >= 4, "expected several segment files: \(names)")
        var pristine: [String: [UInt8]] = [:]
        for name in names { pristine[name] = try StoreFile.openForReading(runDir + "/" + name).readAll() }
        try StoreFS.makeDirectory(dir.path + "/runs/t/segments")
        var rng = CounterRNG(key: 77)
        var flips = 0, cuts = 0
        for trial in 0..<600 {
            for name in names {
                let file = try StoreFile.openForWriting(dir.path + "/runs/t/" + name, create: true)
                try file.truncate(to: 0)
                try file.write(pristine[name]!, at: 0)
            }
            let victim = names[Int(rng.next(below: UInt64(names.count)))]
            let path = dir.path + "/runs/t/" + victim
            let original = pristine[victim]!
            var damaged = original
            if rng.next(below: 4) == 0 {
                damaged.removeLast(1 + Int(rng.next(below: UInt64(original.count))))
                cuts += 1
            } else {
                let at = Int(rng.next(below: UInt64(original.count)))
                damaged[at] ^= UInt8(1 + rng.next(below: 255))
                flips += 1
            }
            let file = try StoreFile.openForWriting(path, create: false)
            try file.truncate(to: 0)
            try file.write(damaged, at: 0)

            let report = lab.verify(run: "t")
            #expect(!report.isSound, "trial \(trial): damage to \(victim) went unreported")
            #expect(report.damage.contains { $0.file == path && $0.offset >= 0 && $0.offset <= original.count },
                    "trial \(trial): \(victim) not named: \(report.damage)")
            // Readers must fail cleanly or read; never crash.
            if let reader = try? lab.openRun("t") {
                for column in reader.columns() { _ = try? reader.read(column: column, steps: 0..<1000) }
                _ = try? reader.checkpoint(atOrBefore: 1000)
            }
            _ = try? lab.openRunForWriting("t")
        }
        #expect(flips > 300 && cuts > 100)
    }

    @Test func chunkDamageNamesFileAndOffset() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        try writer.append(column: "a", steps: 0..<100, .float32(walk(count: 100, seed: 1)))
        try writer.append(column: "b", steps: 0..<100, .float32(walk(count: 100, seed: 2)))
        try writer.finish()
        let chunk = try #require(try lab.openRun("r").chunks(column: "b").first)
        let path = dir.path + "/runs/r/segments/000000.kseg"
        let file = try StoreFile.openForWriting(path, create: false)
        var byte = try file.readExactly(count: 1, at: chunk.offset + 100, what: "byte")
        byte[0] ^= 0x40
        try file.write(byte, at: chunk.offset + 100)
        let report = lab.verify(run: "r")
        #expect(report.damage.count == 1)
        #expect(report.damage.first?.file == path)
        #expect(report.damage.first?.offset == chunk.offset)
        #expect(report.damage.first?.message.contains("checksum") == true)
        let result = capture { () throws(StoreError) in try lab.openRun("r").read(column: "b", steps: 0..<100) }
        guard case let .failure(.corrupt(file: f, offset: o, message: _)) = result else {
            Issue.record("read of a damaged chunk did not fail: \(result)"); return
        }
        #expect(f == path && o == chunk.offset)
        #expect(try lab.openRun("r").read(column: "a", steps: 0..<100) == .float32(walk(count: 100, seed: 1)))
    }
}
