import Foundation
import KymoCore
import Testing
@testable import KymoEngine

/// Finite-difference checks: for a random linear read-out L = Σ r ⊙ output, the analytic gradient
/// of every input and parameter equals (L(x+h) − L(x−h)) / 2h, L evaluated in Double.
@Suite struct LayerGradientTests {
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    static func close(_ analytic: Float, _ numeric: Double, tolerance: Double) -> Bool {
        abs(Double(analytic) - numeric) <= tolerance * max(1, abs(numeric))
    }

    @Test func dense() {
        let (b, inF, outF) = (3, 5, 4)
        var x = randomFloats(b * inF, seed: 1)
        var w = randomFloats(outF * inF, seed: 2)
        var bias = randomFloats(outF, seed: 3)
        let r = randomFloats(b * outF, seed: 4)
        func loss(_ x: [Float], _ w: [Float], _ bias: [Float]) -> Double {
            var z = [Float](repeating: 0, count: b * outF)
            Dense.forward(batch: b, inFeatures: inF, outFeatures: outF, input: x, weight: w, bias: bias, output: &z)
            return Self.dot(z, r)
        }
        var dW = [Float](repeating: 0, count: outF * inF)
        var db = [Float](repeating: 0, count: outF)
        var dx = [Float](repeating: 0, count: b * inF)
        Dense.backward(batch: b, inFeatures: inF, outFeatures: outF, input: x, weight: w, outputGradient: r,
                       weightGradient: &dW, biasGradient: &db, inputGradient: &dx, scale: 1)
        let h: Float = 1e-2
        for i in 0..<w.count {
            let saved = w[i]
            w[i] = saved + h; let up = loss(x, w, bias)
            w[i] = saved - h; let down = loss(x, w, bias)
            w[i] = saved
            #expect(Self.close(dW[i], (up - down) / Double(2 * h), tolerance: 1e-3), "dW[\(i)]")
        }
        for i in 0..<bias.count {
            let saved = bias[i]
            bias[i] = saved + h; let up = loss(x, w, bias)
            bias[i] = saved - h; let down = loss(x, w, bias)
            bias[i] = saved
            #expect(Self.close(db[i], (up - down) / Double(2 * h), tolerance: 1e-3), "db[\(i)]")
        }
        for i in 0..<x.count {
            let saved = x[i]
            x[i] = saved + h; let up = loss(x, w, bias)
            x[i] = saved - h; let down = loss(x, w, bias)
            x[i] = saved
            #expect(Self.close(dx[i], (up - down) / Double(2 * h), tolerance: 1e-3), "dx[\(i)]")
        }
        // The 1/B scale of the batch mean.
        var scaled = [Float](repeating: 0, count: outF * inF)
        var scaledBias = [Float](repeating: 0, count: outF)
        Dense.backward(batch: b, inFeatures: inF, outFeatures: outF, input: x, weight: w, outputGradient: r,
                       weightGradient: &scaled, biasGradient: &scaledBias, inputGradient: nil, scale: 0.5)
        #expect(zip(scaled, dW).allSatisfy { $0 == $1 * 0.5 })
    }

    /// z kept away from ReLU's kink so the central difference does not straddle it.
    @Test func relu() {
        let n = 40
        var z = randomFloats(n, seed: 5).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        let r = randomFloats(n, seed: 6)
        func loss(_ z: [Float]) -> Double {
            var h = [Float](repeating: 0, count: n)
            ReLU.forward(z, &h, count: n)
            return Self.dot(h, r)
        }
        var g = r
        ReLU.backward(z, &g, count: n)
        let h: Float = 1e-3
        for i in 0..<n {
            let saved = z[i]
            z[i] = saved + h; let up = loss(z)
            z[i] = saved - h; let down = loss(z)
            z[i] = saved
            #expect(Self.close(g[i], (up - down) / Double(2 * h), tolerance: 1e-3))
        }
        #expect(g.enumerated().contains { $0.element == 0 } && g.contains { $0 != 0 })
    }

    @Test func tanh() {
        let n = 40
        var z = randomFloats(n, seed: 7, scale: 3)
        let r = randomFloats(n, seed: 8)
        func forward(_ z: [Float]) -> [Float] {
            var h = [Float](repeating: 0, count: n)
            Tanh.forward(z, &h, count: n)
            return h
        }
        var g = r
        Tanh.backward(forward(z), &g, count: n)
        let h: Float = 1e-3
        for i in 0..<n {
            let saved = z[i]
            z[i] = saved + h; let up = Self.dot(forward(z), r)
            z[i] = saved - h; let down = Self.dot(forward(z), r)
            z[i] = saved
            #expect(Self.close(g[i], (up - down) / Double(2 * h), tolerance: 2e-3), "tanh'[\(i)]")
            // Against the analytic derivative in Double.
            let exact = Double(r[i]) * (1 - Foundation.tanh(Double(saved)) * Foundation.tanh(Double(saved)))
            #expect(abs(Double(g[i]) - exact) <= 1e-6)
        }
    }

