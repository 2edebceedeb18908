import KymoEngine
@testable import KymoReplay

/// What an observer saw during the original run, step by step.
struct OriginalStep: Sendable {
    var step: Int
    var sampleIDs: [Int]
    var loss: Float
    var sampleLosses: [Float]
    /// trace.contribution(sample:parameter:) for `Fixture.watched`, (B, watched.count) row-major.
    var contributions: [Float]
    var gradient: [Float]
    var before: [Float]
    var after: [Float]
    var update: [Float]
}

final class CapturingObserver: StepObserver {
    let watched: [Int]
    var steps: [OriginalStep] = []
    init(watched: [Int]) { self.watched = watched }

    func observe(_ trace: StepTrace) {
        var c: [Float] = []
        for s in 0..<trace.batchSize {
            for id in watched { c.append(trace.contribution(sample: s, parameter: id)) }
        }
        steps.append(OriginalStep(
            step: trace.step, sampleIDs: Array(trace.sampleIDs), loss: trace.summary.loss,
            sampleLosses: Array(trace.sampleLosses), contributions: c, gradient: Array(trace.gradient),
            before: Array(trace.parametersBefore), after: Array(trace.parametersAfter), update: Array(trace.update)))
    }
}

/// A small run recorded once for all tests: digits, 64-32-10 with dropout, Adam, two epochs,
/// checkpoints every 7 steps, every step observed.
struct Fixture: Sendable {
    /// `ReplayBenchmark.referenceRun` (the run whose hashes the release build prints).
    static let shared = try! Fixture(optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01), dropout: 0.1)
    /// The same run with momentum SGD and no dropout (a scale shared by every weight).
    static let momentum = try! Fixture(optimizer: OptimizerConfig(kind: .momentum, learningRate: 0.05, weightDecay: 1e-4), dropout: 0)
    static let period = 7

    let config: TrainingConfig
    let training: Dataset
    let source: InMemoryCheckpointSource
    let original: [OriginalStep]
    let layout: ParameterLayout
    /// Weights of every layer and kind: fc1 weights, an fc1 bias, fc2 weights, an fc2 bias.
    let watched: [Int]

    init(optimizer: OptimizerConfig, dropout: Float) throws {
        let data = try DataSource.digits.load(seed: 3)
        training = data.split(probeFraction: 0.1, seed: 3).train
        config = TrainingConfig(data: "digits", model: try ModelSpec(layers: "64,32,10", dropout: dropout),
                                optimizer: optimizer, batchSize: 64, epochs: 2, seed: 3, probeFraction: 0.1)
        layout = ParameterLayout(config.model)
        watched = [try layout.id(named: "fc1[3,20]"), try layout.id(named: "fc1[17,36]"), try layout.id(named: "fc1.bias[5]"),
                   try layout.id(named: "fc2[2,7]"), try layout.id(named: "fc2[9,31]"), try layout.id(named: "fc2.bias[0]")]
        let observer = CapturingObserver(watched: watched)
        source = try InMemoryCheckpointSource.record(config: config, training: training, every: Self.period, observer: observer)
        original = observer.steps
    }

    var replayer: SegmentReplayer { try! SegmentReplayer(source: source, training: training) }
    var totalSteps: Int { original.count }
}
