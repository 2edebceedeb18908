import Testing
@testable import KymoRecorder
#if canImport(Glibc)
import Glibc
#endif

/// One dense layer with softmax cross-entropy, B samples: per-sample factors exactly as the engine
/// defines them (δ_s = softmax(z_s) − onehot, not divided by B; a_s = input).
struct TinyLayer {
    let batch = 8, inputs = 5, outputs = 3
    var weights: [Float]  // (out, in) then bias (out)
    let x: [Float]
    let labels: [Int]

    init() {
        weights = randomFloats(3 * 5 + 3, key: 70, scale: 0.5)
        x = randomFloats(8 * 5, key: 71)
        labels = (0..<8).map { $0 % 3 }
    }

    /// δ (B, out) for the current weights.
    func deltas() -> [Float] {
        var d = [Float](repeating: 0, count: batch * outputs)
        for s in 0..<batch {
            var z = [Float](repeating: 0, count: outputs)
            for r in 0..<outputs {
                var acc = weights[outputs * inputs + r]
                for c in 0..<inputs { acc += weights[r * inputs + c] * x[s * inputs + c] }
                z[r] = acc
            }
            let m = z.max()!
            let e = z.map { expf($0 - m) }
            let sum = e.reduce(0, +)
            for r in 0..<outputs { d[s * outputs + r] = e[r] / sum - (labels[s] == r ? 1 : 0) }
        }
        return d
    }

    /// g_s[w] for weight index w (bias after the matrix).
    func sampleGradient(_ d: [Float], sample s: Int, weight w: Int) -> Float {
        if w >= outputs * inputs { return d[s * outputs + (w - outputs * inputs)] }
        return d[s * outputs + w / inputs] * x[s * inputs + w % inputs]
    }

    /// The batch gradient (1/B)·Σ_s g_s, in sample order.
    func batchGradient(_ d: [Float]) -> [Float] {
        (0..<weights.count).map { w in
            var acc: Float = 0
            for s in 0..<batch { acc += sampleGradient(d, sample: s, weight: w) }
            return acc / Float(batch)
        }
    }
}

@Suite struct ContributionRuleTests {
    /// Checks |Σ terms − Δw| ≤ tolerance · Σ|terms| for every weight.
    func expectIdentity(_ terms: [Float], _ delta: Float, _ label: String) {
        let sum = terms.reduce(Float(0), +)
        let magnitude = terms.reduce(Float(0)) { $0 + abs($1) }
        #expect(abs(sum - delta) <= 1e-5 * magnitude + 1e-12, "\(label): Σ = \(sum), Δw = \(delta)")
    }

    @Test func sgdContributionsPlusRegularizationSumToTheUpdate() {
        var layer = TinyLayer()
        let rule = ContributionRule.sgd(weightDecay: 0.01)
        let lr: Float = 0.1
        for step in 1...3 {
            let d = layer.deltas()
            let g = layer.batchGradient(d)
            let k = rule.scale(learningRate: lr, batchSize: layer.batch, step: step)
            var next = layer.weights
            for w in 0..<layer.weights.count {
                let delta = -lr * (g[w] + 0.01 * layer.weights[w])
                var terms = (0..<layer.batch).map { k * layer.sampleGradient(d, sample: $0, weight: w) }
                terms.append(rule.regularization(learningRate: lr, weight: layer.weights[w], step: step))
                expectIdentity(terms, delta, "sgd step \(step) w \(w)")
                next[w] = layer.weights[w] + delta
            }
            layer.weights = next
        }
    }

    @Test func momentumImmediatePlusCarriedPlusRegularizationSumToTheUpdate() {
        var layer = TinyLayer()
        let mu: Float = 0.9, lambda: Float = 0.001
        let rule = ContributionRule.momentum(momentum: mu, weightDecay: lambda)
        var v = [Float](repeating: 0, count: layer.weights.count)
        // Unrolled check too: the carried part equals the decayed sum of earlier immediate parts
        // (+ decay pseudo-samples) when η is constant.
        let lr: Float = 0.05
        var history: [[Float]] = [] // per step: Σ_s immediate + regularization, per weight
        for step in 1...4 {
            let d = layer.deltas()
            let g = layer.batchGradient(d)
            let k = rule.scale(learningRate: lr, batchSize: layer.batch, step: step)
            var next = layer.weights
            var thisStep = [Float](repeating: 0, count: layer.weights.count)
            for w in 0..<layer.weights.count {
                let carried = rule.carried(learningRate: lr, state: v[w], step: step)
                v[w] = mu * v[w] + g[w] + lambda * layer.weights[w]
                let delta = -lr * v[w]
                var terms = (0..<layer.batch).map { k * layer.sampleGradient(d, sample: $0, weight: w) }
                let reg = rule.regularization(learningRate: lr, weight: layer.weights[w], step: step)
                thisStep[w] = terms.reduce(0, +) + reg
                terms.append(reg)
                terms.append(carried)
                expectIdentity(terms, delta, "momentum step \(step) w \(w)")
                // Unrolled: carried = Σ_{τ<t} μ^(t−τ) · (immediate + reg at τ).
                var unrolled: Float = 0
                for (i, past) in history.enumerated() { unrolled += rule.decay(stepsLater: step - 1 - i) * past[w] }
                #expect(abs(carried - unrolled) <= 1e-5 * (abs(carried) + 1e-6))
                next[w] = layer.weights[w] + delta
            }
            history.append(thisStep)
            layer.weights = next
        }
    }

