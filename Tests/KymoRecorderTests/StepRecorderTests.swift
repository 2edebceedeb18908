import CStreaming
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Testing
@testable import KymoRecorder

/// A 6-5-3 MLP with ReLU and softmax cross-entropy, trained by SGD with weight decay on 20
/// synthetic samples, batch 8 (last batch 4): it plays the engine, so the recorder's outputs can
/// be checked against quantities computed here directly.
struct TinyMLP {
    static let shape = [RunShape.Dense(inputs: 6, outputs: 5), RunShape.Dense(inputs: 5, outputs: 3)]
    let layout = DenseLayout(layers: TinyMLP.shape)
    var w: [Float]
    let data: [Float]
    let labels: [Int]

    init() {
        w = randomFloats(DenseLayout(layers: TinyMLP.shape).parameterCount, key: 90, scale: 0.6)
        data = randomFloats(20 * 6, key: 91)
        labels = (0..<20).map { ($0 * 7) % 3 }
    }

    /// Per-layer factors (a, δ) for the batch, per-sample losses and correctness.
    func factors(batch ids: [Int]) -> (a: [[Float]], d: [[Float]], loss: [Float], correct: [UInt8]) {
        let b = ids.count
        var a0 = [Float](), a1 = [Float](), d0 = [Float](), d1 = [Float](), loss = [Float](), correct = [UInt8]()
        for id in ids {
            let x = Array(data[(id * 6)..<(id * 6 + 6)])
            var pre = [Float](repeating: 0, count: 5), h = pre
            for r in 0..<5 {
                var acc = w[30 + r]
                for c in 0..<6 { acc += w[r * 6 + c] * x[c] }
                pre[r] = acc; h[r] = max(acc, 0)
            }
            var z = [Float](repeating: 0, count: 3)
            for r in 0..<3 {
                var acc = w[35 + 15 + r]
                for c in 0..<5 { acc += w[35 + r * 5 + c] * h[c] }
                z[r] = acc
            }
            let m = z.max()!
            let e = z.map { expf($0 - m) }
            let sum = e.reduce(0, +)
            let dz = (0..<3).map { e[$0] / sum - (labels[id] == $0 ? 1 : 0) }
            loss.append(-logf(e[labels[id]] / sum))
            correct.append(z.firstIndex(of: m)! == labels[id] ? 1 : 0)
            var dh = [Float](repeating: 0, count: 5)
            for c in 0..<5 {
                var acc: Float = 0
                for r in 0..<3 { acc += w[35 + r * 5 + c] * dz[r] }
                dh[c] = pre[c] > 0 ? acc : 0
            }
            a0 += x; a1 += h; d0 += dh; d1 += dz
        }
        precondition(a0.count == b * 6)
        return ([a0, a1], [d0, d1], loss, correct)
    }

    /// The batch gradient (mean over the batch), in layout order.
    func gradient(_ f: (a: [[Float]], d: [[Float]], loss: [Float], correct: [UInt8]), batch b: Int) -> [Float] {
        var g = [Float](repeating: 0, count: w.count)
        for id in 0..<w.count {
            let p = layout.position(of: id)
            let dense = TinyMLP.shape[p.layer]
            var acc: Float = 0
            for s in 0..<b {
                let a: Float = p.col == dense.inputs ? 1 : f.a[p.layer][s * dense.inputs + p.col]
                acc += f.d[p.layer][s * dense.outputs + p.row] * a
            }
            g[id] = acc / Float(b)
        }
        return g
    }
}

final class MemorySink: RecorderSink, @unchecked Sendable {
    let records = Mutex<[StepRecord]>([])
    let epochs = Mutex<[(epoch: Int, lastStep: Int, sumUpdate: [Float])]>([])
    let massCalls = Mutex<Int>(0)

    func neuronMasses(step: Int, epoch: Int, layer: Int, sampleIDs: ArraySlice<UInt32>, masses: [Float]) throws {
        #expect(masses.count == sampleIDs.count * TinyMLP.shape[layer].outputs)
        massCalls.withLock { $0 += 1 }
    }
    func record(_ record: StepRecord, slot: StepSlot) throws { records.withLock { $0.append(record) } }
    func epochEnded(epoch: Int, lastStep: Int, accumulators: EpochAccumulators) throws {
        epochs.withLock { $0.append((epoch, lastStep, accumulators.sumUpdate)) }
    }
}

