import Foundation
import KymoRecorder

/// The recorder's per-step costs at seed scale, as ns/param and µs/step, and as ratios to the
/// cost of copying one P-float vector (the unit the training thread pays per hand-off), measured
/// in one run. A plain seed-scale step is ~3 ms (DESIGN.md: 4–5 s per 1563-step epoch).
/// Then the end-to-end figures of issue 5 (`recorderEndToEnd`).
func recorderRatios() throws {
    if ProcessInfo.processInfo.environment["KYMO_RATIOS_SKIP_WORKLOADS"] == nil {
        let workloads = RecorderWorkload.seedScale()
        let medians = Stopwatch.interleavedMedians(rounds: 31, workloads.map { w in { w.run() } })
        let copy = medians[0]
        for (w, seconds) in zip(workloads, medians) {
            let perUnit = seconds * 1e9 / Double(w.unitsPerCall)
            let label = w.name.padding(toLength: 58, withPad: " ", startingAt: 0)
            print("\(label) \(String(format: "%8.3f", perUnit)) ns/\(w.unit)  \(String(format: "%8.1f", seconds * 1e6)) µs/call  \(String(format: "%6.2f", seconds / copy))x copy")
        }
        for w in workloads where !w.report().isEmpty { print(w.report()) }
    }
    try recorderEndToEnd()
}

