import Foundation
import Testing
@testable import KymoRecorder

@Suite struct GradientRingTests {
    static let layout = DenseLayout(layers: [.init(inputs: 37, outputs: 11), .init(inputs: 11, outputs: 3)])

    /// A deterministic g and Δw for a step: zeros in runs (the histogram's fast path), mixed signs.
    static func vectors(step: Int, count: Int) -> (g: [Float], update: [Float]) {
        let g = (0..<count).map { i -> Float in
            (i / 8 + step) % 5 == 0 ? 0 : Float(((i &* 7919 &+ step &* 104_729) % 2001) - 1000) * 1e-4
        }
        return (g, g.enumerated().map { i, x in -0.05 * x + (i % 3 == 0 ? 1e-6 : 0) })
    }

    /// Steps passed through the ring — filled and submitted on one thread, completed in order on
    /// another, with the passes run by whichever thread gets to them (two pairs force the filling
    /// thread to run some) — give each step the histogram, threshold counts and T1 Δw, and each
    /// epoch the accumulators, of the same steps run directly one at a time; every pair goes back.
    @Test(arguments: [(2, 1), (2, 4), (3, 2), (5, 4)]) func passesMatchDirectOrderWhoeverRunsThem(pairs: Int, batchLimit: Int) throws {
        let p = Self.layout.parameterCount
        let t1 = [0, 5, 300, p - 1]
        let thresholds: [Float] = [1e-3, 1e-2].map { MagnitudeHistogram.snap($0, mantissaBits: 6) }
        let steps = 23, perEpoch = 7
        func makeSlots(_ n: Int) -> [StepSlot] {
            (0..<n).map { _ in StepSlot(layout: Self.layout, maxBatch: 1, t1Count: t1.count, stateFloats: 0) }
        }
        @Sendable func label(_ slot: StepSlot, _ step: Int) {
            slot.step = step
            slot.epoch = step / perEpoch
            slot.endsEpoch = step % perEpoch == perEpoch - 1 || step == steps - 1
            slot.gradientResult.isDone = false
        }
        // Direct: one step at a time on this thread.
        let direct = try StepGradientWork(parameterCount: p, t1Ids: t1, thresholds: thresholds, histogram: try MagnitudeHistogram())
        var expected: [(counts: [Int], histogram: [UInt32], t1: [Float], epoch: EpochAccumulators?)] = []
        let one = makeSlots(1)[0]
        for step in 0..<steps {
            label(one, step)
            let (g, u) = Self.vectors(step: step, count: p)
            one.gradient = g
            one.update = u
            direct.run([one][...])
            let r = one.gradientResult
            expected.append((r.aboveCounts, r.histogram!.counts, r.t1Updates, r.closedEpoch))
            if let closed = r.closedEpoch {
                r.closedEpoch = nil
                direct.recycle(closed)
            }
        }
        #expect(expected.compactMap(\.epoch).count == 4)
        #expect(expected.contains { $0.counts.contains { $0 > 0 } })

        // Through the ring: a filling thread and this completing thread.
        let work = try StepGradientWork(parameterCount: p, t1Ids: t1, thresholds: thresholds, histogram: try MagnitudeHistogram())
        let ring = GradientRing(pairs: pairs, parameterCount: p, work: work, batchLimit: batchLimit)
        let slots = makeSlots(steps)
        let submitted = DispatchSemaphore(value: 0)
        let filler = Thread {
            for step in 0..<steps {
                let slot = slots[step]
                label(slot, step)
                slot.stepBuffers = ring.acquire()
                let (g, u) = Self.vectors(step: step, count: p)
                g.withUnsafeBufferPointer { slot.stepBuffers!.gradient.baseAddress!.update(from: $0.baseAddress!, count: p) }
                u.withUnsafeBufferPointer { slot.stepBuffers!.update.baseAddress!.update(from: $0.baseAddress!, count: p) }
                ring.submit(slot)
                submitted.signal()
            }
        }
        filler.start()
        for step in 0..<steps {
            // Until the filler has submitted the step, `complete` would return at once.
            submitted.wait()
            ring.complete(slots[step])
            let r = slots[step].gradientResult
            #expect(r.isDone && r.failure == nil)
            #expect(slots[step].stepBuffers == nil, "step \(step) kept its pair")
            #expect(r.aboveCounts == expected[step].counts, "step \(step)")
            #expect(r.histogram?.counts == expected[step].histogram, "step \(step)")
            #expect(r.t1Updates == expected[step].t1, "step \(step)")
            if let want = expected[step].epoch {
                let got = try #require(r.closedEpoch, "step \(step)")
                #expect(got.sumAbsUpdate == want.sumAbsUpdate && got.sumUpdate == want.sumUpdate
                        && got.sumSquaredGradient == want.sumSquaredGradient && got.maxAbsGradient == want.maxAbsGradient)
                #expect(got.steps == want.steps)
                r.closedEpoch = nil
                work.recycle(got)
            } else {
                #expect(r.closedEpoch == nil)
            }
        }
        while !filler.isFinished { usleep(50) }
        #expect(ring.freePairs == pairs)
    }
}
