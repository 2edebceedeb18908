import Foundation
import KymoStore

/// `kymo-ratios store`: the store's write and read speed on Float32 weight snapshots (MB/s of
/// raw values, one core, fsync at every commit included), and open + locate on an index the
/// size of a 10 GB store, against the targets of issue 4.
func storeRatios() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kymo-store-ratios-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    let lab = try Lab(path: root)
    let width = 4096, stepsPerChunk = 64, chunks = 48, chunksPerCommit = 8
    let chunkSteps = (0..<chunks).map { c in (c * stepsPerChunk)..<((c + 1) * stepsPerChunk) }
    let data = chunkSteps.map { StoreBenchmarkSupport.weightSnapshots(steps: $0, width: width) }
    let rawBytes = Double(chunks * stepsPerChunk * width * 4)
    var runNumber = 0
    var lastRun = ""

    func write() {
        runNumber += 1
        lastRun = "w\(runNumber)"
        do {
            let writer = try lab.createRun(lastRun, manifest: RunManifest(tiers: ["t2"]))
            for c in 0..<chunks {
                try writer.append(column: "t2/w", steps: chunkSteps[c], .float32(data[c]))
                if c % chunksPerCommit == chunksPerCommit - 1 { try writer.commit(through: chunkSteps[c].upperBound - 1) }
            }
            try writer.finish()
        } catch { fatalError("\(error)") }
    }
    write()
    let readRun = lastRun
    func read() {
        do {
            let reader = try lab.openRun(readRun)
            var total = 0
            for steps in chunkSteps { total += try reader.read(column: "t2/w", steps: steps).count }
            precondition(total == chunks * stepsPerChunk * width)
        } catch { fatalError("\(error)") }
    }

    // An index as large as a 10 GB store: 10,240 chunks of 1 MiB in 8 columns.
    let columns = (0..<8).map { "t2/layer\($0)" }
    try StoreBenchmarkSupport.makeIndexOnlyRun(lab: lab, name: "big", columns: columns, chunksPerColumn: 1280,
                                               chunkBytes: 1 << 20, stepsPerChunk: 64)
    var located = 0
    func openLocate() {
        do {
            let reader = try lab.openRun("big")
            located += reader.locate(column: "t2/layer5", steps: 40_000..<40_100).count
        } catch { fatalError("\(error)") }
    }

    let times = Stopwatch.interleavedMedians(rounds: 7, [write, read, openLocate])
    let writeMBs = rawBytes / times[0] / 1e6, readMBs = rawBytes / times[1] / 1e6
    // The machine is shared: also the CPU time of this thread (what "one core" costs, without
    // waits for other processes or for fsync), interleaved the same way.
    let cpu = Stopwatch.threadCPUMedians(rounds: 7, [write, read, openLocate])
    let stored = try StoreBenchmarkSupport.segmentBytes(lab: lab, run: readRun)
    let chunk = try lab.openRun(readRun).chunks(column: "t2/w")[0]
    print("Float32 weight snapshots, \(chunks) chunks of \(stepsPerChunk)×\(width) (1 MiB), zstd level 1, filter \(chunk.filter), commit every \(chunksPerCommit) chunks (fsync)")
    print("  compression: raw \(Int(rawBytes)) B → segments \(stored) B, ratio \(String(format: "%.2f", rawBytes / Double(stored)))x")
    print("  write: \(String(format: "%.0f", writeMBs)) MB/s of raw input wall-clock, \(String(format: "%.0f", rawBytes / cpu[0] / 1e6)) MB/s per CPU-second (target ≥ 250): \(String(format: "%.2f", writeMBs / 250))× / \(String(format: "%.2f", rawBytes / cpu[0] / 1e6 / 250))× target")
    print("  read:  \(String(format: "%.0f", readMBs)) MB/s of raw output wall-clock, \(String(format: "%.0f", rawBytes / cpu[1] / 1e6)) MB/s per CPU-second (target ≥ 500): \(String(format: "%.2f", readMBs / 500))× / \(String(format: "%.2f", rawBytes / cpu[1] / 1e6 / 500))× target")
    let bigBytes = try StoreBenchmarkSupport.segmentBytes(lab: lab, run: "big")
    print("  open + locate, index of \(8 * 1280) chunks (10 GiB raw, sparse segments of apparent size \(bigBytes / 1_000_000) MB: measures the index, reads no data):"
          + " \(String(format: "%.2f", times[2] * 1000)) ms wall-clock, \(String(format: "%.2f", cpu[2] * 1000)) ms CPU (target < 5 ms): \(String(format: "%.2f", 5 / (times[2] * 1000)))× / \(String(format: "%.2f", 5 / (cpu[2] * 1000)))× headroom")
    print("  load average while measuring: \(Stopwatch.loadAverage())")
    precondition(located > 0)
}
