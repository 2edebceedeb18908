/// Everything that defines a training run, loadable from a JSON config file. Every key is optional
/// in the file; missing keys take the defaults below:
///
/// ```json
/// { "data": "digits", "layers": "64,32,10", "activation": "relu", "dropout": 0,
///   "optimizer": { "kind": "sgd", "learningRate": 0.05, "momentum": 0.9, "beta1": 0.9,
///                  "beta2": 0.999, "epsilon": 1e-8, "weightDecay": 0 },
///   "schedule": "constant", "batchSize": 64, "epochs": 10, "seed": 1, "threads": 1,
///   "probeFraction": 0.1 }
/// ```
///
/// `threads` is an execution setting, not part of the run: results are bit-identical for any
/// value, and checkpoints do not store it.
package struct TrainingConfig: Codable, Sendable, Equatable {
    /// DataSource text ("digits", "synthetic:100000:784:10", "idx:DIR", …).
    package var data: String = "digits"
    package var model: ModelSpec
    package var optimizer: OptimizerConfig = OptimizerConfig()
    package var schedule: LearningRateSchedule = .constant
    package var batchSize: Int = 64
    package var epochs: Int = 10
    package var seed: UInt64 = 1
    package var threads: Int = 1
    /// Fraction of the data set held out as the probe set.
    package var probeFraction: Double = 0.1

    /// - Complexity: O(1).
    package init(data: String = "digits", model: ModelSpec, optimizer: OptimizerConfig = OptimizerConfig(),
                 schedule: LearningRateSchedule = .constant, batchSize: Int = 64, epochs: Int = 10,
                 seed: UInt64 = 1, threads: Int = 1, probeFraction: Double = 0.1) {
        self.data = data
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
        self.threads = threads
        self.probeFraction = probeFraction
    }

    private enum CodingKeys: String, CodingKey {
        case data, layers, activation, dropout, optimizer, schedule, batchSize, epochs, seed, threads, probeFraction
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decodeIfPresent(String.self, forKey: .data) ?? "digits"
        let layers = try c.decodeIfPresent(String.self, forKey: .layers) ?? "64,32,10"
        let activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
        let dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        do { model = try ModelSpec(layers: layers, activation: activation, dropout: dropout) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.layers], debugDescription: error.description))
        }
        optimizer = try c.decodeIfPresent(OptimizerConfig.self, forKey: .optimizer) ?? OptimizerConfig()
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 64
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? 10
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? 1
        probeFraction = try c.decodeIfPresent(Double.self, forKey: .probeFraction) ?? 0.1
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(model.layersText, forKey: .layers)
        try c.encode(model.activation, forKey: .activation)
        try c.encode(model.dropout, forKey: .dropout)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(seed, forKey: .seed)
        try c.encode(threads, forKey: .threads)
        try c.encode(probeFraction, forKey: .probeFraction)
    }

    /// - Throws: `EngineError.invalidSpec` for a non-positive batch size, epochs or threads, a probe
    ///   fraction outside [0, 1), or an invalid optimizer.
    /// - Complexity: O(1).
    package func validate() throws(EngineError) {
        guard batchSize > 0 else { throw .invalidSpec("batch size must be positive, got \(batchSize)") }
        guard epochs > 0 else { throw .invalidSpec("epochs must be positive, got \(epochs)") }
        guard threads > 0 else { throw .invalidSpec("threads must be positive, got \(threads)") }
        guard probeFraction >= 0, probeFraction < 1 else { throw .invalidSpec("probe fraction must be in [0, 1), got \(probeFraction)") }
        try optimizer.validate()
    }
}
