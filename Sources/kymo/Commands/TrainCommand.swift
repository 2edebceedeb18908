import ArgumentParser
import Foundation
import KymoEngine

/// `kymo train`: trains an MLP deterministically and optionally checkpoints it.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an MLP deterministically on the CPU (bit-identical for any thread count).",
        discussion: """
        Options override the --config file, which overrides the defaults. With --resume, the run \
        continues from the checkpoint's config (only --epochs, --threads and --checkpoint apply).
        """)

    @OptionGroup var training: TrainingOptions<TrainHelp>
    @Option(help: "Write a checkpoint here after every epoch and at the end (atomically).")
    var checkpoint: String?
    @Option(help: "Resume from this checkpoint.")
    var resume: String?
    @Flag(help: "Print a machine-readable JSON summary instead of the log.")
    var json = false

    func validate() throws {
        try training.check(resume: resume)
    }

    func run() throws {
        do {
            let session = try resume.map { try TrainingSession(resuming: $0, epochs: training.epochs, threads: training.threads ?? 1) }
                ?? training.makeSession()
            try TrainReporter(session: session, json: json, checkpoint: checkpoint).run()
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Runs a session epoch by epoch: progress bar on a terminal, a plain line per epoch otherwise,
/// or one JSON object at the end; checkpoints after every good epoch.
struct TrainReporter {
    let session: TrainingSession
    let json: Bool
    let checkpoint: String?

    struct Summary: Encodable {
        var data: String
        var layers: String
        var optimizer: String
        var trainSamples: Int
        var probeSamples: Int
        var steps: Int
        var seconds: Double
        var epochs: [EpochSummary]
        var checkpointHash: String
    }

    func run() throws(EngineError) {
        let trainer = session.trainer
        let terminal = isatty(STDOUT_FILENO) == 1 && !json
        let clock = ContinuousClock()
        let start = clock.now
        var epochs: [EpochSummary] = []
        while !trainer.isFinished {
            let epochStart = clock.now
            let total = trainer.stepsPerEpoch
            var done = 0
            let summary: EpochSummary
            do {
                summary = try session.runEpoch { step in
                done += 1
                if terminal && (done % 10 == 0 || done == total) {
                    printProgress(epoch: step.epoch, epochs: trainer.config.epochs, done: done, total: total, loss: step.loss)
                }
                }
            } catch {
                if terminal { print("") } // end the progress bar's line before the error
                throw error
            }
            epochs.append(summary)
            if let checkpoint { try trainer.state.write(to: checkpoint) }
            let seconds = (clock.now - epochStart).seconds
            if terminal { print("\r\u{1B}[2K", terminator: "") }
            if !json {
                print("epoch \(summary.epoch + 1)/\(trainer.config.epochs) loss \(format(summary.loss)) acc \(format(summary.accuracy)) probe_loss \(format(summary.probeLoss)) probe_acc \(format(summary.probeAccuracy)) lr \(summary.learningRate) \(String(format: "%.2f", seconds))s")
            }
        }
        let hash = String(trainer.state.contentHash, radix: 16)
        if json {
            let summary = Summary(
                data: trainer.config.data, layers: trainer.config.model.layersText,
                optimizer: trainer.config.optimizer.kind.rawValue, trainSamples: trainer.training.count,
                probeSamples: session.probe.count, steps: trainer.completedSteps,
                seconds: (clock.now - start).seconds, epochs: epochs, checkpointHash: hash)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let data = try? encoder.encode(summary) { print(String(decoding: data, as: UTF8.self)) }
        } else {
            print("done: \(trainer.completedSteps) steps, state hash \(hash)" + (checkpoint.map { ", checkpoint \($0)" } ?? ""))
        }
    }

    private func format(_ x: Float) -> String { String(format: "%.4f", x) }
}
