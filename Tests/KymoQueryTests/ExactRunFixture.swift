import KymoEngine
@testable import KymoQuery

/// Small runs recorded completely (ExactRunData), shared by the executor tests (built once).
enum ExactRunFixture {
    static let data = SyntheticData.dataset(count: 600, featureCount: 16, classCount: 4, seed: 7)

    static func config(seed: UInt64, optimizer: OptimizerKind = .momentum) -> TrainingConfig {
        TrainingConfig(data: "synthetic", model: try! ModelSpec(widths: [16, 12, 4]),
                       optimizer: OptimizerConfig(kind: optimizer, learningRate: 0.2), batchSize: 16, epochs: 3, seed: seed)
    }

    static func make(seed: UInt64, name: String, options: ExactRunData.Options = ExactRunData.Options(),
                     optimizer: OptimizerKind = .momentum) -> ExactRunData {
        let (train, probe) = data.split(probeFraction: 0.1, seed: 1)
        var config = config(seed: seed, optimizer: optimizer)
        if optimizer == .adam || optimizer == .adamw { config.optimizer.learningRate = 0.01; config.optimizer.weightDecay = 1e-3 }
        return try! ExactRunData(name: name, config: config, training: train, probe: probe, options: options)
    }

    static let options: ExactRunData.Options = {
        var o = ExactRunData.Options()
        o.t1Fraction = 0.1
        o.sampleTarget = 150
        o.trajectoryQuantum = 2e-3
        o.checkpointEvery = 20
        o.probeEvery = 7
        o.thresholds = [1e-3, 1e-2]
        return o
    }()

    /// Run "a" (seed 1) and run "b" (seed 2).
    static let a = make(seed: 1, name: "a", options: options)
    static let b = make(seed: 2, name: "b", options: options)
    /// Adam with L2 decay, trajectory rows every 4 steps (seed 3).
    static let adam: ExactRunData = {
        var o = options
        o.trajectoryStride = 4
        return make(seed: 3, name: "adam", options: o, optimizer: .adam)
    }()
    static var runs: RunSet { RunSet(runs: [("a", a), ("b", b)], defaultRun: "a") }

    /// Truth: Σ_t c(s,w,t) per sample over `steps` (abs: Σ|c|), oriented by `sign`.
    static func truthSums(_ run: ExactRunData, ids: [Int], steps: ClosedRange<Int>, absolute: Bool, sign: Double = 1) -> [Int: Double] {
        var sums: [Int: Double] = [:]
        for t in steps {
            for (s, sample) in run.truthBatch(step: t).enumerated() {
                for id in ids {
                    let c = Double(run.truthContribution(step: t, position: s, parameter: id))
                    sums[sample, default: 0] += absolute ? abs(c) : c * sign
                }
            }
        }
        return sums
    }
}
