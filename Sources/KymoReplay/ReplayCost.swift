import KymoEngine

/// What a replay will cost, for the planner to print (`--explain`) and to compare with other
/// sources: steps × seconds per step, sequentially and over the workers.
package struct ReplayCost: Sendable, Equatable, CustomStringConvertible {
    /// Steps executed, including those between the start checkpoint and A.
    package var executedSteps: Int
    /// Steps observed (A..<B).
    package var observedSteps: Int
    package var segments: Int
    /// Worker threads (contiguous groups of segments); each restores one checkpoint.
    package var workers: Int
    package var secondsPerStep: Double
    /// True when `secondsPerStep` was timed on this machine, false when modelled from FLOPs.
    package var measured: Bool
    /// executedSteps × secondsPerStep.
    package var sequentialSeconds: Double
    /// The longest group's steps × secondsPerStep.
    package var parallelSeconds: Double

    package var description: String {
        let perStep = (secondsPerStep * 1e5).rounded() / 100
        return "replay: \(executedSteps) steps (\(observedSteps) observed) in \(segments) segment\(segments == 1 ? "" : "s") on \(workers) worker\(workers == 1 ? "" : "s"): ≈ \(seconds(parallelSeconds)) (\(seconds(sequentialSeconds)) sequential) at \(perStep) ms/step \(measured ? "measured" : "modelled")"
    }

    private func seconds(_ s: Double) -> String { "\((s * 100).rounded() / 100) s" }
}

/// The replay cost model, shared by `SegmentReplayer.estimateCost` and the query planner: a
/// measured plain step time where the run recorded one, otherwise a FLOP model calibrated on this
/// machine; plus restoring a checkpoint and loading the data set.
package enum ReplayCostModel {
    /// Sustained FLOP rate of one core in the engine's GEMMs (AVX2 FMA, measured ≈ 100 GFLOP/s on
    /// the 2-core development machine).
    package static let flopsPerSecond: Double = 100e9
    /// Element-wise passes per parameter and step (optimizer update, gradient zeroing, bias sums):
    /// about 2 ns per parameter.
    package static let secondsPerParameterPass: Double = 2e-9
    /// Fixed per-step overhead (batch gather, loss, bookkeeping).
    package static let secondsPerStepOverhead: Double = 20e-6
    /// Reading and decoding checkpoint/data bytes.
    package static let bytesPerSecond: Double = 400e6

    /// FLOPs of one training step of an MLP with `widths` on a batch of `batch`: forward
    /// (2·B·in·out per layer), weight gradient (2·B·in·out) and input gradient (2·B·in·out, not for
    /// the first layer): 6·B·Σ in·out − 2·B·in₁·out₁.
    /// - Complexity: O(layers).
    package static func flopsPerStep(widths: [Int], batch: Int) -> Double {
        guard widths.count >= 2 else { return 0 }
        var sum = 0.0
        for l in 0..<(widths.count - 1) { sum += Double(widths[l] * widths[l + 1]) }
        return Double(batch) * (6 * sum - 2 * Double(widths[0] * widths[1]))
    }

    /// Modelled seconds of one step: FLOPs at `flopsPerSecond`, plus element-wise passes over the P
    /// parameters and a fixed overhead.
    /// - Complexity: O(layers).
    package static func secondsPerStep(widths: [Int], batch: Int) -> Double {
        let p = Double(ParameterLayout(widths: widths).count)
        return flopsPerStep(widths: widths, batch: batch) / flopsPerSecond + p * secondsPerParameterPass + secondsPerStepOverhead
    }

    /// The step time to plan with: the measured plain step (seconds) when the run recorded one,
    /// else the FLOP model.
    /// - Complexity: O(layers).
    package static func secondsPerStep(measured: Double?, widths: [Int], batch: Int) -> Double {
        if let measured, measured > 0, measured.isFinite { return measured }
        return secondsPerStep(widths: widths, batch: batch)
    }

    /// The layer widths [in₁, out₁, out₂, …] of `layout`.
    /// - Complexity: O(layers).
    package static func widths(of layout: ParameterLayout) -> [Int] {
        guard let first = layout.layers.first else { return [] }
        return [first.inFeatures] + layout.layers.map(\.outFeatures)
    }

    /// Restoring one checkpoint of P parameters with S optimizer floats each (read, hash, decode).
    /// - Complexity: O(1).
    package static func restoreSeconds(parameters: Int, stateFloats: Int = 1) -> Double {
        Double(parameters * (1 + stateFloats) * 4) * 2 / bytesPerSecond + 1e-3
    }

    /// Loading the data set (decode or generate to Float32, fingerprint, probe split): measured
    /// ≈ 0.7 s for 100,000 × 784 (synthetic), i.e. ≈ 450 MB/s of Float32 features, plus opening
    /// the run for replay (its T0 log, a second reader: ≈ 20 ms on the digits runs).
    /// - Complexity: O(1).
    package static func dataLoadSeconds(samples: Int, features: Int) -> Double {
        Double(samples * features * 4) / dataBytesPerSecond + 20e-3
    }

    /// Float32 data-set bytes loaded per second (see `dataLoadSeconds`).
    package static let dataBytesPerSecond: Double = 450e6
}

