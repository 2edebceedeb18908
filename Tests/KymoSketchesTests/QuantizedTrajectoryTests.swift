import Testing
import KymoCore
@testable import KymoSketches

@Suite struct QuantizedTrajectoryTests {
    /// Encodes `steps` and checks |ŵ_t − w_t| ≤ reported bound ≤ limit at every t and weight.
    func checkBound(_ steps: [[Float]], codeBits: Int, quantum: Float, maxScaleShift: Int = 0,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> QuantizedTrajectory {
        var trajectory = try QuantizedTrajectory(weightCount: steps[0].count, blockSize: 32, codeBits: codeBits,
                                                 quantum: quantum, maxScaleShift: maxScaleShift)
        for step in steps { trajectory.append(step) }
        let decoded = trajectory.decoded()
        #expect(decoded.count == steps.count, sourceLocation: sourceLocation)
        var violations = 0
        let limit = quantum * Float(1 << maxScaleShift) / 2
        for (t, step) in decoded.enumerated() {
            for i in step.values.indices {
                let error = abs(Double(step.values[i]) - Double(steps[t][i]))
                if !(error <= Double(step.bounds[i]) && step.bounds[i] <= limit) { violations += 1 }
            }
        }
        #expect(violations == 0, sourceLocation: sourceLocation)
        #expect(trajectory.reconstruction == decoded.last!.values, sourceLocation: sourceLocation)
        return trajectory
    }

    func randomWalk(weights: Int, steps: Int, seed: UInt64, scale: Float, jumps: Bool) -> [[Float]] {
        var rng = CounterRNG(key: seed)
        var w = (0..<weights).map { _ in rng.nextFloat() - 0.5 }
        var out: [[Float]] = []
        for t in 0..<steps {
            for i in w.indices {
                w[i] += (rng.nextFloat() - 0.5) * scale
                if jumps && rng.next(below: 200) == 0 { w[i] += (rng.nextFloat() - 0.5) * 1000 }   // adversarial jump
                if jumps && t == steps / 2 && i == 5 { w[i] = 1e30 }                            // huge
                if jumps && t == steps / 2 + 1 && i == 5 { w[i] = 0 }                           // and back
            }
            out.append(w)
        }
        return out
    }

    @Test(arguments: [8, 16])
    func boundHoldsAtEveryStepOfLongRandomWalks(codeBits: Int) throws {
        let steps = randomWalk(weights: 100, steps: 1000, seed: UInt64(codeBits), scale: 0.01, jumps: false)
        let trajectory = try checkBound(steps, codeBits: codeBits, quantum: codeBits == 8 ? 1e-3 : 1e-6)
        // Closed loop: compact (mostly codes, not raw).
        let bytesPerValue = Double(trajectory.stream.count) / Double(100 * 1000)
        #expect(bytesPerValue < Double(codeBits / 8) + 0.2, "\(bytesPerValue)")
    }

    @Test(arguments: [(8, 0), (8, 4), (16, 0), (16, 3)])
    func boundHoldsThroughAdversarialJumps(codeBits: Int, maxScaleShift: Int) throws {
        let steps = randomWalk(weights: 70, steps: 400, seed: 3, scale: 0.02, jumps: true)
        _ = try checkBound(steps, codeBits: codeBits, quantum: 1e-3, maxScaleShift: maxScaleShift)
    }

    @Test func errorDoesNotAccumulateWhereOpenLoopWould() throws {
        // Constant drift of 0.3 q per step: an open-loop quantizer would round every delta to 0.
        let q: Float = 1e-2
        let steps = (0..<2000).map { t in [Float(t) * 0.3 * q, 1 + Float(t) * 0.3 * q] }
        _ = try checkBound(steps, codeBits: 8, quantum: q)
    }

    @Test func serializationRoundTripsAndDetectsDamage() throws {
        let steps = randomWalk(weights: 20, steps: 30, seed: 4, scale: 0.05, jumps: true)
        var trajectory = try QuantizedTrajectory(weightCount: 20, blockSize: 8, codeBits: 8, quantum: 1e-2)
        for s in steps { trajectory.append(s) }
        let bytes = trajectory.serialized()
        let back = try QuantizedTrajectory(deserializing: bytes)
        #expect(back == trajectory)
        #expect(back.serialized() == bytes)
        expectDamageDetected(bytes) { _ = try QuantizedTrajectory(deserializing: $0) }
        #expect(throws: SketchError.self) { _ = try QuantizedTrajectory(weightCount: 4, codeBits: 12, quantum: 1) }
    }
}
