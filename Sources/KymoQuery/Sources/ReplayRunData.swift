import KymoEngine
import KymoReplay
import KymoSketches
import KymoStore

/// The exact record of a replayed segment as `RunData`: a `ReplayResult` (contributions, values
/// before and after every step, per-step losses and batches of the requested weights) seen as a
/// T1 tier whose ids are exactly the replayed weights. Everything else is read from the recorded
/// run (`base`). Steps are 1-based as everywhere in the query module: query step t is replay row
/// t − 1.
package final class ReplayRunData: RunData {
    package let base: any RunData
    package private(set) var catalog: RunCatalog
    package let result: ReplayResult
    /// The observed steps, 1-based.
    package let steps: ClosedRange<Int>
    let ids: [Int]
    /// Per observed step: the first row of the contribution table.
    let firstRow: [Int]

    /// - Precondition: `result` observed `steps` (0-based rows `steps.lowerBound − 1 ..< steps.upperBound`)
    ///   with `contributionIDs` and `trajectoryIDs` both equal to `ids` (ascending) and `losses` on.
    /// - Complexity: O(rows of the contribution table).
    package init(base: any RunData, result: ReplayResult, steps: ClosedRange<Int>, ids: [Int]) {
        self.base = base
        self.result = result
        self.steps = steps
        self.ids = ids
        var catalog = base.catalog
        catalog.t1Ids = ids
        self.catalog = catalog
        var first: [Int] = []
        first.reserveCapacity(steps.count + 1)
        var row = 0
        let table = result.contributions
        for t in steps {
            while row < table.rowCount && table.steps[row] < t - 1 { row += 1 }
            first.append(row)
        }
        first.append(table.rowCount)
        firstRow = first
    }

    package func refresh() throws -> Bool { false }
    package func scalars(steps: ClosedRange<Int>) throws -> [StepScalars] { try base.scalars(steps: steps) }
    package func probe(atOrBefore step: Int) throws -> (step: Int, loss: Float, accuracy: Float)? { try base.probe(atOrBefore: step) }
    package func samples(step: Int) throws -> SampleStats {
        guard steps.contains(step) else { return try base.samples(step: step) }
        let l = result.losses[step - steps.lowerBound]
        var stats = try base.samples(step: step)
        stats.ids = l.sampleIDs
        stats.loss = l.sampleLosses
        return stats
    }
    package func batch(step: Int) throws -> [Int] {
        guard steps.contains(step) else { return try base.batch(step: step) }
        return result.losses[step - steps.lowerBound].sampleIDs
    }
    package func label(ofSample id: Int) -> Int? { base.label(ofSample: id) }
    package func epochSums(epoch e: Int) throws -> EpochSums? { try base.epochSums(epoch: e) }

    /// - Complexity: O(ids · B).
    package func t1(step: Int) throws -> T1Step? {
        guard steps.contains(step) else { return nil }
        let i = step - steps.lowerBound
        let before = i == 0 ? result.trajectoryInitial : result.trajectory[i - 1].values
        let after = result.trajectory[i].values
        let table = result.contributions
        let rows = firstRow[i]..<firstRow[i + 1]
        let b = rows.count
        var contributions = [Float](repeating: 0, count: ids.count * b)
        for (s, r) in rows.enumerated() {
            for j in 0..<ids.count { contributions[j * b + s] = table.values[r * ids.count + j] }
        }
        return T1Step(value: before, update: zip(after, before).map { $0 - $1 }, contributions: contributions)
    }

    package func aboveCounts(step: Int) throws -> [UInt32]? { try base.aboveCounts(step: step) }
    package func gradientQuantiles(step: Int) throws -> MagnitudeQuantiles? { try base.gradientQuantiles(step: step) }
    package func trajectory(index: Int) throws -> TrajectoryRow? { try base.trajectory(index: index) }
    package func contributionSample(step: Int) throws -> ContributionSampleStep? { try base.contributionSample(step: step) }
    package func contributionThreshold(step: Int) throws -> Float? { try base.contributionThreshold(step: step) }
    package func neuronMass(epoch e: Int) throws -> NeuronMassSketches? { try base.neuronMass(epoch: e) }
    package func checkpointWeights(step: Int) throws -> [Float]? { try base.checkpointWeights(step: step) }
}

