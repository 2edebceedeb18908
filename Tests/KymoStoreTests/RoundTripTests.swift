import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore

/// Deterministic test values: a random walk (like weights over steps) from a counter RNG.
func walk(count: Int, seed: UInt64) -> [Float] {
    var rng = CounterRNG(key: seed)
    var x: Float = 0
    return (0..<count).map { _ in
        x += rng.nextFloat() - 0.5
        return x
    }
}

func sampleData(_ type: ColumnType, count: Int, seed: UInt64) -> ColumnData {
    var rng = CounterRNG(key: seed)
    switch type {
    case .float32: return .float32(walk(count: count, seed: seed))
    case .float16: return .float16((0..<count).map { _ in UInt16(truncatingIfNeeded: rng.next()) })
    case .int8: return .int8(codes: (0..<count).map { _ in Int8(truncatingIfNeeded: rng.next(below: 9)) - 4 }, scale: 0.25)
    case .int16: return .int16(codes: (0..<count).map { _ in Int16(truncatingIfNeeded: rng.next()) }, scale: 1e-3)
    case .uint32: return .uint32((0..<count).map { _ in UInt32(rng.next(below: 60_000)) })
    case .int32: return .int32((0..<count).map { _ in Int32(truncatingIfNeeded: rng.next()) })
    case .blob: return .blob((0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next(below: 7)) })
    }
}