@Suite struct StepRecorderTests {
    /// The same run one step at a time and in batches of up to 2 or 3 steps
    /// (`StepRecorder.joinsNext`): every expectation below is exact, so batching changes nothing
    /// the sink sees.
    @Test(arguments: [1, 2, 3]) func recordsATrainingRunThroughThePipeline(batchLimit: Int) throws {
        var mlp = TinyMLP()
        let layout = mlp.layout
        let t1 = try WeightSelection(rule: .count(12), parameterCount: layout.parameterCount, seed: 5).ids
        let sink = MemorySink()
        let thresholds = [1e-4, 1e-3, 1e-2].map { MagnitudeHistogram.snap(Float($0), mantissaBits: 6) }
        var gradients: [[Float]] = []
        let recorder = try StepRecorder(layout: layout, t1Ids: t1, thresholds: thresholds,
                                        histogram: try MagnitudeHistogram(), samplesPerStep: 20, runSeed: 42, sink: sink)
        let slots = (0..<4).map { _ in StepSlot(layout: layout, maxBatch: 8, t1Count: t1.count, stateFloats: 0) }
        let batches = Mutex<[Int]>([])
        let pipeline = batchLimit > 1
            ? RecorderPipeline(slots: slots, batchLimit: batchLimit, joinsNext: StepRecorder.joinsNext) { batch, _ in
                batches.withLock { $0.append(batch.count) }
                try recorder.process(batch)
            }
            : RecorderPipeline(slots: slots) { slot, _ in
                batches.withLock { $0.append(1) }
                try recorder.process(slot)
            }

        let lr: Float = 0.2, lambda: Float = 0.01
        var expected: [(w: [Float], update: [Float], f: (a: [[Float]], d: [[Float]], loss: [Float], correct: [UInt8]), ids: [Int])] = []
        var step = 0
        for epoch in 0..<2 {
            let order = epoch == 0 ? Array(0..<20) : Array((0..<20).reversed())
            for start in stride(from: 0, to: 20, by: 8) {
                let ids = Array(order[start..<min(20, start + 8)])
                let b = ids.count
                let f = mlp.factors(batch: ids)
                let g = mlp.gradient(f, batch: b)
                gradients.append(g)
                let update = (0..<mlp.w.count).map { -lr * (g[$0] + lambda * mlp.w[$0]) }
                let slot = try pipeline.acquire()
                slot.step = step; slot.epoch = epoch; slot.batch = b; slot.endsEpoch = start + 8 >= 20
                slot.learningRate = lr; slot.contributionScale = -lr / Float(b)
                slot.loss = f.loss.reduce(0, +) / Float(b)
                for s in 0..<b { slot.sampleIDs[s] = UInt32(ids[s]); slot.sampleLoss[s] = f.loss[s]; slot.sampleCorrect[s] = f.correct[s] }
                slot.gradient = g; slot.update = update
                for l in 0..<2 {
                    try f.a[l].withUnsafeBufferPointer { a in
                        try f.d[l].withUnsafeBufferPointer { try slot.copyFactors(layer: l, batch: b, activations: a, deltas: $0) }
                    }
                }
                for (i, id) in t1.enumerated() { slot.t1Values[i] = mlp.w[id] }
                try pipeline.submit(slot)
                expected.append((mlp.w, update, f, ids))
                for i in mlp.w.indices { mlp.w[i] += update[i] }
                step += 1
            }
        }
        try pipeline.finish()
        // Epochs of 3 steps, batches never crossing an epoch's end.
        let expectedBatches = [1: [1, 1, 1, 1, 1, 1], 2: [2, 1, 2, 1], 3: [3, 3]][batchLimit]!
        #expect(batches.withLock { $0 } == expectedBatches)

        let records = sink.records.withLock { $0 }
        #expect(records.map(\.step) == Array(0..<6))
        #expect(records.map(\.batch) == [8, 8, 4, 8, 8, 4])
        #expect(sink.massCalls.withLock { $0 } == 12)
        for (t, r) in records.enumerated() {
            let e = expected[t]
            #expect(r.sampleIDs == e.ids.map { UInt32($0) })
            // SGD identity on the T1 weights: Σ_s c(s, w, t) + decay = Δw.
            for (i, id) in t1.enumerated() {
                let contributions = r.t1Contributions[(i * r.batch)..<((i + 1) * r.batch)]
                let decay = ContributionRule.sgd(weightDecay: lambda).regularization(learningRate: lr, weight: r.t1Values[i], step: t + 1)
                let sum = contributions.reduce(0, +) + decay
                let magnitude = contributions.reduce(0) { $0 + abs($1) } + abs(decay)
                #expect(abs(sum - r.t1Updates[i]) <= 1e-5 * magnitude + 1e-9, "step \(t) weight \(id)")
                #expect(r.t1Updates[i] == e.update[id])
            }
            // Per-sample gradient norms against materialized per-sample gradients.
            for s in 0..<r.batch {
                var sq = 0.0
                for id in 0..<layout.parameterCount {
                    let p = layout.position(of: id)
                    let dense = TinyMLP.shape[p.layer]
                    let a: Float = p.col == dense.inputs ? 1 : e.f.a[p.layer][s * dense.inputs + p.col]
                    let gs = Double(e.f.d[p.layer][s * dense.outputs + p.row] * a)
                    sq += gs * gs
                }
                #expect(abs(Double(r.sampleGradientNorm[s]) - sq.squareRoot()) <= 1e-5 * sq.squareRoot() + 1e-9)
            }
            // Sampled tuples are real contributions of samples in this batch.
            #expect(r.tau > 0)
            for tuple in r.sampled {
                let s = e.ids.firstIndex(of: Int(tuple.sample))!
                let p = layout.position(of: Int(tuple.weight))
                let dense = TinyMLP.shape[p.layer]
                let a: Float = p.col == dense.inputs ? 1 : e.f.a[p.layer][s * dense.inputs + p.col]
                #expect(tuple.contribution == (-lr / Float(r.batch)) * (e.f.d[p.layer][s * dense.outputs + p.row] * a))
                #expect(Double(abs(tuple.contribution)) > tuple.uniform * Double(r.tau))
            }
            // Exact counts of |g| > θ at the snapped thresholds.
            for (k, theta) in thresholds.enumerated() {
                #expect(r.aboveCounts[k] == gradients[t].filter { abs($0) > theta }.count)
            }
        }
        // Epoch accumulators: ΣΔw in step order, closed after steps 2 and 5.
        let epochs = sink.epochs.withLock { $0 }
        #expect(epochs.map(\.lastStep) == [2, 5])
        for (k, closed) in epochs.enumerated() {
            var sum = [Float](repeating: 0, count: layout.parameterCount)
            for t in (k * 3)..<(k * 3 + 3) { for i in sum.indices { sum[i] += expected[t].update[i] } }
            #expect(closed.sumUpdate == sum)
        }
        // The sampler kept something over the run (τ = Σ|c|/20 per step).
        #expect(records.reduce(0) { $0 + $1.sampled.count } > 0)
    }
}