    @Test func nesterovContributionsSumToTheUpdateAndUnroll() {
        var layer = TinyLayer()
        let mu: Float = 0.9, lambda: Float = 0.001, lr: Float = 0.05
        let rule = ContributionRule.nesterov(momentum: mu, weightDecay: lambda)
        var v = [Float](repeating: 0, count: layer.weights.count)
        var history: [[Float]] = []
        for step in 1...4 {
            let d = layer.deltas()
            let g = layer.batchGradient(d)
            let k = rule.scale(learningRate: lr, batchSize: layer.batch, step: step)
            var next = layer.weights
            var thisStep = [Float](repeating: 0, count: layer.weights.count)
            for w in 0..<layer.weights.count {
                let carried = rule.carried(learningRate: lr, state: v[w], step: step)
                let gHat = g[w] + lambda * layer.weights[w]
                v[w] = mu * v[w] + gHat
                let delta = -lr * (gHat + mu * v[w])
                var terms = (0..<layer.batch).map { k * layer.sampleGradient(d, sample: $0, weight: w) }
                let reg = rule.regularization(learningRate: lr, weight: layer.weights[w], step: step)
                thisStep[w] = terms.reduce(0, +) + reg
                terms.append(reg)
                terms.append(carried)
                expectIdentity(terms, delta, "nesterov step \(step) w \(w)")
                var unrolled: Float = 0
                for (i, past) in history.enumerated() { unrolled += rule.decay(stepsLater: step - 1 - i) * past[w] }
                #expect(abs(carried - unrolled) <= 1e-5 * (abs(carried) + 1e-6), "nesterov unrolled step \(step) w \(w)")
                next[w] = layer.weights[w] + delta
            }
            history.append(thisStep)
            layer.weights = next
        }
    }

    @Test func adamFirstOrderContributionsSumToTheUpdate() {
        for decoupled in [false, true] {
            var layer = TinyLayer()
            let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8, lambda: Float = 0.01, lr: Float = 0.01
            let rule = ContributionRule.adam(beta1: b1, beta2: b2, epsilon: eps, weightDecay: lambda, decoupled: decoupled)
            var m = [Float](repeating: 0, count: layer.weights.count), v = m
            for step in 1...3 {
                let d = layer.deltas()
                let g = layer.batchGradient(d)
                var next = layer.weights
                for w in 0..<layer.weights.count {
                    let wOld = layer.weights[w]
                    let gw = decoupled ? g[w] : g[w] + lambda * wOld
                    let carried0 = m[w]
                    m[w] = b1 * m[w] + (1 - b1) * gw
                    v[w] = b2 * v[w] + (1 - b2) * gw * gw
                    let mHat = m[w] / (1 - powf(b1, Float(step)))
                    let vHat = v[w] / (1 - powf(b2, Float(step)))
                    var delta = -lr * mHat / (vHat.squareRoot() + eps)
                    if decoupled { delta -= lr * lambda * wOld }
                    let k = rule.scale(learningRate: lr, batchSize: layer.batch, step: step, secondMoment: v[w])
                    var terms = (0..<layer.batch).map { k * layer.sampleGradient(d, sample: $0, weight: w) }
                    terms.append(rule.regularization(learningRate: lr, weight: wOld, step: step, secondMoment: v[w]))
                    terms.append(rule.carried(learningRate: lr, state: carried0, step: step, secondMoment: v[w]))
                    expectIdentity(terms, delta, "adam(decoupled: \(decoupled)) step \(step) w \(w)")
                    next[w] = wOld + delta
                }
                layer.weights = next
            }
        }
    }
}
