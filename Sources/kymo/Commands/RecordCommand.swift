import ArgumentParser
import Dispatch
import Foundation
import KymoEngine
import KymoRecorder
import KymoStore

/// `kymo record`: trains like `kymo train` and records every tier into a run of a lab.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Train and record the run's tiers (T0 exact log, T1 sampled weights, T2 sketches) into a lab.",
        discussion: """
        Training options are those of kymo train. The recorder runs on its own thread; the run is \
        committed every ~2 s, so kymo inspect / kymo query can read it while it trains. Ctrl-C stops \
        after the current step and commits. A non-finite loss commits up to the last good step, \
        marks the run diverged and exits non-zero.
        """)

    @Argument(help: "The lab directory (created if needed).")
    var lab: String
    @Option(name: .customLong("run"), help: "Run name (default: run-<seed>-<data>).")
    var runName: String?
    @OptionGroup var training: TrainingOptions<RecordHelp>
    @Option(help: "Recording budget: bytes per epoch (400MB) or a share of the per-sample gradient tensor (0.2%; the default, raised to 16MB per epoch for small runs).")
    var budget: String?
    @Option(help: "Tiers: a comma list of t0,t1,t2,t3 (T0 is always on; T3, the per-sample factors in Float16, is optional).")
    var tiers: String = "t0,t1,t2"
    @Option(name: .customLong("factor-epochs"), help: "T3's epochs: a comma list of 1-based epochs, ranges a..b allowed (default: every epoch).")
    var factorEpochs: String?
    @Option(name: .customLong("probe-every"), help: "Probe evaluation every N steps (default: at each epoch's end).")
    var probeEvery: Int = 0
    @Option(name: .customLong("step-time-limit"), help: "Recorder time per step: auto (0.85 × a measured plain step), none, or milliseconds.")
    var stepTimeLimit: String = "auto"
    @Flag(help: "Print a machine-readable JSON summary instead of the log.")
    var json = false

    func validate() throws {
        try training.check(resume: nil)
        if probeEvery < 0 { throw ValidationError("--probe-every must be ≥ 0") }
        if stepTimeLimit != "auto" && stepTimeLimit != "none" && (Double(stepTimeLimit) ?? -1) <= 0 {
            throw ValidationError("--step-time-limit must be auto, none, or a positive number of milliseconds")
        }
        do {
            if let budget { _ = try RecordingBudget(parsing: budget) }
            let parsed = try RecordedTiers(parsing: tiers)
            if let factorEpochs {
                guard parsed.contains(.t3) else { throw ValidationError("--factor-epochs needs T3: add t3 to --tiers") }
                _ = try EpochSelection(parsing: factorEpochs)
            }
        } catch let error as ValidationError { throw error } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        var options = RecordingOptions()
        options.probeEvery = probeEvery
        do {
            if let budget {
                options.budget = try RecordingBudget(parsing: budget)
                options.budgetText = budget
            } else {
                options.budgetFloorBytesPerEpoch = 16_000_000
                options.budgetText = "0.2% (at least 16MB per epoch)"
            }
            options.tiers = try RecordedTiers(parsing: tiers)
            options.factorEpochs = try factorEpochs.map { try EpochSelection(parsing: $0).epochs }
        } catch let error as ValidationError { throw error } catch { throw ValidationError("\(error)") }
        switch stepTimeLimit {
        case "auto": options.measureStepTime = true
        case "none": break
        default: options.recorderNanosecondsPerStepLimit = Double(stepTimeLimit)! * 1e6
        }
        let stop = StopFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { stop.set() }
        source.resume()
        defer { source.cancel(); signal(SIGINT, SIG_DFL) }
        do {
            let session = try training.makeSession()
            let config = session.trainer.config
            let name = runName ?? "run-\(config.seed)-\(config.data.filter { $0.isLetter || $0.isNumber })"
            let labHandle = try Lab(path: lab)
            let recording = try Recording(session: session, lab: labHandle, runName: name, options: options)
            try RecordReporter(recording: recording, json: json, stop: stop, lab: lab).run()
        } catch let error as RecorderError {
            fail("\(error)")
        } catch let error as EngineError {
            fail(error.description)
        } catch let error as StoreError {
            fail("\(error)")
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// Set from the SIGINT handler's queue, read by the training loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Drives a recording step by step with kymo train's progress output, then prints what was
/// recorded and where.
struct RecordReporter {
    let recording: Recording
    let json: Bool
    let stop: StopFlag
    let lab: String

    struct Summary: Encodable {
        var run: String
        var directory: String
        var steps: Int
        var checkpoints: Int
        /// Serializing plus the measured store writes of all checkpoints.
        var checkpointSeconds: Double
        var trajectorySnapshots: Int
        var seconds: Double
        var bytes: [String: Int]
        var totalBytes: Int
        var planBytesPerEpoch: Int
        /// The plan's in-memory sketch budget (count-min, Space-Saving, sampled tuples, heavy hitters).
        var sketchBytes: Int
        var measuredPlainStepMilliseconds: Double?
        var budgetBytesPerEpoch: Int
        var t1Weights: Int
        var trajectoryStride: Int
        var trajectoryBits: Int
        var stateHash: String
        var status: String
        var interrupted: Bool
        /// CPU seconds of the training thread inside its steps, its seconds waiting for the
        /// recorder (a full pipeline), and the recorder thread's CPU seconds.
        var trainingThreadCPUSeconds: Double
        var trainingWaitSeconds: Double
        var recorderThreadCPUSeconds: Double
        /// Steps whose slot-only recorder work the training thread did instead of waiting.
        var stepsPreparedByTrainingThread: Int
    }

    func run() throws {
        let trainer = recording.trainer
        let terminal = isatty(STDOUT_FILENO) == 1 && !json
        let clock = ContinuousClock()
        let start = clock.now
        let plan = recording.plan
        if !json {
            print("recording \(recording.runName): T1 \(plan.t1Count) weights, trajectories \(plan.trajectoryStride > 0 ? "\(plan.trajectoryBits)-bit every \(plan.trajectoryStride) steps" : "off"), sampled contributions \(plan.sampledContributionsPerStep)/step, plan \(mb(plan.totalBytesPerEpoch))/epoch of \(mb(plan.budgetBytesPerEpoch)) budget")
        }
        var interrupted = false
        var epochStart = clock.now
        var lossSum = 0.0, count = 0
        while !trainer.isFinished {
            if stop.isSet { interrupted = true; break }
            let step = try recording.step()
            lossSum += Double(step.loss) * Double(step.batchSize)
            count += step.batchSize
            let done = step.step % trainer.stepsPerEpoch + 1
            let total = trainer.stepsPerEpoch
            if terminal && (done % 10 == 0 || done == total) {
                printProgress(epoch: step.epoch, epochs: trainer.config.epochs, done: done, total: total, loss: step.loss)
            }
            if done == total {
                if terminal { print("\r\u{1B}[2K", terminator: "") }
                if !json {
                    print("epoch \(step.epoch + 1)/\(trainer.config.epochs) loss \(String(format: "%.4f", lossSum / Double(max(count, 1)))) lr \(step.learningRate) \(String(format: "%.2f", (clock.now - epochStart).seconds))s")
                }
                epochStart = clock.now
                lossSum = 0; count = 0
            }
        }
        if terminal { print("") }
        let summary = try recording.finish(interrupted: interrupted)
        let seconds = (clock.now - start).seconds
        if json {
            var bytes: [String: Int] = [:]
            for (tier, b) in summary.bytesByTier { bytes[tier] = b }
            let out = Summary(run: summary.run, directory: summary.directory, steps: summary.steps, checkpoints: summary.checkpoints,
                              checkpointSeconds: summary.checkpointSeconds, trajectorySnapshots: summary.snapshots, seconds: seconds, bytes: bytes, totalBytes: summary.totalBytes,
                              planBytesPerEpoch: plan.totalBytesPerEpoch,
                              sketchBytes: plan.items.filter { $0.tier == "T2" && !$0.column.hasPrefix("t2/traj") }.reduce(0) { $0 + $1.bytesPerEpoch },
                              measuredPlainStepMilliseconds: recording.manifest.measuredPlainStepNanoseconds.map { $0 / 1e6 }, budgetBytesPerEpoch: plan.budgetBytesPerEpoch,
                              t1Weights: plan.t1Count, trajectoryStride: plan.trajectoryStride, trajectoryBits: plan.trajectoryBits,
                              stateHash: String(summary.finalStateHash, radix: 16), status: summary.status, interrupted: interrupted,
                              trainingThreadCPUSeconds: summary.threads.trainingCPUSeconds,
                              trainingWaitSeconds: summary.threads.trainingWaitSeconds,
                              recorderThreadCPUSeconds: summary.threads.recorderCPUSeconds,
                              stepsPreparedByTrainingThread: summary.threads.stepsPreparedByTraining)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let data = try? encoder.encode(out) { print(String(decoding: data, as: UTF8.self)) }
            return
        }
        if interrupted { print("interrupted: stopped after step \(summary.steps - 1); everything up to it is committed") }
        print("recorded \(summary.steps) steps in \(String(format: "%.2f", seconds))s → \(summary.directory)")
        for (tier, b) in summary.bytesByTier {
            print("  \(tier.padding(toLength: 12, withPad: " ", startingAt: 0)) \(mb(b))")
        }
        print("  total        \(mb(summary.totalBytes)) (\(summary.checkpoints) checkpoints, \(summary.snapshots) trajectory snapshots)")
        print(String(format: "  checkpoints  %.3f s to serialize and write (measured) = %.1f %% of the %.2f s run (Flor's share: %.0f %%)",
                     summary.checkpointSeconds, 100 * summary.checkpointSeconds / max(seconds, 1e-9), seconds,
                     100 * recording.options.checkpointShare))
        let t = summary.threads
        print(String(format: "  threads      training %.2f s CPU (waited %.2f s for the recorder, prepared %d steps for it), recorder %.2f s CPU",
                     t.trainingCPUSeconds, t.trainingWaitSeconds, t.stepsPreparedByTraining, t.recorderCPUSeconds))
        print("status \(summary.status), state hash \(String(summary.finalStateHash, radix: 16)); more: kymo inspect \(lab) \(summary.run)")
    }

    private func mb(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1e6) }
}