@Suite struct StepRecorderPerParameterScaleTests {
    /// One step of the tiny MLP recorded through `StepRecorder.process` directly.
    func record(scales: [Float]?, uniform: Float) throws -> StepRecord {
        let mlp = TinyMLP()
        let layout = mlp.layout
        let sink = MemorySink()
        let t1 = Array(stride(from: 0, to: layout.parameterCount, by: 3))
        let recorder = try StepRecorder(layout: layout, t1Ids: t1, thresholds: [], histogram: try MagnitudeHistogram(),
                                        samplesPerStep: 40, runSeed: 9, sink: sink)
        let slot = StepSlot(layout: layout, maxBatch: 8, t1Count: t1.count, stateFloats: 0)
        let ids = Array(0..<8)
        let f = mlp.factors(batch: ids)
        slot.batch = 8
        slot.contributionScale = uniform
        if let scales { slot.usePerParameterScales(); slot.perParameterScales = scales }
        for s in 0..<8 { slot.sampleIDs[s] = UInt32(ids[s]) }
        slot.gradient = mlp.gradient(f, batch: 8)
        slot.update = slot.gradient.map { -0.1 * $0 }
        for l in 0..<2 {
            try f.a[l].withUnsafeBufferPointer { a in
                try f.d[l].withUnsafeBufferPointer { try slot.copyFactors(layer: l, batch: 8, activations: a, deltas: $0) }
            }
        }
        try recorder.process(slot)
        return sink.records.withLock { $0[0] }
    }