/// The planner's replay over a lab: `SegmentReplayer` + `StoreCheckpointSource` per run (made on
/// first use: loading the data set is the expensive part), asked for exactly the weights a query
/// needs. The answer is exact (source `replay`, zero width) because replay re-executes the
/// recorded steps bit for bit and verifies the state hashes of the checkpoints it passes.
package final class StoreReplayProvider: ReplayProvider {
    package let lab: Lab
    var replayers: [String: SegmentReplayer] = [:]
    /// Segments replayed at once (results are identical for any value).
    package var parallelism = 2
    /// Replays done (for tests and --explain).
    package private(set) var replays = 0

    /// - Complexity: O(1).
    package init(lab: Lab) { self.lab = lab }

    /// Re-executing from the newest checkpoint at or before the first step through the last, at
    /// the run's seconds per step (the recorder's measured plain step, else `ReplayCostModel`),
    /// plus restoring that checkpoint and, the first time for this run, loading its data set.
    /// - Complexity: O(log checkpoints).
    package func cost(run: RunCatalog, steps: ClosedRange<Int>) -> Cost {
        Self.cost(run: run, steps: steps, dataLoaded: replayers[run.name] != nil)
    }

    /// The same, for a run whose data set is (not) already loaded.
    /// - Complexity: O(log checkpoints).
    package static func cost(run: RunCatalog, steps: ClosedRange<Int>, dataLoaded: Bool) -> Cost {
        let start = run.checkpointSteps.last { $0 <= steps.lowerBound - 1 } ?? 0
        let executed = steps.upperBound - start
        let stateBytes = run.layout.count * 4 * 3
        let load = dataLoaded ? 0 : ReplayCostModel.dataLoadSeconds(samples: run.sampleCount, features: run.layout.layers.first?.inFeatures ?? 0)
        return Cost(seconds: Double(executed) * run.secondsPerStep + ReplayCostModel.restoreSeconds(parameters: run.layout.count, stateFloats: 2) + load,
                    bytesRead: stateBytes)
    }

    /// - Throws: `QueryError.invalid` wrapping the replay's error.
    /// - Complexity: O(executed steps · B · P) over `parallelism` threads, plus O(P) per step.
    package func gradientFractions(run: any RunData, steps: ClosedRange<Int>, threshold: Float, weights: [Int]?) throws -> [Double] {
        var request = ReplayRequest(steps: (steps.lowerBound - 1)..<steps.upperBound)
        if let weights { request.gradientIDs = Array(Set(weights)).sorted() } else { request.gradientThresholds = [threshold] }
        let result = try execute(run: run, steps: steps, request)
        if let weights {
            let n = Double(Set(weights).count)
            return result.gradients.map { step in Double(step.values.reduce(0) { $0 + (abs($1) > threshold ? 1 : 0) }) / n }
        }
        return result.gradientCounts.map { $0.fraction(0) }
    }

    private func execute(run: any RunData, steps: ClosedRange<Int>, _ request: ReplayRequest) throws -> ReplayResult {
        let name = run.catalog.name
        do {
            let replayer: SegmentReplayer
            if let cached = replayers[name] { replayer = cached } else {
                replayer = try SegmentReplayer(source: try StoreCheckpointSource(lab: lab, run: name))
                replayers[name] = replayer
            }
            var request = request
            request.parallelism = parallelism
            let result = try replayer.replay(request)
            replays += 1
            return result
        } catch {
            throw QueryError.invalid(location: nil, message: "replay of run '\(name)' steps \(steps.lowerBound)..\(steps.upperBound): \(error)")
        }
    }

    /// - Throws: `QueryError.invalid` wrapping the replay's error (a diverged step, a changed data set…).
    /// - Complexity: O(executed steps · B · P) over `parallelism` threads.
    package func replay(run: any RunData, steps: ClosedRange<Int>, weights: [Int]) throws -> any RunData {
        let ids = Array(Set(weights)).sorted()
        var request = ReplayRequest(steps: (steps.lowerBound - 1)..<steps.upperBound)
        request.contributionIDs = ids
        request.trajectoryIDs = ids
        request.losses = true
        let result = try execute(run: run, steps: steps, request)
        return ReplayRunData(base: run, result: result, steps: steps, ids: ids)
    }
}