/// Issue 5's targets at seed scale — MLP 784-512-256-10, batch 64, SGD with momentum, 100,000
/// synthetic samples (no probe split), 3 epochs: `kymo record` (default tiers T0–T2) against
/// `kymo train` on the same config, as subprocesses, interleaved, medians of
/// `KYMO_RECORDER_ROUNDS` (default 3) rounds:
/// - wall time ratio (target ≤ 1.25);
/// - store size against the raw per-sample gradient tensor, 214.3 GB × epochs (target ≤ 0.2 %),
///   with each tier's size;
/// - peak resident memory of each child (wait4's ru_maxrss), record ≤ 2 × train + sketch budget.
/// The kymo binary: `KYMO_BIN`, default ../.build/release/kymo (build it with scripts/build).
/// `KYMO_BASE_BIN`: a second kymo binary (e.g. built from an earlier commit) whose `record` runs in
/// the same rounds, interleaved, for a before/after ratio against the same `train` runs.
func recorderEndToEnd() throws {
    let env = ProcessInfo.processInfo.environment
    let kymo = env["KYMO_BIN"] ?? FileManager.default.currentDirectoryPath + "/../.build/release/kymo"
    guard FileManager.default.isExecutableFile(atPath: kymo) else {
        print("end-to-end: no kymo binary at \(kymo) (run scripts/build, or set KYMO_BIN); skipped")
        return
    }
    let rounds = Int(env["KYMO_RECORDER_ROUNDS"] ?? "") ?? 3
    guard rounds > 0 else {
        print("end-to-end: skipped (KYMO_RECORDER_ROUNDS=\(rounds))")
        return
    }
    let epochs = Int(env["KYMO_RECORDER_EPOCHS"] ?? "") ?? 3
    let common = ["--data", "synthetic:100000:784:10", "--layers", "784,512,256,10", "--batch", "64",
                  "--optimizer", "momentum", "--lr", "0.01", "--epochs", "\(epochs)", "--probe-fraction", "0", "--seed", "1"]
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kymo-recorder-ratios-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    let base = env["KYMO_BASE_BIN"].flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
    var train: [ChildRun] = [], record: [ChildRun] = [], baseRecord: [ChildRun] = []
    var lastJSON: [String: Any] = [:]
    var storeBytes: [Int] = []
    for round in 0..<rounds {
        let lab = "\(root)/lab\(round)"
        var pair: [(Bool, () throws -> Void)] = [
            (false, { train.append(try ChildRun.run(kymo, ["train"] + common + ["--json"])) }),
            (true, {
                let r = try ChildRun.run(kymo, ["record", lab, "--run", "seed"] + common + ["--json"])
                record.append(r)
                if let obj = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any] { lastJSON = obj }
                storeBytes.append(directoryBytes("\(lab)/runs/seed"))
            }),
        ]
        if let base {
            pair.append((true, {
                baseRecord.append(try ChildRun.run(base, ["record", "\(lab)-base", "--run", "seed"] + common + ["--json"]))
                try? FileManager.default.removeItem(atPath: "\(lab)-base")
            }))
        }
        // Alternate which goes first, so drift hits both alike.
        for (_, body) in (round % 2 == 0 ? pair : pair.reversed()) { try body() }
        try? FileManager.default.removeItem(atPath: lab)
        print(String(format: "round %d: train %.2f s (%.2f s CPU, %.0f MB), record %.2f s (%.2f s CPU, %.0f MB)", round + 1,
                     train.last!.seconds, train.last!.cpuSeconds, Double(train.last!.maxRSSBytes) / 1e6,
                     record.last!.seconds, record.last!.cpuSeconds, Double(record.last!.maxRSSBytes) / 1e6)
              + (baseRecord.isEmpty ? "" : String(format: ", base record %.2f s (%.2f s CPU)", baseRecord.last!.seconds, baseRecord.last!.cpuSeconds)))
    }
    func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
    let trainSeconds = median(train.map(\.seconds)), recordSeconds = median(record.map(\.seconds))
    let trainRSS = median(train.map { Double($0.maxRSSBytes) }), recordRSS = median(record.map { Double($0.maxRSSBytes) })
    let tensor = 535_818.0 * 100_000 * 4 * Double(epochs)
    let stored = median(storeBytes.map(Double.init))
    let sketch = Double(lastJSON["sketchBytes"] as? Int ?? 0)
    print("seed scale, \(epochs) epochs, medians of \(rounds) interleaved rounds:")
    print(String(format: "  wall time: train %.2f s, record %.2f s → ratio %.3f (target ≤ 1.25)", trainSeconds, recordSeconds, recordSeconds / trainSeconds))
    let trainCPU = median(train.map(\.cpuSeconds))
    print(String(format: "  CPU (both threads): train %.2f s, record %.2f s → ratio %.3f (what wall time tends to on a busy machine)",
                 trainCPU, median(record.map(\.cpuSeconds)), median(record.map(\.cpuSeconds)) / trainCPU))
    if !baseRecord.isEmpty {
        let b = median(baseRecord.map(\.seconds)), bc = median(baseRecord.map(\.cpuSeconds))
        print(String(format: "  base binary (%@): record %.2f s → ratio %.3f; CPU %.2f s → ratio %.3f", base! as NSString, b, b / trainSeconds, bc, bc / trainCPU))
    }
    print(String(format: "  store: %.1f MB on disk = %.4f %% of the %.1f GB per-sample gradient tensor (target ≤ 0.2 %%)",
                 stored / 1e6, 100 * stored / tensor, tensor / 1e9))
    if let bytes = lastJSON["bytes"] as? [String: Int] {
        for tier in bytes.keys.sorted() { print(String(format: "    %-12@ %8.1f MB", tier as NSString, Double(bytes[tier]!) / 1e6)) }
    }
    if let t = lastJSON["trainingThreadCPUSeconds"] as? Double, let w = lastJSON["trainingWaitSeconds"] as? Double,
       let r = lastJSON["recorderThreadCPUSeconds"] as? Double {
        print(String(format: "  threads (last record): training %.2f s CPU, waited %.2f s for the recorder, prepared %@ steps for it; recorder %.2f s CPU",
                     t, w, "\(lastJSON["stepsPreparedByTrainingThread"] ?? "?")" as NSString, r))
    }
    print("  plan: T1 \(lastJSON["t1Weights"] ?? "?") weights, trajectories \(lastJSON["trajectoryBits"] ?? "?")-bit every \(lastJSON["trajectoryStride"] ?? "?") steps, measured plain step \(lastJSON["measuredPlainStepMilliseconds"] ?? "?") ms")
    print(String(format: "  peak memory: train %.0f MB, record %.0f MB → ratio %.2f; limit 2 × train + sketches (%.0f MB) = %.0f MB: %@",
                 trainRSS / 1e6, recordRSS / 1e6, recordRSS / trainRSS, sketch / 1e6, (2 * trainRSS + sketch) / 1e6,
                 (recordRSS <= 2 * trainRSS + sketch ? "within" : "OVER") as NSString))
}

/// A child process's wall time, peak RSS (wait4) and stdout.
struct ChildRun {
    var seconds: Double
    /// User + system CPU seconds of the child (all its threads), from wait4: unlike wall time,
    /// barely moved by other processes on a shared machine.
    var cpuSeconds: Double
    var maxRSSBytes: Int
    var output: String

    static func run(_ path: String, _ arguments: [String]) throws -> ChildRun {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("kymo-ratios-child-\(getpid()).out").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw NSError(domain: "posix_spawn", code: Int(rc)) }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard status == 0 else { throw NSError(domain: "kymo \(arguments.first ?? "") exited with status \(status)", code: Int(status)) }
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return ChildRun(seconds: seconds, cpuSeconds: cpu, maxRSSBytes: Int(usage.ru_maxrss) * 1024, output: output)
    }
}

/// Bytes of the regular files under `path`.
func directoryBytes(_ path: String) -> Int {
    guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let item = e.nextObject() as? String {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + item),
           attributes[.type] as? FileAttributeType == .typeRegular {
            total += (attributes[.size] as? Int) ?? 0
        }
    }
    return total
}
