import KymoCore
import KymoEngine
import KymoSketches
import KymoStore

extension ExactRunData {
    /// Writes this run into `lab` in the recorder's column layout (`StoreColumns`), as a stand-in
    /// recorder: it lets `StoreRunData`, `kymo query` and the query benchmark run end to end before
    /// `kymo record` lands. Trajectories are stored as Int16 closed-loop codes against q per layer
    /// (`trajectoryQuantum` each), every `options.trajectoryStride` steps from step 0.
    /// `commitEvery` commits after every that many steps (a live run has fewer steps visible).
    /// - Complexity: O(steps · (P + B·Σ(in+out)) + tuples).
    package func write(to lab: Lab, name: String, commitEvery: Int = 10, finish: Bool = true) throws {
        let layout = catalog.layout
        var config: [String: String] = [
            StoreColumns.Key.layers: self.config.model.widths.map(String.init).joined(separator: ","),
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
        let q = options.trajectoryQuantum
        config[StoreColumns.Key.trajectoryQuantum] = layout.layers.map { _ in "\(q)" }.joined(separator: ",")
        let writer = try lab.createRun(name, manifest: RunManifest(config: config, modelSpec: self.config.model.layersText, tiers: ["t0", "t1", "t2"]))
        var reconstruction = [Float](repeating: 0, count: layout.count)
        func writeTrajectory(after t: Int) throws {
            let w = weightsAfter[t]
            var codes = [Int16](repeating: 0, count: layout.count)
            for i in 0..<layout.count {
                let c = ((w[i] - reconstruction[i]) / q).rounded()
                codes[i] = Int16(max(-32767, min(32767, c)))
                reconstruction[i] = reconstruction[i] + Float(codes[i]) * q
            }
            // Row t − 1 holds ŵ after step t, decoded from the exact initial weights (checkpoint 0).
            try writer.append(column: StoreColumns.trajectory, steps: (t - 1)..<t, .int16(codes: codes, scale: q))
        }
        let state = { (t: Int) in
            TrainerState(config: self.config, datasetFingerprint: 0, datasetCount: self.catalog.sampleCount, completedSteps: t,
                         epoch: t / self.catalog.stepsPerEpoch, position: 0, dataOrderRNG: CounterRNG(key: 0), dropoutRNG: CounterRNG(key: 0),
                         parameters: self.weightsAfter[t], optimizerState: self.optimizerState[t])
        }
        let initial = state(0)
        try writer.writeCheckpoint(step: 0, bytes: initial.serialized(), hash: initial.contentHash)
        reconstruction = weightsAfter[0]
        for t in 1...max(1, catalog.steps) where t <= catalog.steps {
            let row = (t - 1)..<t
            let s = stepScalars[t - 1], stats = sampleStats[t - 1]
            try writer.append(column: StoreColumns.loss, steps: row, .float32([s.loss]))
            try writer.append(column: StoreColumns.accuracy, steps: row, .float32([s.accuracy]))
            try writer.append(column: StoreColumns.learningRate, steps: row, .float32([s.learningRate]))
            try writer.append(column: StoreColumns.gradientNorm, steps: row, .float32([s.gradientNorm]))
            try writer.append(column: StoreColumns.updateNorm, steps: row, .float32([s.updateNorm]))
            try writer.append(column: StoreColumns.order, steps: row, .uint32(stats.ids.map { UInt32($0) }))
            try writer.append(column: StoreColumns.sampleLoss, steps: row, .float32(stats.loss))
            try writer.append(column: StoreColumns.sampleCorrect, steps: row, .int8(codes: stats.correct.map { Int8($0) }, scale: 1))
            try writer.append(column: StoreColumns.sampleGradientNorm, steps: row, .float32(stats.gradientNorm))
            try writer.append(column: StoreColumns.above, steps: row, .uint32(above[t - 1]))
            try writer.putBlob(column: StoreColumns.gradientQuantiles, steps: row, bytes: quantiles[t - 1].serialized())
            let t1 = try self.t1(step: t)!
            try writer.append(column: StoreColumns.t1Value, steps: row, .float32(t1.value))
            try writer.append(column: StoreColumns.t1Update, steps: row, .float32(t1.update))
            try writer.append(column: StoreColumns.t1Contributions, steps: row, .float32(t1.contributions))
            var bytes = ByteWriter(capacity: samples[t - 1].tuples.count * 20)
            for tuple in samples[t - 1].tuples {
                bytes.write(UInt32(tuple.sample)); bytes.write(UInt32(tuple.weight))
                bytes.write(tuple.contribution); bytes.write(tuple.uniform)
            }
            try writer.putBlob(column: StoreColumns.contributionSample, steps: row, bytes: bytes.bytes)
            try writer.append(column: StoreColumns.contributionTau, steps: row, .float32([samples[t - 1].tau]))
            if let p = probes.first(where: { $0.step == t }) {
                try writer.append(column: StoreColumns.probe, steps: row, .float32([p.loss, p.accuracy]))
            }
            if t % max(1, options.trajectoryStride) == 0 { try writeTrajectory(after: t) }
            if t % catalog.stepsPerEpoch == 0 {
                let e = t / catalog.stepsPerEpoch
                let sums = self.sums[e - 1]
                try writer.append(column: StoreColumns.epochSumAbs, steps: row, .float32(sums.sumAbs))
                try writer.append(column: StoreColumns.epochSum, steps: row, .float32(sums.sum))
                try writer.append(column: StoreColumns.epochSumSquares, steps: row, .float32(sums.sumSquares))
                try writer.append(column: StoreColumns.epochMaxAbs, steps: row, .float32(sums.maxAbs))
                let mass = masses[e - 1]
                var ss = ByteWriter(capacity: 1024)
                for sketch in mass.spaceSaving ?? [] {
                    let b = sketch.serialized()
                    ss.write(UInt32(b.count)); ss.write(raw: b)
                }
                try writer.putBlob(column: StoreColumns.neuronSpaceSaving, steps: row, bytes: ss.bytes)
                if let cm = mass.countMin { try writer.putBlob(column: StoreColumns.neuronCountMin, steps: row, bytes: cm.serialized()) }
            }
            if catalog.checkpointSteps.contains(t) {
                let s = state(t)
                try writer.writeCheckpoint(step: t, bytes: s.serialized(), hash: s.contentHash)
            }
            if t % max(1, commitEvery) == 0 || t == catalog.steps { try writer.commit(through: t - 1) }
        }
        if finish { try writer.finish() }
    }
}
