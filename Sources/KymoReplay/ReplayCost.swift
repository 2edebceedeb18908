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

extension SegmentReplayer {
    /// Sustained FLOP rate of one core on a training step (forward + backward GEMMs), used when no
    /// step has been timed. Calibrated on the 2-core development machine (AVX2 FMA).
    package static let modelledFlopsPerSecond: Double = 60e9

    /// A step's cost modelled as 6·B·P FLOPs (forward, and the two backward GEMMs) at
    /// `modelledFlopsPerSecond`.
    /// - Complexity: O(layers).
    package static func modelledSecondsPerStep(config: TrainingConfig) -> Double {
        6 * Double(config.batchSize) * Double(ParameterLayout(config.model).count) / modelledFlopsPerSecond
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

    /// The cost of `request`: its plan's steps × `secondsPerStep` (modelled when nil).
    /// - Throws: what `plan(_:)` throws.
    /// - Complexity: O(checkpoints).
    package func estimateCost(_ request: ReplayRequest, secondsPerStep: Double? = nil) throws(ReplayError) -> ReplayCost {
        let plan = try plan(request)
        let perStep = secondsPerStep ?? Self.modelledSecondsPerStep(config: source.runConfig)
        let longest = plan.groups.map { g in plan.segments[g].reduce(0) { $0 + $1.count } }.max() ?? 0
        return ReplayCost(
            executedSteps: plan.executedSteps, observedSteps: plan.observed.count, segments: plan.segments.count,
            workers: plan.groups.count, secondsPerStep: perStep, measured: secondsPerStep != nil,
            sequentialSeconds: Double(plan.executedSteps) * perStep, parallelSeconds: Double(longest) * perStep)
    }
}