extension SegmentReplayer {
    /// Kept for callers: `ReplayCostModel.flopsPerSecond`.
    package static var modelledFlopsPerSecond: Double { ReplayCostModel.flopsPerSecond }

    /// A step's cost from `ReplayCostModel` (6·B·Σ in·out − 2·B·in₁·out₁ FLOPs at 100 GFLOP/s, plus
    /// element-wise passes).
    /// - Complexity: O(layers).
    package static func modelledSecondsPerStep(config: TrainingConfig) -> Double {
        ReplayCostModel.secondsPerStep(widths: config.model.widths, batch: config.batchSize)
    }

    /// Times `steps` steps from the first checkpoint (after one untimed warm-up step) on one thread.
    /// - Throws: `ReplayError` when the checkpoint cannot be restored.
    /// - Complexity: O((steps + 1) · B · P).
    package func measureSecondsPerStep(steps: Int = 3) throws(ReplayError) -> Double {
        guard let first = source.checkpoints.first else { throw .noCheckpoint(atOrBefore: 0) }
        let state = try source.state(atOrBefore: first.step)
        let trainer: Trainer
        do { trainer = try Trainer(state: state, training: training, threads: 1) } catch { throw .engine(error) }
        let n = max(1, min(steps, totalStepCount - first.step - 1))
        do {
            try trainer.step()
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<n where !trainer.isFinished { try trainer.step() }
            let elapsed = clock.now - start
            let (s, atto) = elapsed.components
            return (Double(s) + Double(atto) * 1e-18) / Double(n)
        } catch {
            throw .engine(error)
        }
    }

    /// The cost of `request`: its plan's steps × `secondsPerStep` (modelled when nil), plus one
    /// checkpoint restore per worker.
    /// - Throws: what `plan(_:)` throws.
    /// - Complexity: O(checkpoints).
    package func estimateCost(_ request: ReplayRequest, secondsPerStep: Double? = nil) throws(ReplayError) -> ReplayCost {
        let plan = try plan(request)
        let perStep = secondsPerStep ?? Self.modelledSecondsPerStep(config: source.runConfig)
        let restore = ReplayCostModel.restoreSeconds(parameters: ParameterLayout(source.runConfig.model).count,
                                                     stateFloats: source.runConfig.optimizer.kind.slotCount)
        let longest = plan.groups.map { g in plan.segments[g].reduce(0) { $0 + $1.count } }.max() ?? 0
        return ReplayCost(
            executedSteps: plan.executedSteps, observedSteps: plan.observed.count, segments: plan.segments.count,
            workers: plan.groups.count, secondsPerStep: perStep, measured: secondsPerStep != nil,
            sequentialSeconds: Double(plan.executedSteps) * perStep + Double(plan.groups.count) * restore,
            parallelSeconds: Double(longest) * perStep + restore)
    }
}
