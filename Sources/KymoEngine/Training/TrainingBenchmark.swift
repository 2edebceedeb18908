/// The engine as the separate Benchmarks package sees it (it cannot use `package` API): a trainer
/// on a synthetic data set, stepped with or without a factor-collecting observer.
public final class TrainingBenchmark {
    let trainer: Trainer

    /// A run of `layers` ("784,512,256,10") on `samples` samples of `SyntheticData` (seed `seed`),
    /// plain SGD at η = 0.01.
    /// With `collectFactors`, an observer is attached that reads every layer's factors and the
    /// per-sample norms (what the recorder receives) without copying them, so the difference
    /// measures the engine's cost of exposing the factors. By default it asks for the full O(P)
    /// pre-update snapshot and lets the trainer store g and Δw in its own buffers (the worst
    /// case); `recorderLike` makes it behave as the recorder's observer does: it lends g/Δw
    /// buffers, 16 pairs in turn (the recorder's pipeline reuses its most recently freed slot
    /// first; in turn is the colder case), and asks for 1,000 pre-update values only.
    /// - Complexity: O(samples · features + P).
    public init(layers: String, samples: Int, batch: Int = 64, threads: Int = 1,
                collectFactors: Bool, recorderLike: Bool = false, seed: UInt64 = 1) throws {
        let spec = try ModelSpec(layers: layers)
        let (features, classes) = (spec.widths[0], spec.widths[spec.widths.count - 1])
        let data = SyntheticData.dataset(count: samples, featureCount: features, classCount: classes, seed: seed)
        let config = TrainingConfig(data: "synthetic", model: spec,
                                    optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.01),
                                    batchSize: batch, epochs: 1_000_000, seed: seed, threads: threads, probeFraction: 0)
        trainer = try Trainer(config: config, training: data)
        if collectFactors {
            let count = trainer.layout.count
            trainer.observer = recorderLike
                ? FactorTouchingObserver(lent: (0..<16).map { _ in LentStepBuffers(count: count) },
                                         beforeIds: (0..<1000).map { $0 * (count / 1000) })
                : FactorTouchingObserver(lent: [], beforeIds: nil)
        }
    }

    /// Steps per epoch of this run.
    public var stepsPerEpoch: Int { trainer.stepsPerEpoch }

    /// Repeats `count` times the work an observer adds to one step (parameter snapshot, trace
    /// with per-sample norms, the observer call), without training; not the store of Δw that
    /// the optimizer's pass makes only for an observer (the full-step ratios include it).
    /// - Complexity: O(count · (P + B · Σ widths)).
    public func collectFactorsOnly(times count: Int) {
        for _ in 0..<count { trainer.repeatFactorCollection() }
    }

    /// Runs `count` steps on a copy of this run's configuration and returns, per Dense layer,
    /// the fraction of exactly zero entries of δ (the per-sample output gradients) and of the
    /// layer's input a, averaged over the steps: how much of each product the zero-skipping
    /// kernels can leave out.
    /// - Complexity: O(count · B · P).
    public func zeroFractions(steps count: Int) throws -> (delta: [Double], input: [Double]) {
        let counter = ZeroCountingObserver()
        let twin = try Trainer(config: trainer.config, training: trainer.training)
        twin.observer = counter
        for _ in 0..<count { try twin.step() }
        let total = Double(max(counter.steps, 1))
        return (counter.deltaZeros.map { $0 / total }, counter.inputZeros.map { $0 / total })
    }

    /// Runs `count` steps; returns the last loss.
    /// - Complexity: O(count · B · P).
    @discardableResult
    public func run(steps count: Int) throws -> Float {
        var loss: Float = 0
        for _ in 0..<count { loss = try trainer.step().loss }
        return loss
    }
}

/// Reads one value from each factor so the trace cannot be optimized away.
private final class FactorTouchingObserver: StepObserver {
    var sink: Float = 0
    let lent: [LentStepBuffers]
    var next = 0
    let parametersBeforeIds: [Int]?

    init(lent: [LentStepBuffers], beforeIds: [Int]?) {
        self.lent = lent
        parametersBeforeIds = beforeIds
    }

    func buffersForNextStep(parameterCount: Int) -> LentStepBuffers? {
        guard !lent.isEmpty else { return nil }
        next = (next + 1) % lent.count
        return lent[next]
    }

    func observe(_ trace: StepTrace) {
        for layer in trace.layers { sink += layer.inputs[0] + layer.outputGradients[0] }
        sink += trace.sampleGradientNorms[0] + trace.parametersBefore[0]
    }
}

/// Sums, per layer, the fraction of exact zeros in δ and a of every step.
private final class ZeroCountingObserver: StepObserver {
    var steps = 0
    var deltaZeros: [Double] = []
    var inputZeros: [Double] = []
    var parametersBeforeIds: [Int]? { [] }
    func observe(_ trace: StepTrace) {
        if deltaZeros.isEmpty {
            deltaZeros = Array(repeating: 0, count: trace.layers.count)
            inputZeros = deltaZeros
        }
        for (l, layer) in trace.layers.enumerated() {
            deltaZeros[l] += Double(layer.outputGradients.count { $0 == 0 }) / Double(layer.outputGradients.count)
            inputZeros[l] += Double(layer.inputs.count { $0 == 0 }) / Double(layer.inputs.count)
        }
        steps += 1
    }
}