    @Test func dropoutWithFixedMask() {
        let (b, units, p): (Int, Int, Float) = (4, 10, 0.3)
        var mask = [Float](repeating: 0, count: b * units)
        Dropout.makeMask(key: CounterRNG(key: 11), step: 5, probability: p, batch: b, units: units, mask: &mask)
        var x = randomFloats(b * units, seed: 9)
        let r = randomFloats(b * units, seed: 10)
        func loss(_ x: [Float]) -> Double {
            var y = x
            Dropout.forward(&y, mask: mask, count: y.count)
            return Self.dot(y, r)
        }
        var g = r
        Dropout.backward(&g, mask: mask, count: g.count)
        let h: Float = 1e-2
        for i in 0..<x.count {
            let saved = x[i]
            x[i] = saved + h; let up = loss(x)
            x[i] = saved - h; let down = loss(x)
            x[i] = saved
            #expect(Self.close(g[i], (up - down) / Double(2 * h), tolerance: 1e-3))
        }
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
    }

    @Test func dropoutMaskIsAPureFunctionOfStepPositionAndUnit() {
        let (b, units, p): (Int, Int, Float) = (64, 256, 0.25)
        var first = [Float](repeating: 0, count: b * units)
        var again = first
        var nextStep = first
        Dropout.makeMask(key: CounterRNG(key: 3), step: 17, probability: p, batch: b, units: units, mask: &first)
        Dropout.makeMask(key: CounterRNG(key: 3), step: 17, probability: p, batch: b, units: units, mask: &again)
        Dropout.makeMask(key: CounterRNG(key: 3), step: 18, probability: p, batch: b, units: units, mask: &nextStep)
        #expect(first == again)
        #expect(first != nextStep)
        let dropped = Double(first.filter { $0 == 0 }.count) / Double(first.count)
        #expect(abs(dropped - 0.25) < 0.01, "dropped fraction \(dropped)")
        // A smaller batch sees the same mask rows (position s, unit j).
        var small = [Float](repeating: 0, count: 3 * units)
        Dropout.makeMask(key: CounterRNG(key: 3), step: 17, probability: p, batch: 3, units: units, mask: &small)
        #expect(Array(first[0..<(3 * units)]) == small)
    }

    @Test func softmaxCrossEntropy() {
        let (b, c) = (4, 5)
        var z = randomFloats(b * c, seed: 12, scale: 4)
        let labels: [Int32] = [0, 3, 4, 2]
        func losses(_ z: [Float]) -> [Float] {
            var l = [Float](repeating: 0, count: b)
            var correct = [UInt8](repeating: 0, count: b)
            SoftmaxCrossEntropy.forwardBackward(batch: b, classes: c, logits: z, labels: labels,
                                                losses: &l, correct: &correct, gradient: nil)
            return l
        }
        var l = [Float](repeating: 0, count: b)
        var correct = [UInt8](repeating: 0, count: b)
        var g = [Float](repeating: 0, count: b * c)
        SoftmaxCrossEntropy.forwardBackward(batch: b, classes: c, logits: z, labels: labels,
                                            losses: &l, correct: &correct, gradient: &g)
        for s in 0..<b {
            // Double reference.
            let row = (0..<c).map { Double(z[s * c + $0]) }
            let m = row.max()!
            let lse = Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +)) + m
            #expect(abs(Double(l[s]) - (lse - row[Int(labels[s])])) <= 1e-5)
            let argmax = row.firstIndex(of: m)!
            #expect(correct[s] == (argmax == Int(labels[s]) ? 1 : 0))
            for j in 0..<c {
                let p = Foundation.exp(row[j] - lse) - (j == Int(labels[s]) ? 1 : 0)
                #expect(abs(Double(g[s * c + j]) - p) <= 1e-6)
            }
        }
        let h: Float = 1e-2
        for i in 0..<z.count {
            let saved = z[i]
            z[i] = saved + h; let up = losses(z).reduce(0.0) { $0 + Double($1) }
            z[i] = saved - h; let down = losses(z).reduce(0.0) { $0 + Double($1) }
            z[i] = saved
            #expect(Self.close(g[i], (up - down) / Double(2 * h), tolerance: 2e-3), "dz[\(i)]")
        }
    }

    @Test func nonFiniteLogitsGiveNaNLoss() {
        let z: [Float] = [1, .nan, 0, .infinity, 2, 3]
        var l: [Float] = [0, 0]
        var correct: [UInt8] = [0, 0]
        SoftmaxCrossEntropy.forwardBackward(batch: 2, classes: 3, logits: z, labels: [0, 1], losses: &l, correct: &correct, gradient: nil)
        #expect(!l[0].isFinite)
        #expect(!l[1].isFinite)
    }
}
