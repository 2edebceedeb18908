import Foundation
import Testing
@testable import KymoEngine

@Suite struct OptimizerTests {
    /// Applies `steps` updates to one parameter with the given gradients; returns w after each.
    static func run(_ config: OptimizerConfig, w0: Float, gradients: [Float], eta: Float) -> [Float] {
        var w = [w0]
        let slots = (0..<config.kind.slotCount).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 1) }
        defer { slots.forEach { $0.deallocate() } }
        for slot in slots { slot.initialize(to: 0) }
        var d: [Float] = [0]
        var trajectory: [Float] = []
        for (t, g) in gradients.enumerated() {
            OptimizerUpdate.apply(config, learningRate: eta, step: t + 1, count: 1,
                                  parameters: &w, gradient: [g], slots: slots, update: &d)
            trajectory.append(w[0])
        }
        return trajectory
    }

    @Test func sgdWithWeightDecay() {
        let w = Self.run(OptimizerConfig(kind: .sgd, weightDecay: 0.1), w0: 1, gradients: [0.5, 0.5], eta: 0.2)
        // Δ = −0.2·(0.5 + 0.1·1) = −0.12; then −0.2·(0.5 + 0.088) = −0.1176.
        #expect(abs(w[0] - 0.88) < 1e-6)
        #expect(abs(w[1] - 0.7624) < 1e-6)
    }

    @Test func momentum() {
        let w = Self.run(OptimizerConfig(kind: .momentum, momentum: 0.9, weightDecay: 0.1), w0: 1, gradients: [0.5, 0.5], eta: 0.2)
        // v1 = 0.6, w1 = 0.88; g' = 0.588, v2 = 0.54 + 0.588 = 1.128, w2 = 0.88 − 0.2256.
        #expect(abs(w[0] - 0.88) < 1e-6)
        #expect(abs(w[1] - 0.6544) < 1e-6)
    }

    @Test func nesterov() {
        let w = Self.run(OptimizerConfig(kind: .nesterov, momentum: 0.9), w0: 1, gradients: [0.5, 0.5], eta: 0.2)
        // v1 = 0.5, Δ1 = −0.2·(0.5 + 0.45) = −0.19; v2 = 0.95, Δ2 = −0.2·(0.5 + 0.855) = −0.271.
        #expect(abs(w[0] - 0.81) < 1e-6)
        #expect(abs(w[1] - 0.539) < 1e-6)
    }

    /// Adam and AdamW against the textbook formulas in Double.
    @Test(arguments: [OptimizerKind.adam, .adamw])
    func adam(kind: OptimizerKind) {
        let config = OptimizerConfig(kind: kind, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05)
        let gradients: [Float] = [0.5, -0.25, 0.125, 1.0]
        let eta: Float = 0.01
        let w = Self.run(config, w0: 1, gradients: gradients, eta: eta)
        var (wd, m, v) = (1.0, 0.0, 0.0)
        for (i, g) in gradients.enumerated() {
            let t = Double(i + 1)
            let gp = kind == .adam ? Double(g) + 0.05 * wd : Double(g)
            m = 0.9 * m + 0.1 * gp
            v = 0.999 * v + 0.001 * gp * gp
            let mHat = m / (1 - pow(0.9, t))
            let vHat = v / (1 - pow(0.999, t))
            var step = mHat / (vHat.squareRoot() + 1e-8)
            if kind == .adamw { step += 0.05 * wd }
            wd -= 0.01 * step
            #expect(abs(Double(w[i]) - wd) < 1e-6, "step \(i + 1): \(w[i]) vs \(wd)")
        }
        // The first Adam step moves by ≈ η whatever the gradient's scale.
        #expect(abs(1 - w[0] - 0.01) < 0.003)
    }

    /// The element-by-element rules, written out plainly: the vectorized pass must give these
    /// bits for every element (block lanes and the tail alike) and ‖Δw‖² in VectorMath's order.
    @Test(arguments: [OptimizerKind.sgd, .momentum, .nesterov, .adam, .adamw])
    func vectorPassEqualsScalarRuleBitForBit(kind: OptimizerKind) {
        let count = 2 * 16 + 7
        let config = OptimizerConfig(kind: kind, learningRate: 0.03, momentum: 0.8, weightDecay: 0.02)
        let (eta, t): (Float, Int) = (0.03, 3)
        let g = randomFloats(count, seed: 11)
        let w0 = randomFloats(count, seed: 12, scale: 2)
        let slots0 = (0..<kind.slotCount).map { i in randomFloats(count, seed: 13 + UInt64(i)).map { i == 1 ? abs($0) : $0 } }
        // The scalar rules.
        var w = w0, slot = slots0, d = [Float](repeating: 0, count: count)
        let (b1, b2, eps, lambda, mu) = (config.beta1, config.beta2, config.epsilon, config.weightDecay, config.momentum)
        for i in 0..<count {
            switch kind {
            case .sgd:
                d[i] = -eta * (g[i] + lambda * w[i])
            case .momentum, .nesterov:
                let gp = g[i] + lambda * w[i]
                slot[0][i] = mu * slot[0][i] + gp
                d[i] = kind == .momentum ? -eta * slot[0][i] : -eta * (gp + mu * slot[0][i])
            case .adam, .adamw:
                let decoupled = kind == .adamw
                let gp = decoupled ? g[i] : g[i] + lambda * w[i]
                slot[0][i] = b1 * slot[0][i] + (1 - b1) * gp
                slot[1][i] = b2 * slot[1][i] + (1 - b2) * (gp * gp)
                var step = (slot[0][i] * OptimizerUpdate.biasCorrection(b1, step: t))
                    / ((slot[1][i] * OptimizerUpdate.biasCorrection(b2, step: t)).squareRoot() + eps)
                if decoupled { step += lambda * w[i] }
                d[i] = -eta * step
            }
            w[i] += d[i]
        }
        // The pass, with and without the stored Δw and the snapshot.
        for storeUpdate in [true, false] {
            var wv = w0, dv = [Float](repeating: 0, count: count), before = [Float](repeating: 0, count: count)
            let buffers = slots0.map { values -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
                p.initialize(from: values, count: count)
                return p
            }
            defer { buffers.forEach { $0.deallocate() } }
            let squares = dv.withUnsafeMutableBufferPointer { dp in
                OptimizerUpdate.apply(config, learningRate: eta, step: t, count: count, parameters: &wv, gradient: g,
                                      slots: buffers, update: storeUpdate ? dp.baseAddress : nil, saveBefore: &before)
            }
            #expect(wv.map(\.bitPattern) == w.map(\.bitPattern), "w, storeUpdate=\(storeUpdate)")
            #expect(before.map(\.bitPattern) == w0.map(\.bitPattern))
            for (i, values) in slot.enumerated() {
                #expect(Array(UnsafeBufferPointer(start: buffers[i], count: count)).map(\.bitPattern) == values.map(\.bitPattern))
            }
            if storeUpdate { #expect(dv.map(\.bitPattern) == d.map(\.bitPattern)) }
            let expectedSquares = d.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: count) }
            #expect(squares.bitPattern == expectedSquares.bitPattern)
        }
        // The hand-off pass (streaming stores of Δw and of a copy of g into lent buffers), with
        // and without Σ g² taken in the pass: the same bits everywhere.
        for summingGradient in [true, false] {
            var wv = w0
            let buffers = slots0.map { values -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
                p.initialize(from: values, count: count)
                return p
            }
            defer { buffers.forEach { $0.deallocate() } }
            let lent = LentStepBuffers(count: count)
            let squares = OptimizerUpdate.applyHandingOver(
                config, learningRate: eta, step: t, count: count, parameters: &wv, gradient: g, slots: buffers,
                handOff: lent, summingGradient: summingGradient)
            #expect(wv.map(\.bitPattern) == w.map(\.bitPattern), "w, hand-off")
            for (i, values) in slot.enumerated() {
                #expect(Array(UnsafeBufferPointer(start: buffers[i], count: count)).map(\.bitPattern) == values.map(\.bitPattern))
            }
            #expect(Array(lent.update).map(\.bitPattern) == d.map(\.bitPattern), "Δw handed off")
            #expect(Array(lent.gradient).map(\.bitPattern) == g.map(\.bitPattern), "g handed off")
            let expectedSquares = d.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: count) }
            #expect(squares.update.bitPattern == expectedSquares.bitPattern)
            let gradientSquares = g.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: count) }
            #expect(squares.gradient.bitPattern == (summingGradient ? gradientSquares : 0).bitPattern)
        }
    }

    @Test func validation() {
        #expect(throws: EngineError.self) { try OptimizerConfig(learningRate: 0).validate() }
        #expect(throws: EngineError.self) { try OptimizerConfig(momentum: 1).validate() }
        #expect(throws: EngineError.self) { try OptimizerConfig(weightDecay: -1).validate() }
        #expect(throws: Never.self) { try OptimizerConfig().validate() }
    }
}

