import Dispatch
import KymoCore
import KymoEngine

/// Re-executes segments of a recorded run bit for bit from its checkpoints, verifies every
/// checkpoint it passes, and computes exact values on the way (`ReplayRequest` → `ReplayResult`).
///
/// **Plan.** Steps `A..<B` are cut at the checkpoints into segments: the first starts at the newest
/// checkpoint at or before A, each later one at a checkpoint, the last ends at B (or, with
/// `verifyThroughNextCheckpoint`, at the next checkpoint). Steps before A run unobserved.
///
/// **Verification.** Each restored checkpoint must hash to its listed hash and carry the run's
/// config, data-set fingerprint and random keys; the data set given must be the run's. After a
/// segment that ends at a checkpoint, the replayed state's `contentHash` must equal the listed one.
/// When the source recorded the steps (T0), each replayed batch's sample ids and loss (and the
/// per-step state hash, when kept) are compared bit for bit before moving on, so a divergence is
/// named at the first step whose loss or hash differs rather than at the next checkpoint.
///
/// **Parallelism.** Segments are grouped into `parallelism` contiguous runs of about equal length;
/// each group restores its own first checkpoint and replays on its own thread with one GEMM
/// thread (unless `trainerThreads` says otherwise). Groups' observations concatenate in step
/// order, and every per-sample total is summed in step order after the merge, so the result is
/// identical to a sequential replay. Of several failing groups, the earliest's error is reported,
/// the one a sequential replay would stop at.
package struct SegmentReplayer: Sendable {
    package let source: any CheckpointSource
    package let training: Dataset
    package let layout: ParameterLayout
    /// Steps of the whole run.
    package let totalStepCount: Int

    /// - Throws: `ReplayError.datasetMismatch` when `training` is not the run's data set.
    /// - Complexity: O(count × featureCount) (the fingerprint).
    package init(source: any CheckpointSource, training: Dataset) throws(ReplayError) {
        let fingerprint = training.fingerprint
        guard fingerprint == source.datasetFingerprint, training.count == source.datasetCount else {
            throw .datasetMismatch(expectedFingerprint: source.datasetFingerprint, expectedCount: source.datasetCount,
                                   foundFingerprint: fingerprint, foundCount: training.count, name: training.name)
        }
        self.source = source
        self.training = training
        layout = ParameterLayout(source.runConfig.model)
        let batch = source.runConfig.batchSize
        totalStepCount = (training.count + batch - 1) / batch * source.runConfig.epochs
    }

    /// Loads the run's training set the way `kymo train` does (`DataSource(parsing: config.data)`,
    /// then the probe split by the run's seed) and checks it against the run's fingerprint.
    /// - Throws: `ReplayError.engine` when the data cannot be loaded, `.datasetMismatch` when it
    ///   changed since the run.
    /// - Complexity: O(data size).
    package init(source: any CheckpointSource) throws(ReplayError) {
        let config = source.runConfig
        let data: Dataset
        do { data = try DataSource(parsing: config.data).load(seed: config.seed) } catch { throw .engine(error) }
        try self.init(source: source, training: data.split(probeFraction: config.probeFraction, seed: config.seed).train)
    }

    /// Steps per epoch of the run (the last batch of an epoch may be smaller).
    /// - Complexity: O(1).
    package var stepsPerEpoch: Int { (training.count + source.runConfig.batchSize - 1) / source.runConfig.batchSize }

    /// The steps of epoch `epoch` (0-based), for `kymo replay --epoch X` and question 1.
    /// - Throws: `ReplayError.invalidRequest` when the run has no such epoch.
    /// - Complexity: O(1).
    package func steps(ofEpoch epoch: Int) throws(ReplayError) -> Range<Int> {
        guard epoch >= 0, epoch < source.runConfig.epochs else {
            throw .invalidRequest("epoch \(epoch) is not in the run's 0..<\(source.runConfig.epochs)")
        }
        return (epoch * stepsPerEpoch)..<((epoch + 1) * stepsPerEpoch)
    }

    // MARK: - Planning

    /// The segments a request executes, in order, and how they are grouped over workers.
    package struct Plan: Sendable, Equatable {
        package var segments: [Range<Int>]
        /// Contiguous groups of segment indices, one per worker.
        package var groups: [Range<Int>]
        /// The steps observed (the request's A..<B).
        package var observed: Range<Int>
        /// - Complexity: O(segments).
        package var executedSteps: Int { segments.reduce(0) { $0 + $1.count } }
    }

    /// - Throws: `ReplayError.invalidRequest` for an empty or out-of-range step range, a bad id or
    ///   k; `.noCheckpoint` when nothing precedes A.
    /// - Complexity: O(checkpoints + ids).
    package func plan(_ request: ReplayRequest) throws(ReplayError) -> Plan {
        let range = request.steps
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= totalStepCount else {
            throw .invalidRequest("steps \(range.lowerBound)..<\(range.upperBound) are not a non-empty part of the run's 0..<\(totalStepCount)")
        }
        let ids = request.contributionIDs + request.gradientIDs + request.trajectoryIDs
            + request.topSamples.map(\.parameter) + request.zeroCrossings.map(\.parameter)
        if let bad = ids.first(where: { $0 < 0 || $0 >= layout.count }) {
            throw .invalidRequest("parameter id \(bad) is not in 0..<\(layout.count)")
        }
        if let bad = request.topSamples.map(\.k).first(where: { $0 < 1 }) ?? request.zeroCrossings.map(\.k).first(where: { $0 < 1 }) {
            throw .invalidRequest("k must be at least 1, got \(bad)")
        }
        guard request.parallelism >= 1, request.trainerThreads >= 1 else {
            throw .invalidRequest("parallelism and trainer threads must be positive")
        }
        guard let start = source.checkpoint(atOrBefore: range.lowerBound) else { throw .noCheckpoint(atOrBefore: range.lowerBound) }
        let checkpointSteps = source.checkpoints.map(\.step)
        var end = range.upperBound
        if request.verifyThroughNextCheckpoint, let next = checkpointSteps.first(where: { $0 >= end }) { end = next }
        var bounds = [start.step]
        for c in checkpointSteps where c > start.step && c < end { bounds.append(c) }
        bounds.append(end)
        let segments = (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
        return Plan(segments: segments, groups: Self.group(segments, into: request.parallelism), observed: range)
    }

    /// Contiguous groups of about equal step counts (each non-empty).
    static func group(_ segments: [Range<Int>], into workers: Int) -> [Range<Int>] {
        let w = min(workers, segments.count)
        let total = segments.reduce(0) { $0 + $1.count }
        var groups: [Range<Int>] = []
        var start = 0
        var done = 0
        for g in 0..<w {
            if g == w - 1 { groups.append(start..<segments.count); break }
            let target = total * (g + 1) / w
            var end = start + 1
            done += segments[start].count
            // Leave at least one segment for each remaining group.
            while end < segments.count - (w - 1 - g), done + segments[end].count / 2 < target {
                done += segments[end].count
                end += 1
            }
            groups.append(start..<end)
            start = end
        }
        return groups
    }

    // MARK: - Replay

    /// Replays the request's steps and returns its exact values.
    /// - Throws: `ReplayError` (see the type's doc): the earliest failure in step order.
    /// - Complexity: O(executed steps · B · P) over `parallelism` threads, plus O(P) per checkpoint
    ///   and what the probes add: O(B·ids) per step for contributions, O(P·thresholds) for counts.
    package func replay(_ request: ReplayRequest) throws(ReplayError) -> ReplayResult {
        let plan = try plan(request)
        let outcomes = GroupOutcomes(count: plan.groups.count)
        if plan.groups.count == 1 {
            outcomes.set(0, runGroup(plan.groups[0], plan: plan, request: request))
        } else {
            DispatchQueue.concurrentPerform(iterations: plan.groups.count) { g in
                outcomes.set(g, runGroup(plan.groups[g], plan: plan, request: request))
            }
        }
        var parts: [SegmentObservations] = []
        var verified: [Int] = []
        for outcome in outcomes.values {
            switch outcome! {
            case let .failure(error): throw error
            case let .success(group):
                parts += group.observations
                verified += group.verified
            }
        }
        return Self.merge(parts, request: request, plan: plan, verified: verified)
    }

    private struct GroupResult: Sendable {
        var observations: [SegmentObservations]
        var verified: [Int]
    }

    private final class GroupOutcomes: @unchecked Sendable {
        // Each index is written by exactly one worker before concurrentPerform returns.
        var values: [Result<GroupResult, ReplayError>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: Result<GroupResult, ReplayError>) { values[i] = value }
    }

    /// Restores the group's first checkpoint and replays its segments in order.
    private func runGroup(_ group: Range<Int>, plan: Plan, request: ReplayRequest) -> Result<GroupResult, ReplayError> {
        do throws(ReplayError) {
            let first = plan.segments[group.lowerBound]
            let trainer = try restore(at: first.lowerBound, segment: first, threads: request.trainerThreads)
            let observer = ProbeObserver(request: request, layout: layout)
            var result = GroupResult(observations: [], verified: [])
            for index in group {
                let segment = plan.segments[index]
                try run(trainer, segment: segment, observed: request.needsObserver ? plan.observed : 0..<0, observer: observer)
                result.observations.append(observer.take())
                if let listed = source.checkpoints.first(where: { $0.step == segment.upperBound }) {
                    let replayed = trainer.state.contentHash
                    guard replayed == listed.contentHash else {
                        throw .diverged(firstDivergentStep: segment.upperBound, segment: segment, message: divergenceDetail(
                            checkpoint: listed, replayed: replayed, segment: segment))
                    }
                    result.verified.append(listed.step)
                }
            }
            return .success(result)
        } catch {
            return .failure(error)
        }
    }

    private func divergenceDetail(checkpoint: CheckpointInfo, replayed: UInt64, segment: Range<Int>) -> String {
        let recorded = source.recordedStep(segment.upperBound - 1) != nil
        let why = recorded
            ? "every recorded batch and loss of steps \(segment.lowerBound)...\(segment.upperBound - 1) matched, so the difference is in the update of step \(segment.upperBound - 1) or in the checkpoint itself"
            : "the run recorded no per-step losses, so the divergence lies somewhere in steps \(segment.lowerBound)...\(segment.upperBound - 1)"
        return "the checkpoint at step \(checkpoint.step) lists hash \(hex(checkpoint.contentHash)) but the replayed state hashes to \(hex(replayed)); \(why)"
    }

    /// Loads the checkpoint at `step` and checks it against its listing, the run and the data set.
    private func restore(at step: Int, segment: Range<Int>, threads: Int) throws(ReplayError) -> Trainer {
        let state = try source.state(atOrBefore: step)
        guard state.completedSteps == step, let listed = source.checkpoints.first(where: { $0.step == step }) else {
            throw .corruptCheckpoint(step: step, message: "the source returned the state at step \(state.completedSteps)")
        }
        let hash = state.contentHash
        guard hash == listed.contentHash else {
            throw .corruptCheckpoint(step: step, message: "the state hashes to \(hex(hash)) but the run lists \(hex(listed.contentHash)): it was altered or damaged after it was taken")
        }
        var run = source.runConfig
        run.threads = 1
        guard state.config == run else {
            throw .configMismatch(checkpointStep: step, message: "its config (\(state.config.model.layersText), \(state.config.optimizer.kind.rawValue), seed \(state.config.seed), batch \(state.config.batchSize)) is not the run's (\(run.model.layersText), \(run.optimizer.kind.rawValue), seed \(run.seed), batch \(run.batchSize))")
        }
        let root = CounterRNG(key: run.seed)
        guard state.dataOrderRNG == root.stream(RandomStream.dataOrder) else {
            throw .dataOrderMismatch(step: step, segment: segment, message: "the checkpoint's data-order key \(hex(state.dataOrderRNG.key)) is not the one seed \(run.seed) gives")
        }
        guard state.dropoutRNG == root.stream(RandomStream.dropout) else {
            throw .configMismatch(checkpointStep: step, message: "its dropout key \(hex(state.dropoutRNG.key)) is not the one seed \(run.seed) gives")
        }
        guard state.datasetFingerprint == source.datasetFingerprint, state.datasetCount == source.datasetCount else {
            throw .datasetMismatch(expectedFingerprint: source.datasetFingerprint, expectedCount: source.datasetCount,
                                   foundFingerprint: state.datasetFingerprint, foundCount: state.datasetCount,
                                   name: "the checkpoint at step \(step)")
        }
        do { return try Trainer(state: state, training: training, threads: threads) } catch { throw .engine(error) }
    }

    /// Runs `segment`'s steps, observing those in `observed`, checking recorded batches and losses.
    private func run(_ trainer: Trainer, segment: Range<Int>, observed: Range<Int>, observer: ProbeObserver) throws(ReplayError) {
        var order: [Int] = []
        var orderEpoch = -1
        for t in segment {
            precondition(trainer.completedSteps == t)
            let recorded = source.recordedStep(t)
            if let recorded {
                if orderEpoch != trainer.epoch {
                    order = trainer.dataOrder(epoch: trainer.epoch)
                    orderEpoch = trainer.epoch
                }
                let b = min(source.runConfig.batchSize, training.count - trainer.position)
                let ids = Array(order[trainer.position..<(trainer.position + b)])
                if ids != recorded.sampleIDs {
                    let at = zip(ids, recorded.sampleIDs).enumerated().first { $0.element.0 != $0.element.1 }
                    let where_ = at.map { "batch position \($0.offset) holds sample \($0.element.0), the run recorded \($0.element.1)" }
                        ?? "the batch has \(ids.count) samples, the run recorded \(recorded.sampleIDs.count)"
                    throw .dataOrderMismatch(step: t, segment: segment, message: where_)
                }
            }
            trainer.observer = observed.contains(t) ? observer : nil
            let summary: StepSummary
            do { summary = try trainer.step() } catch { throw .engine(error) }
            if let recorded, summary.loss.bitPattern != recorded.loss.bitPattern {
                throw .diverged(firstDivergentStep: t, segment: segment, message:
                    "step \(t) replays loss \(summary.loss) but the run recorded \(recorded.loss) (same batch), so the weights it started from differ; the steps before it reproduced their recorded losses")
            }
            if let expected = recorded?.stateHash {
                let replayed = trainer.state.contentHash
                if replayed != expected {
                    throw .diverged(firstDivergentStep: t + 1, segment: segment, message:
                        "the state after step \(t) hashes to \(hex(replayed)) but the run recorded \(hex(expected)); its loss and every earlier recorded step matched")
                }
            }
        }
        trainer.observer = nil
    }

    // MARK: - Merge

    static func merge(_ parts: [SegmentObservations], request: ReplayRequest, plan: Plan, verified: [Int]) -> ReplayResult {
        var all = SegmentObservations(request: request)
        for part in parts {
            all.contributions.append(part.contributions)
            all.gradients += part.gradients
            all.gradientCounts += part.gradientCounts
            if all.trajectoryInitial == nil { all.trajectoryInitial = part.trajectoryInitial }
            all.trajectory += part.trajectory
            all.losses += part.losses
            if !part.change.isEmpty {
                if all.change.isEmpty {
                    all.change = part.change
                    all.absoluteChange = part.absoluteChange
                } else {
                    for i in all.change.indices {
                        all.change[i] += part.change[i]
                        all.absoluteChange[i] += part.absoluteChange[i]
                    }
                }
            }
            for q in request.zeroCrossings.indices {
                if all.crossingInitial[q] == nil { all.crossingInitial[q] = part.crossingInitial[q] }
                if all.crossings[q] == nil { all.crossings[q] = part.crossings[q] }
            }
        }
        let table = all.contributions
        let tops = request.topSamples.map { query in
            let column = table.column(of: query.parameter)!
            let totals = sampleTotals(table, column: column, rows: 0..<table.rowCount)
            return TopSamples(query: query, samples: best(totals, k: query.k, ranking: query.ranking))
        }
        let zeros = request.zeroCrossings.enumerated().map { q, query in
            let column = table.column(of: query.parameter)!
            let crossing = all.crossings[q]
            let rowEnd = crossing.map { c in table.steps.firstIndex { $0 > c.step } ?? table.rowCount } ?? table.rowCount
            let initial = all.crossingInitial[q] ?? 0
            let totals = sampleTotals(table, column: column, rows: 0..<rowEnd)
            let toward: [SampleContribution] = initial > 0 ? best(totals, k: query.k, ranking: .smallest)
                : initial < 0 ? best(totals, k: query.k, ranking: .largest) : []
            return ZeroCrossing(
                query: query, step: crossing?.step, initialValue: initial, valueBefore: crossing?.before,
                valueAfter: crossing?.after, steps: Array(table.steps[0..<rowEnd]), samples: Array(table.samples[0..<rowEnd]),
                contributions: (0..<rowEnd).map { table.value(row: $0, column: column) },
                towardZero: toward.filter { initial > 0 ? $0.total < 0 : $0.total > 0 })
        }
        return ReplayResult(
            request: request, segments: plan.segments, verifiedCheckpoints: verified, executedSteps: plan.executedSteps,
            contributions: table.selecting(request.contributionIDs), gradients: all.gradients,
            gradientCounts: all.gradientCounts, trajectoryInitial: all.trajectoryInitial ?? [],
            trajectory: all.trajectory, losses: all.losses,
            changeTotals: request.changeTotals ? ChangeTotals(absoluteSum: all.absoluteChange.map { Float($0) }, sum: all.change.map { Float($0) }) : nil,
            topSamples: tops, zeroCrossings: zeros)
    }

    /// Per sample, Σ over `rows` (in step order, Double) of the column's contributions; ascending by sample.
    static func sampleTotals(_ table: ContributionTable, column: Int, rows: Range<Int>) -> [SampleContribution] {
        // Rows are in step order; a stable sort by sample keeps that order within each sample.
        let sorted = rows.sorted { (table.samples[$0], $0) < (table.samples[$1], $1) }
        var out: [SampleContribution] = []
        var i = 0
        while i < sorted.count {
            let sample = table.samples[sorted[i]]
            var sum: Double = 0
            var n = 0
            while i < sorted.count, table.samples[sorted[i]] == sample {
                sum += Double(table.value(row: sorted[i], column: column))
                n += 1
                i += 1
            }
            out.append(SampleContribution(sample: sample, total: Float(sum), occurrences: n))
        }
        return out
    }

    /// The k best totals by `ranking`, ties by ascending sample id.
    static func best(_ totals: [SampleContribution], k: Int, ranking: ContributionRanking) -> [SampleContribution] {
        func key(_ c: SampleContribution) -> Float {
            switch ranking {
            case .largest: c.total
            case .smallest: -c.total
            case .absolute: abs(c.total)
            }
        }
        return Array(totals.sorted { key($0) != key($1) ? key($0) > key($1) : $0.sample < $1.sample }.prefix(k))
    }
}
