import KymoCore
import KymoEngine
import KymoSketches
import KymoStore

extension ExactRunData {
    /// Writes this run into `lab` in the recorder's column layout (`StoreColumns`), as a stand-in
    /// recorder: it lets `StoreRunData`, `kymo query` and the query benchmark run end to end before
    /// `kymo record` lands. Trajectories are stored as `QuantizedTrajectory` blobs (16-bit codes) against q per layer
    /// (`trajectoryQuantum` each), every `options.trajectoryStride` steps from step 0.
    /// `commitEvery` commits after every that many steps (a live run has fewer steps visible).
    /// - Complexity: O(steps · (P + B·Σ(in+out)) + tuples).
    package func write(to lab: Lab, name: String, commitEvery: Int = 10, finish: Bool = true) throws {
        let recorder = try StandInRecorder(run: self, lab: lab, name: name, commitEvery: commitEvery)
        try recorder.write(through: catalog.steps)
        if finish { try recorder.finish() }
    }
}

/// Writes an `ExactRunData` into a store step by step, committing as it goes, the way
/// `kymo record` will (columns of `StoreColumns`): a live run for `--follow` and its tests.
package final class StandInRecorder {
    let run: ExactRunData
    let writer: RunWriter
    let commitEvery: Int
    /// Steps written so far.
    package private(set) var written = 0

    /// Creates the run (manifest, checkpoint 0).
    /// - Complexity: O(P).
    package init(run: ExactRunData, lab: Lab, name: String, commitEvery: Int = 10) throws {
        self.run = run
        self.commitEvery = commitEvery
        let catalog = run.catalog, options = run.options
        let layout = catalog.layout
        var config: [String: String] = [
            StoreColumns.Key.layers: run.config.model.widths.map(String.init).joined(separator: ","),
            StoreColumns.Key.batchSize: String(catalog.batchSize),
            StoreColumns.Key.samples: String(catalog.sampleCount),
            StoreColumns.Key.stepsPerEpoch: String(catalog.stepsPerEpoch),
            StoreColumns.Key.epochs: String(catalog.plannedEpochs),
            StoreColumns.Key.t1Ids: catalog.t1Ids.map(String.init).joined(separator: ","),
            StoreColumns.Key.thresholds: catalog.thresholds.map { "\($0)" }.joined(separator: ","),
            StoreColumns.Key.probeEvery: String(catalog.probeEvery),
            StoreColumns.Key.trajectoryStride: String(options.trajectoryStride),
            StoreColumns.Key.secondsPerStep: String(catalog.secondsPerStep),
        ]
        config[StoreColumns.Key.trajectoryQuantum] = layout.layers.map { _ in "\(options.trajectoryQuantum)" }.joined(separator: ",")
        writer = try lab.createRun(name, manifest: RunManifest(config: config, modelSpec: run.config.model.layersText, tiers: ["t0", "t1", "t2"]))
        let initial = state(0)
        try writer.writeCheckpoint(step: 0, bytes: initial.serialized(), hash: initial.contentHash)
        try writer.commit()
    }

    func state(_ t: Int) -> TrainerState {
        TrainerState(config: run.config, datasetFingerprint: 0, datasetCount: run.catalog.sampleCount, completedSteps: t,
                     epoch: t / run.catalog.stepsPerEpoch, position: 0, dataOrderRNG: CounterRNG(key: 0), dropoutRNG: CounterRNG(key: 0),
                     parameters: run.weightsAfter[t], optimizerState: run.optimizerState[t])
    }

    /// One self-contained chunk per layer holding the snapshot after step t (row t − 1), 16-bit
    /// closed-loop codes against q (the recorder's `t2/traj/<layer>` layout).
    func writeTrajectory(after t: Int) throws {
        let q = run.options.trajectoryQuantum
        let w = run.weightsAfter[t]
        for layer in run.catalog.layout.layers {
            var traj = try QuantizedTrajectory(weightCount: layer.range.count, blockSize: 64, codeBits: 16, quantum: q)
            traj.append(Array(w[layer.range]))
            try writer.putBlob(column: StoreColumns.trajectoryPrefix + layer.name, steps: (t - 1)..<t, bytes: traj.serialized())
        }
    }

    /// Writes steps up to `last` (committing every `commitEvery` steps and at `last`).
    /// - Complexity: O(steps · (P + B·n₁) + tuples).
    package func write(through last: Int) throws {
        let catalog = run.catalog, options = run.options
        guard written < min(last, catalog.steps) else { return }
        for t in (written + 1)...min(last, catalog.steps) {
            let row = (t - 1)..<t
            let s = run.stepScalars[t - 1], stats = run.sampleStats[t - 1]
            try writer.append(column: StoreColumns.loss, steps: row, .float32([s.loss]))
            try writer.append(column: StoreColumns.accuracy, steps: row, .float32([s.accuracy]))
            try writer.append(column: StoreColumns.learningRate, steps: row, .float32([s.learningRate]))
            try writer.append(column: StoreColumns.gradientNorm, steps: row, .float32([s.gradientNorm]))
            try writer.append(column: StoreColumns.updateNorm, steps: row, .float32([s.updateNorm]))
            try writer.append(column: StoreColumns.order, steps: row, .uint32(stats.ids.map { UInt32($0) }))
            try writer.append(column: StoreColumns.sampleLoss, steps: row, .float32(stats.loss))
            try writer.append(column: StoreColumns.sampleCorrect, steps: row, .int8(codes: stats.correct.map { Int8($0) }, scale: 1))
            try writer.append(column: StoreColumns.sampleGradientNorm, steps: row, .float32(stats.gradientNorm))
            try writer.append(column: StoreColumns.above, steps: row, .uint32(run.above[t - 1]))
            try writer.putBlob(column: StoreColumns.gradientQuantiles, steps: row, bytes: run.quantiles[t - 1].serialized())
            let t1 = try run.t1(step: t)!
            try writer.append(column: StoreColumns.t1Value, steps: row, .float32(t1.value))
            try writer.append(column: StoreColumns.t1Update, steps: row, .float32(t1.update))
            try writer.append(column: StoreColumns.t1Contributions, steps: row, .float32(t1.contributions))
            var bytes = ByteWriter(capacity: 4 + run.samples[t - 1].tuples.count * 20)
            bytes.write(UInt32(run.samples[t - 1].tuples.count))
            for tuple in run.samples[t - 1].tuples {
                bytes.write(UInt32(tuple.sample)); bytes.write(UInt32(tuple.weight))
                bytes.write(tuple.contribution); bytes.write(tuple.uniform)
            }
            try writer.putBlob(column: StoreColumns.contributionSample, steps: row, bytes: bytes.bytes)
            try writer.append(column: StoreColumns.contributionTau, steps: row, .float32([run.samples[t - 1].tau]))
            if let p = run.probes.first(where: { $0.step == t }) {
                try writer.append(column: StoreColumns.probe, steps: row, .float32([p.loss, p.accuracy]))
            }
            if (t - 1) % max(1, options.trajectoryStride) == 0 { try writeTrajectory(after: t) }
            if t % catalog.stepsPerEpoch == 0 {
                let e = t / catalog.stepsPerEpoch
                let sums = run.sums[e - 1]
                try writer.append(column: StoreColumns.epochSumAbs, steps: row, .float32(sums.sumAbs))
                try writer.append(column: StoreColumns.epochSum, steps: row, .float32(sums.sum))
                try writer.append(column: StoreColumns.epochSumSquares, steps: row, .float32(sums.sumSquares))
                try writer.append(column: StoreColumns.epochMaxAbs, steps: row, .float32(sums.maxAbs))
                let mass = run.masses[e - 1]
                var ss = ByteWriter(capacity: 1024)
                ss.write(UInt32(mass.spaceSaving?.count ?? 0))
                for n in 0..<(mass.spaceSaving?.count ?? 0) {
                    let sketch = try mass.spaceSaving![n]
                    let b = sketch.serialized()
                    ss.write(UInt64(b.count)); ss.write(raw: b)
                }
                try writer.putBlob(column: StoreColumns.neuronSpaceSaving, steps: row, bytes: ss.bytes)
                if let cm = mass.countMin { try writer.putBlob(column: StoreColumns.neuronCountMin, steps: row, bytes: cm.serialized()) }
            }
            if catalog.checkpointSteps.contains(t) {
                let s = state(t)
                try writer.writeCheckpoint(step: t, bytes: s.serialized(), hash: s.contentHash)
            }
            written = t
            if t % max(1, commitEvery) == 0 || t == last { try writer.commit(through: t - 1) }
        }
    }

    /// Marks the run finished.
    /// - Complexity: O(1) plus the store's final commit.
    package func finish() throws { try writer.finish() }
}
