import KymoCore
@testable import KymoEngine

/// A small learnable data set: class c has mean vector μ_c (uniform in ±1), features μ_c + noise.
func syntheticDataset(count: Int, features: Int, classes: Int, seed: UInt64, name: String = "synthetic-test") -> Dataset {
    var rng = CounterRNG(key: seed)
    let means = (0..<(classes * features)).map { _ in 2 * rng.nextFloat() - 1 }
    var x = [Float](repeating: 0, count: count * features)
    var y = [Int32](repeating: 0, count: count)
    for s in 0..<count {
        let c = Int(rng.next(below: UInt64(classes)))
        y[s] = Int32(c)
        for j in 0..<features { x[s * features + j] = means[c * features + j] + 0.5 * (2 * rng.nextFloat() - 1) }
    }
    return Dataset(name: name, featureCount: features, classCount: classes, features: x, labels: y)
}

func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = CounterRNG(key: seed)
    return (0..<count).map { _ in (2 * rng.nextFloat() - 1) * scale }
}

func tinyConfig(layers: String = "6,5,3", activation: Activation = .relu, dropout: Float = 0,
                optimizer: OptimizerConfig = OptimizerConfig(kind: .sgd, learningRate: 0.1),
                schedule: LearningRateSchedule = .constant, batch: Int = 8, epochs: Int = 3,
                seed: UInt64 = 7, threads: Int = 1) throws -> TrainingConfig {
    TrainingConfig(model: try ModelSpec(layers: layers, activation: activation, dropout: dropout),
                   optimizer: optimizer, schedule: schedule, batchSize: batch, epochs: epochs,
                   seed: seed, threads: threads, probeFraction: 0)
}

/// Keeps copies of every trace it sees.
final class RecordingObserver: StepObserver {
    struct Copy {
        var summary: StepSummary
        var ids: [Int]
        var losses: [Float]
        var norms: [Float]
        var inputs: [[Float]]
        var deltas: [[Float]]
        var gradient: [Float]
        var before: [Float]
        var after: [Float]
        var update: [Float]
        var contributionsPlusDecay: [Float]
        var carried: [Float]
    }
    var copies: [Copy] = []
    var check: ((StepTrace) -> Void)?

    func observe(_ trace: StepTrace) {
        check?(trace)
        var sums = [Float](repeating: 0, count: trace.layout.count)
        var carried = [Float](repeating: 0, count: trace.layout.count)
        for id in 0..<trace.layout.count {
            var sum: Float = 0
            for s in 0..<trace.batchSize { sum += trace.contribution(sample: s, parameter: id) }
            sums[id] = sum + trace.weightDecayPart(of: id)
            carried[id] = trace.carriedPart(of: id)
        }
        copies.append(Copy(
            summary: trace.summary, ids: Array(trace.sampleIDs), losses: Array(trace.sampleLosses),
            norms: Array(trace.sampleGradientNorms),
            inputs: trace.layers.map { Array($0.inputs) }, deltas: trace.layers.map { Array($0.outputGradients) },
            gradient: Array(trace.gradient), before: Array(trace.parametersBefore),
            after: Array(trace.parametersAfter), update: Array(trace.update),
            contributionsPlusDecay: sums, carried: carried))
    }
}