@Suite struct ScheduleTests {
    @Test func constantAndStep() throws {
        #expect(LearningRateSchedule.constant.factor(step: 123, totalSteps: 200) == 1)
        let step = try LearningRateSchedule(parsing: "step:10:0.5")
        #expect(step == .step(every: 10, gamma: 0.5))
        #expect(step.factor(step: 0, totalSteps: 100) == 1)
        #expect(step.factor(step: 9, totalSteps: 100) == 1)
        #expect(step.factor(step: 10, totalSteps: 100) == 0.5)
        #expect(step.factor(step: 25, totalSteps: 100) == 0.25)
        #expect(step.rate(base: 0.1, step: 20, totalSteps: 100) == Float(0.1 * 0.25))
    }

    @Test func cosine() throws {
        let schedule = try LearningRateSchedule(parsing: "cosine:0.1")
        #expect(schedule.factor(step: 0, totalSteps: 101) == 1)
        #expect(abs(schedule.factor(step: 100, totalSteps: 101) - 0.1) < 1e-15)
        #expect(abs(schedule.factor(step: 50, totalSteps: 101) - 0.55) < 1e-15)
        for t in 0..<101 {
            let expected = 0.1 + 0.9 * 0.5 * (1 + Foundation.cos(Double.pi * Double(t) / 100))
            #expect(abs(schedule.factor(step: t, totalSteps: 101) - expected) < 1e-14)
        }
        #expect(try LearningRateSchedule(parsing: "cosine") == .cosine(minimum: 0))
    }