@Suite struct RoundTripTests {
    @Test(arguments: ColumnType.allCases)
    func everyColumnTypeRoundTrips(type: ColumnType) throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest(seeds: ["run": 7], tiers: ["t0"]))
        var expected: [ColumnData] = []
        for chunk in 0..<5 {
            let data = sampleData(type, count: 10 * 300, seed: UInt64(chunk))
            expected.append(data)
            try writer.append(column: "t0/x", steps: (chunk * 10)..<(chunk * 10 + 10), data)
        }
        try writer.commit(through: 49)
        let reader = try lab.openRun("r")
        #expect(reader.committedSteps == 0..<50)
        #expect(reader.columns() == ["t0/x"])
        let slices = try reader.readSlices(column: "t0/x", steps: 0..<50)
        #expect(slices.map(\.data) == expected)
        if type != .blob {
            #expect(slices.allSatisfy { $0.width == 300 })
            // A step range inside one chunk and across chunks.
            let inner = try reader.read(column: "t0/x", steps: 12..<14)
            #expect(inner == expected[1].slice(600..<1200))
            if type != .int8 && type != .int16 {
                let across = try reader.read(column: "t0/x", steps: 8..<21)
                let want = try concat([expected[0].slice(2400..<3000), expected[1], expected[2].slice(0..<300)])
                #expect(across == want)
            }
        }
        #expect(lab.verify(run: "r").isSound)
    }

    func concat(_ parts: [ColumnData]) throws -> ColumnData {
        var bytes: [UInt8] = []
        for p in parts { try p.withRawBytes { (r) throws(StoreError) in bytes.append(contentsOf: r) } }
        return bytes.withUnsafeBytes { ColumnData.fromRawBytes($0, type: parts[0].type, scale: parts[0].scale) }
    }

    @Test func filtersInvertExactlyForEveryWidth() throws {
        for elementSize in [1, 2, 4] {
            for width in [1, 3, 8, 17] {
                for count in [0, 1, 7, 64, 1001] {
                    let n = count * elementSize
                    var rng = CounterRNG(key: UInt64(n * 31 + width))
                    let source = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    for filter in ChunkFilter.allCases {
                        var filtered = [UInt8](repeating: 0, count: n)
                        var back = [UInt8](repeating: 0, count: n)
                        source.withUnsafeBytes { s in filtered.withUnsafeMutableBytes { f in
                            filter.apply(s, into: f, elementSize: elementSize, width: width) } }
                        filtered.withUnsafeBytes { f in back.withUnsafeMutableBytes { b in
                            filter.invert(f, into: b, elementSize: elementSize, width: width) } }
                        #expect(back == source, "filter \(filter) size \(elementSize) width \(width) count \(count)")
                    }
                }
            }
        }
    }

    @Test func snapshotsPickAFilterThatPays() throws {
        // Weight snapshots that change a little per step: XOR with the previous row should win.
        let width = 4096, steps = 16
        var current = walk(count: width, seed: 3)
        var values: [Float] = []
        var rng = CounterRNG(key: 4)
        for _ in 0..<steps {
            for i in 0..<width { current[i] += (rng.nextFloat() - 0.5) * 1e-5 }
            values += current
        }
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        try writer.append(column: "t2/w", steps: 0..<steps, .float32(values))
        try writer.commit(through: steps - 1)
        let chunk = try #require(try lab.openRun("r").chunks(column: "t2/w").first)
        #expect(chunk.filter == .xorShuffle)
        #expect(chunk.storedSize < chunk.rawSize)
        #expect(try lab.openRun("r").read(column: "t2/w", steps: 0..<steps) == .float32(values))
    }

    @Test func checkpointsAndManifest() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        var manifest = RunManifest(config: ["lr": "0.1", "batch": "64"], seeds: ["run": 1, "order": 2],
                                   modelSpec: "784-512-256-10", datasetFingerprint: "abc", toolchain: "swift 6.3", tiers: ["t0", "t2"])
        let writer = try lab.createRun("r", manifest: manifest)
        for step in [0, 100, 200] {
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * step + 1) }
            try writer.writeCheckpoint(step: step, bytes: bytes, hash: UInt64(step) &* 0x9E37)
        }
        try writer.commit(through: 250)
        manifest.config["note"] = "updated"
        try writer.updateManifest(manifest)
        let live = try lab.openRun("r")
        try writer.markDiverged(step: 251, message: "loss is NaN")
        #expect(try live.refresh())
        #expect(live.manifest.status == .diverged(step: 251, message: "loss is NaN"))
        #expect(try !live.refresh())
        try writer.finish()
        let reader = try lab.openRun("r")
        #expect(reader.checkpointSteps() == [0, 100, 200])
        #expect(try reader.checkpoint(atOrBefore: 99)?.step == 0)
        let c = try #require(try reader.checkpoint(atOrBefore: 150))
        #expect(c.step == 100 && c.hash == 100 &* 0x9E37 && c.bytes == (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 100 + 1) })
        #expect(try reader.checkpoint(atOrBefore: -1) == nil)
        #expect(reader.manifest.config["note"] == "updated")
        #expect(reader.manifest.status == .diverged(step: 251, message: "loss is NaN"))
        #expect(reader.manifest.seeds == ["run": 1, "order": 2])
        #expect(reader.columns().isEmpty)
        #expect(lab.verify(run: "r").isSound)
        #expect(try lab.runNames() == ["r"])
    }

    @Test func contractViolationsAreErrors() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        try writer.append(column: "a", steps: 0..<4, .float32([1, 2, 3, 4]))
        #expect(throws: StoreError.self) { try writer.append(column: "a", steps: 3..<5, .float32([1, 2])) }
        #expect(throws: StoreError.self) { try writer.append(column: "b", steps: 0..<3, .float32([1, 2])) }
        #expect(throws: StoreError.self) { try writer.append(column: "_x", steps: 0..<1, .float32([1])) }
        try writer.commit(through: 3)
        #expect(throws: StoreError.self) { try writer.commit(through: 1) }
        #expect(throws: StoreError.exists(run: "r")) { _ = try lab.createRun("r", manifest: RunManifest()) }
        #expect(throws: StoreError.self) { _ = try lab.openRun("missing") }
    }

    @Test func secondWriterIsRefusedWithTheHolderPID() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        let second = capture { () throws(StoreError) in try lab.openRunForWriting("r") }
        guard case let .failure(error) = second, case let .locked(run, pid) = error else {
            Issue.record("a second writer was not refused with .locked: \(second)")
            return
        }
        #expect(run == "r")
        #expect(pid == StoreFS.currentPID())
        #expect(error.description.contains("pid \(StoreFS.currentPID())"))
        try writer.commit(through: 0)
    }

    @Test func uncommittedChunksAreInvisibleAndCutOnReopen() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        do {
            let writer = try lab.createRun("r", manifest: RunManifest())
            try writer.append(column: "a", steps: 0..<2, .float32([1, 2]))
            try writer.commit(through: 1)
            try writer.append(column: "a", steps: 2..<4, .float32([3, 4]))
            let reader = try lab.openRun("r")
            #expect(reader.committedSteps == 0..<2)
            #expect(try reader.read(column: "a", steps: 0..<10) == .float32([1, 2]))
            // The writer goes away without committing (as after a crash).
        }
        #expect(!lab.verify(run: "r").isSound) // uncommitted bytes in the segment are reported
        let writer = try lab.openRunForWriting("r")
        #expect(writer.committedSteps == 0..<2)
        try writer.append(column: "a", steps: 2..<3, .float32([5]))
        try writer.finish()
        #expect(lab.verify(run: "r").damage == [])
        #expect(try lab.openRun("r").read(column: "a", steps: 0..<10) == .float32([1, 2, 5]))
    }

    @Test func segmentsRollOver() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        writer.segmentLimit = 10_000
        var all: [Float] = []
        for i in 0..<20 {
            let v = walk(count: 4000, seed: UInt64(i))
            all += v
            try writer.append(column: "w", steps: (i * 4)..<(i * 4 + 4), .float32(v))
            if i % 3 == 0 { try writer.commit(through: i * 4 + 3) }
        }
        try writer.finish()
        let reader = try lab.openRun("r")
        #expect(Set(reader.chunks(column: "w").map(\.segment)).count > 3)
        #expect(try reader.read(column: "w", steps: 0..<80) == .float32(all))
        #expect(lab.verify(run: "r").damage == [])
    }
}
