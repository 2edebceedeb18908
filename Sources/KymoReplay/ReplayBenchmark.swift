import KymoEngine

/// Replay as the separate Benchmarks package sees it (it cannot use `package` API): a run of
/// `segments` segments of `segmentSteps` steps each on a synthetic data set, recorded with a
/// checkpoint at every segment boundary, then trained again or replayed segment by segment.
public final class ReplayBenchmark: Sendable {
    let source: InMemoryCheckpointSource
    let replayer: SegmentReplayer
    let probeWeight: Int
    public let segmentSteps: Int
    public let segmentCount: Int

    /// Trains the original run (`segments × segmentSteps` steps, SGD η = 0.01, one thread) on
    /// `samples` samples of the engine's synthetic generator with the model's widths.
    /// - Complexity: O(samples · features + segments · segmentSteps · B · P).
    public init(layers: String = "784,512,256,10", samples: Int = 4096, batch: Int = 64, segmentSteps: Int,
                segments: Int = 2, seed: UInt64 = 1) throws {
        let spec = try ModelSpec(layers: layers)
        let training = SyntheticData.dataset(count: samples, featureCount: spec.widths[0],
                                             classCount: spec.widths[spec.widths.count - 1], seed: seed)
        let config = TrainingConfig(data: "synthetic:\(samples):\(spec.widths[0]):\(spec.widths.last!)", model: spec,
                                    optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.01),
                                    batchSize: batch, epochs: 1000, seed: seed, threads: 1, probeFraction: 0)
        source = try InMemoryCheckpointSource.record(config: config, training: training, steps: segments * segmentSteps,
                                                     every: segmentSteps, recordSteps: true)
        replayer = try SegmentReplayer(source: source, training: training)
        probeWeight = ParameterLayout(spec).layers[1].weightOffset + 7
        self.segmentSteps = segmentSteps
        segmentCount = segments
    }

    /// The original training of segment `index`: restores its checkpoint into a plain trainer (no
    /// observer, no verification) and runs its steps.
    /// - Complexity: O(segmentSteps · B · P).
    public func train(segment index: Int) throws {
        let state = source.states[index]
        let trainer = try Trainer(state: state, training: replayer.training, threads: 1)
        for _ in 0..<segmentSteps { try trainer.step() }
    }

    /// What a benchmark replay computes on the way.
    public enum Probe: Sendable {
        /// Nothing: no observer is attached.
        case none
        /// One batch-gradient value per step: the engine's observer cost with almost no probe work.
        case minimal
        /// Question 1's exact answer: the top 10 samples by |contribution| to one fc2 weight, plus
        /// per-step and per-sample losses.
        case question1
    }

    /// Replays segments `segments` with verification (restored and final hashes, recorded batches
    /// and losses) on `parallelism` workers, computing `probe` on the way. Returns the number of
    /// steps observed by a probe (0 for `.none`).
    /// - Complexity: O(steps · B · P) over `parallelism` threads.
    @discardableResult
    public func replay(segments: Range<Int>, parallelism: Int, probe: Probe = .question1) throws -> Int {
        var request = ReplayRequest(steps: (segments.lowerBound * segmentSteps)..<(segments.upperBound * segmentSteps))
        request.parallelism = parallelism
        switch probe {
        case .none:
            break
        case .minimal:
            request.gradientIDs = [probeWeight]
        case .question1:
            request.topSamples = [TopSamplesQuery(parameter: probeWeight, k: 10, ranking: .absolute)]
            request.losses = true
        }
        let result = try replayer.replay(request)
        return max(result.losses.count, result.gradients.count)
    }
}

extension ReplayBenchmark {
    /// Checkpoint hashes (steps 0, 7, 14, …, 52) of a reference run: digits with a 10 % probe split,
    /// 64-32-10 ReLU with dropout 0.1, Adam η = 0.01, batch 64, seed 3, two epochs. The ratio suite
    /// prints them from a release build; KymoReplayTests compares a debug build's with them, so a
    /// difference between the builds' arithmetic is caught.
    /// - Complexity: two epochs of the digits run.
    public static func referenceRunHashes() throws -> [UInt64] {
        try referenceRun().listedHashes
    }

    static func referenceRunConfig() throws -> (TrainingConfig, Dataset) {
        let data = try DataSource.digits.load(seed: 3)
        let training = data.split(probeFraction: 0.1, seed: 3).train
        let config = TrainingConfig(data: "digits", model: try ModelSpec(layers: "64,32,10", dropout: 0.1),
                                    optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01),
                                    batchSize: 64, epochs: 2, seed: 3, probeFraction: 0.1)
        return (config, training)
    }

    static func referenceRun(observer: (any StepObserver)? = nil) throws -> InMemoryCheckpointSource {
        let (config, training) = try referenceRunConfig()
        return try InMemoryCheckpointSource.record(config: config, training: training, every: 7, observer: observer)
    }
}