    @Test func warmupComposes() throws {
        let schedule = try LearningRateSchedule(parsing: "warmup:4+cosine")
        #expect(schedule == .warmup(steps: 4, then: .cosine(minimum: 0)))
        #expect(schedule.factor(step: 0, totalSteps: 14) == 0.25)
        #expect(schedule.factor(step: 3, totalSteps: 14) == 1)
        #expect(schedule.factor(step: 4, totalSteps: 14) == 1) // cosine's own step 0
        #expect(abs(schedule.factor(step: 13, totalSteps: 14)) < 1e-15) // cosine's last step
        let plain = try LearningRateSchedule(parsing: "warmup:2")
        #expect(plain.factor(step: 0, totalSteps: 10) == 0.5)
        #expect(plain.factor(step: 7, totalSteps: 10) == 1)
        let stepped = try LearningRateSchedule(parsing: "warmup:2+step:3:0.1")
        #expect(abs(stepped.factor(step: 5, totalSteps: 10) - 0.1) < 1e-15)
    }

    @Test func textRoundTripsAndErrors() throws {
        for text in ["constant", "step:10:0.5", "cosine", "cosine:0.01", "warmup:5", "warmup:5+cosine:0.1"] {
            #expect(try LearningRateSchedule(parsing: text).text == text)
        }
        for bad in ["", "linear", "step:0:0.5", "step:10", "cosine:2", "warmup:x", "warmup:0+cosine", "warmup:3+bogus"] {
            #expect(throws: EngineError.self, "\(bad)") { try LearningRateSchedule(parsing: bad) }
        }
    }
}