    @Test func equalPerParameterScalesGiveTheUniformRecord() throws {
        let p = TinyMLP().layout.parameterCount
        let uniform = try record(scales: nil, uniform: -0.0125)
        let perParameter = try record(scales: Array(repeating: -0.0125, count: p), uniform: 0)
        #expect(uniform.t1Contributions == perParameter.t1Contributions)
        // The masses (hence τ) are rounded in a different order (k·mass vs mass·max|k|), so τ and the
        // uniforms may differ in the last bits; the kept tuples are the same.
        #expect(uniform.sampled.map { [$0.sample, $0.weight, $0.contribution.bitPattern] }
                == perParameter.sampled.map { [$0.sample, $0.weight, $0.contribution.bitPattern] })
        #expect(!uniform.sampled.isEmpty)
        #expect(abs(uniform.tau - perParameter.tau) <= 1e-6 * uniform.tau)
    }

    @Test func perParameterScalesWeighEachContribution() throws {
        let mlp = TinyMLP()
        let scales = randomFloats(mlp.layout.parameterCount, key: 95).map { -0.001 * (1 + 50 * abs($0)) }
        let r = try record(scales: scales, uniform: 0)
        let f = mlp.factors(batch: Array(0..<8))
        let t1 = Array(stride(from: 0, to: mlp.layout.parameterCount, by: 3))
        for (i, id) in t1.enumerated() {
            let p = mlp.layout.position(of: id)
            let dense = TinyMLP.shape[p.layer]
            for s in 0..<8 {
                let a: Float = p.col == dense.inputs ? 1 : f.a[p.layer][s * dense.inputs + p.col]
                #expect(r.t1Contributions[i * 8 + s] == scales[id] * (f.d[p.layer][s * dense.outputs + p.row] * a))
            }
        }
        for tuple in r.sampled {
            let p = mlp.layout.position(of: Int(tuple.weight))
            let dense = TinyMLP.shape[p.layer]
            let s = Int(tuple.sample)
            let a: Float = p.col == dense.inputs ? 1 : f.a[p.layer][s * dense.inputs + p.col]
            #expect(tuple.contribution == scales[Int(tuple.weight)] * (f.d[p.layer][s * dense.outputs + p.row] * a))
        }
    }
}

@Suite struct StepSlotTests {
    /// The factor copies stream every aligned 8-float block and store the unaligned head and the
    /// tail normally: every float arrives, bit for bit, whatever the widths and the batch.
    @Test(arguments: [1, 3, 8])
    func factorCopiesAreExact(batch: Int) throws {
        let layout = DenseLayout(layers: [.init(inputs: 13, outputs: 5), .init(inputs: 5, outputs: 29)])
        let slot = StepSlot(layout: layout, maxBatch: 8, t1Count: 0, stateFloats: 0)
        for (l, dense) in layout.layers.enumerated() {
            // A source offset by one float, so source and target blocks are not aligned alike.
            let a = randomFloats(batch * dense.inputs + 1, key: UInt64(10 + l)).map { $0 == 0 ? -0.0 : $0 }
            let d = randomFloats(batch * dense.outputs + 1, key: UInt64(20 + l))
            try a.withUnsafeBufferPointer { ap in
                try d.withUnsafeBufferPointer { dp in
                    try slot.copyFactors(layer: l, batch: batch, activations: UnsafeBufferPointer(rebasing: ap[1...]),
                                         deltas: UnsafeBufferPointer(rebasing: dp[1...]))
                }
            }
            slot.batch = batch
            try slot.withFactors(layer: l) { f in
                #expect(Array(f.activations).map(\.bitPattern) == a.dropFirst().map(\.bitPattern))
                #expect(Array(f.deltas).map(\.bitPattern) == d.dropFirst().map(\.bitPattern))
            }
        }
    }

    /// `kymo_stream_copy` itself: every target offset 0…15 floats from a 64-byte boundary (the
    /// head, the streamed lines and the tail in every combination) and short lengths.
    @Test func streamingCopyIsExactAtEveryAlignment() {
        let capacity = 128
        let target = UnsafeMutableRawPointer.allocate(byteCount: (capacity + 16) * 4, alignment: 64)
        defer { target.deallocate() }
        let base = target.bindMemory(to: Float.self, capacity: capacity + 16)
        let source = randomFloats(capacity, key: 31)
        for offset in 0..<16 {
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 33, 100] {
                base.initialize(repeating: .nan, count: capacity + 16)
                source.withUnsafeBufferPointer { kymo_stream_copy(base + offset, $0.baseAddress!, n) }
                kymo_stream_fence()
                let copied = Array(UnsafeBufferPointer(start: base + offset, count: n))
                #expect(copied.map(\.bitPattern) == source.prefix(n).map(\.bitPattern), "offset \(offset), n \(n)")
                #expect(base[offset + n].isNaN, "nothing past the end, offset \(offset), n \(n)")
                if offset > 0 { #expect(base[offset - 1].isNaN, "nothing before the start") }
            }
        }
    }
}
