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

    @Option(help: "Data source: digits, synthetic[:COUNT[:FEATURES[:CLASSES]]], idx:DIR, csv:PATH, npy:X.npy,Y.npy.")
    var data: String?
    @Option(help: "Layer widths, input first (default: FEATURES,32,CLASSES, i.e. 64,32,10 for digits).")
    var layers: String?
    @Option(help: "Hidden activation: relu or tanh.")
    var activation: Activation?
    @Option(help: "Dropout probability after each hidden layer.")
    var dropout: Float?
    @Option(help: "sgd, momentum, nesterov, adam or adamw.")
    var optimizer: OptimizerKind?
    @Option(help: "Base learning rate.")
    var lr: Float?
    @Option(help: "Momentum μ (momentum, nesterov).")
    var momentum: Float?
    @Option(name: .customLong("weight-decay"), help: "Weight decay λ.")
    var weightDecay: Float?
    @Option(help: "constant, step:EVERY:GAMMA, cosine[:MIN], warmup:N[+SCHEDULE].")
    var schedule: String?
    @Option(help: "Batch size (default 64).")
    var batch: Int?
    @Option(help: "Epochs (default 10).")
    var epochs: Int?
    @Option(help: "Run seed (default 1).")
    var seed: UInt64?
    @Option(help: "GEMM threads; results are identical for any value.")
    var threads: Int?
    @Option(name: .customLong("probe-fraction"), help: "Fraction held out as the probe set (default 0.1).")
    var probeFraction: Double?
    @Option(help: "JSON config file (see docs/README-engine.md).")
    var config: String?
    @Option(help: "Write a checkpoint here after every epoch and at the end (atomically).")
    var checkpoint: String?
    @Option(help: "Resume from this checkpoint.")
    var resume: String?
    @Flag(help: "Print a machine-readable JSON summary instead of the log.")
    var json = false

    func validate() throws {
        if resume != nil {
            let conflicting: [(String, Bool)] = [
                ("--data", data != nil), ("--layers", layers != nil), ("--activation", activation != nil),
                ("--dropout", dropout != nil), ("--optimizer", optimizer != nil), ("--lr", lr != nil),
                ("--momentum", momentum != nil), ("--weight-decay", weightDecay != nil), ("--schedule", schedule != nil),
                ("--batch", batch != nil), ("--seed", seed != nil), ("--probe-fraction", probeFraction != nil),
                ("--config", config != nil),
            ]
            if let (name, _) = conflicting.first(where: { $0.1 }) {
                throw ValidationError("\(name) cannot be combined with --resume: the checkpoint holds the run's config")
            }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        do {
            let session = try resume.map { try TrainingSession(resuming: $0, epochs: epochs, threads: threads ?? 1) }
                ?? TrainingSession(config: try makeConfig(), inferLayers: !layersGiven())
            try TrainReporter(session: session, json: json, checkpoint: checkpoint).run()
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func layersGiven() -> Bool {
        if layers != nil { return true }
        guard let config, let data = FileManager.default.contents(atPath: config),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["layers"] != nil
    }

    private func makeConfig() throws(EngineError) -> TrainingConfig {
        var result = TrainingConfig(model: try ModelSpec(layers: "64,32,10"))
        if let config {
            guard let bytes = FileManager.default.contents(atPath: config) else {
                throw .io(path: config, message: "cannot read the config file")
            }
            do { result = try JSONDecoder().decode(TrainingConfig.self, from: bytes) } catch {
                throw .invalidSpec("\(config): \(error)")
            }
        }
        if let data { result.data = data }
        if layers != nil || activation != nil || dropout != nil {
            result.model = try ModelSpec(layers: layers ?? result.model.layersText,
                                         activation: activation ?? result.model.activation,
                                         dropout: dropout ?? result.model.dropout)
        }
        if let optimizer { result.optimizer.kind = optimizer }
        if let lr { result.optimizer.learningRate = lr }
        if let momentum { result.optimizer.momentum = momentum }
        if let weightDecay { result.optimizer.weightDecay = weightDecay }
        if let schedule { result.schedule = try LearningRateSchedule(parsing: schedule) }
        if let batch { result.batchSize = batch }
        if let epochs { result.epochs = epochs }
        if let seed { result.seed = seed }
        if let threads { result.threads = threads }
        if let probeFraction { result.probeFraction = probeFraction }
        return result
    }
}

extension Activation: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

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
                    let width = 30
                    let filled = width * done / max(total, 1)
                    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                    print("\repoch \(step.epoch + 1)/\(trainer.config.epochs) [\(bar)] \(done)/\(total) loss \(format(step.loss))", terminator: "")
                    fflush(nil)
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

extension Duration {
    fileprivate var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
