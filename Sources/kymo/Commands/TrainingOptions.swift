import ArgumentParser
import Foundation
import KymoEngine

/// The help text that differs between the commands sharing `TrainingOptions`.
protocol TrainingOptionsHelp {
    /// Help for `--layers`.
    static var layers: String { get }
}

/// `kymo train`'s wording.
enum TrainHelp: TrainingOptionsHelp {
    static let layers = "Layer widths, input first (default: FEATURES,32,CLASSES, i.e. 64,32,10 for digits)."
}

/// `kymo record`'s wording.
enum RecordHelp: TrainingOptionsHelp {
    static let layers = "Layer widths, input first (default: FEATURES,32,CLASSES)."
}

/// The training options of `kymo train` and `kymo record` and the config they build: options
/// override the --config file, which overrides the defaults.
struct TrainingOptions<Help: TrainingOptionsHelp>: ParsableArguments {
    @Option(help: "Data source: digits, synthetic[:COUNT[:FEATURES[:CLASSES]]], idx:DIR, csv:PATH, npy:X.npy,Y.npy.")
    var data: String?
    @Option(help: ArgumentHelp(Help.layers))
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

    /// Checks the options; with `resume` set, only --epochs and --threads may be given (the
    /// checkpoint holds the run's config). Called from the commands' `validate()` so the order of
    /// the checks (and so the error reported first) stays theirs.
    func check(resume: String?) throws {
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

    /// A new session for the config these options build (the layers are inferred from the data
    /// unless --layers or the config file names them).
    func makeSession() throws(EngineError) -> TrainingSession {
        try TrainingSession(config: try makeConfig(), inferLayers: !layersGiven())
    }

    private func layersGiven() -> Bool {
        if layers != nil { return true }
        guard let config, let data = FileManager.default.contents(atPath: config),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["layers"] != nil
    }

    /// Defaults, then the --config file, then the options.
    func makeConfig() throws(EngineError) -> TrainingConfig {
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
