#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KymoCore

/// A complete report built from synthetic data shaped like a real run, for `kymo report --demo`,
/// the renderer tests and `scripts/render-check`. Deterministic: same seed, same bytes.
package enum ReportDemo {
    /// The demo model: every section the real command fills.
    /// - Complexity: O(steps + observations + pixels), about 10⁵ operations.
    package static func model(seed: UInt64 = 7) -> ReportModel {
        var rng = CounterRNG(key: seed)
        let runA = curves(&rng, steps: 600, rate: 1.0)
        let runB = curves(&rng, steps: 600, rate: 0.85)
        var model = ReportModel(title: "Kymograph report — mnist-mlp / run-a",
                                subtitle: ["lab ./lab · run run-a · seed 7 · 784-512-256-10 MLP, SGD η = 0.05, batch 64",
                                           "Synthetic demonstration data (ReportDemo); the real command fills the same sections from a recorded run."])
        model.sections.append(.trainingCurves(runA))
        model.sections.append(.recorded(recordedItems()))
        model.sections.append(.errorBounds(boundChecks(&rng)))
        model.sections.append(.trajectories(trajectories(&rng)))
        model.sections.append(.comparison(comparison(runA, runB, &rng)))
        model.sections.append(.images(ImageGrid(title: "Samples that moved fc1 most in epoch 2", images: images(&rng), columns: 8),
                                      heading: "Influential samples",
                                      text: "The twelve samples with the largest contribution mass to layer fc1 in epoch 2, from the heavy-hitter sketch.",
                                      caption: "Input images with sample id, label and estimated contribution mass."))
        return model
    }

    static func gaussian(_ rng: inout CounterRNG) -> Double {
        var s = 0.0
        for _ in 0..<12 { s += rng.nextDouble() }
        return s - 6
    }

    static func curves(_ rng: inout CounterRNG, steps: Int, rate: Double) -> TrainingCurves {
        var c = TrainingCurves(steps: Array(0..<steps), loss: [], epochStarts: Array(stride(from: 200, to: steps, by: 200)))
        for t in 0..<steps {
            let tt = Double(t) * rate
            let mean = 2.25 * exp(-tt / 90) + 0.12 + 0.1 * exp(-tt / 400)
            let loss = max(0.01, mean * (1 + 0.18 * gaussian(&rng)))
            c.loss.append(loss)
            c.accuracy.append(min(1, max(0, 1 - 0.38 * mean + 0.04 * gaussian(&rng))))
            c.gradientNorm.append(max(0.01, (1.8 * exp(-tt / 150) + 0.35) * (1 + 0.25 * gaussian(&rng))))
            c.updateNorm.append(max(0.0005, 0.05 * c.gradientNorm[t] * (1 + 0.1 * gaussian(&rng))))
            if t % 25 == 0 || t == steps - 1 {
                c.probeSteps.append(t)
                c.probeAccuracy.append(min(1, max(0, 0.97 - 0.86 * exp(-tt / 110) + 0.008 * gaussian(&rng))))
            }
        }
        return c
    }

    static func recordedItems() -> [RecordedItem] {
        [
            RecordedItem(tier: "T0", content: "run log: per-step metrics, data order", storedBytes: 1_310_720, rawBytes: 2_883_584, parameters: "600 steps, batch 64"),
            RecordedItem(tier: "T0", content: "checkpoints", storedBytes: 9_437_184, rawBytes: 12_858_368, parameters: "every 150 steps (ε = 5 %)"),
            RecordedItem(tier: "T1", content: "exact sampled weights", storedBytes: 3_145_728, rawBytes: 6_291_456, parameters: "1024 weights by hash"),
            RecordedItem(tier: "T2", content: "trajectories", storedBytes: 5_505_024, rawBytes: 25_690_112, parameters: "stride 10, q = 2^-12"),
            RecordedItem(tier: "T2", content: "count-min (sample, neuron)", storedBytes: 1_048_576, rawBytes: 1_048_576, parameters: "4 × 2^16, ε = 4.1e-5, δ = 0.018"),
            RecordedItem(tier: "T2", content: "Space-Saving heavy hitters", storedBytes: 262_144, rawBytes: 393_216, parameters: "k = 64 per neuron"),
            RecordedItem(tier: "T2", content: "priority sample of contributions", storedBytes: 655_360, rawBytes: 786_432, parameters: "m = 4096 per epoch"),
            RecordedItem(tier: "T2", content: "KLL |g| per step", storedBytes: 204_800, rawBytes: 245_760, parameters: "k = 200"),
        ]
    }

    static func boundChecks(_ rng: inout CounterRNG) -> [BoundCheck] {
        var countMin: [BoundedObservation] = []
        for _ in 0..<120 {
            let truth = 0.2 + 9.8 * rng.nextDouble() * rng.nextDouble()
            let excess = rng.nextDouble() < 0.975 ? 0.6 * rng.nextDouble() * rng.nextDouble() : 1.2 + rng.nextDouble()
            let estimate = truth + excess
            countMin.append(BoundedObservation(estimate: estimate, lower: estimate - 1.0, upper: estimate, truth: truth, confidence: 0.982))
        }
        var sample: [BoundedObservation] = []
        for _ in 0..<120 {
            let truth = -2 + 4 * rng.nextDouble()
            let sd = 0.08 + 0.25 * rng.nextDouble()
            let estimate = truth + sd * gaussian(&rng)
            sample.append(BoundedObservation(estimate: estimate, lower: estimate - 1.96 * sd, upper: estimate + 1.96 * sd, truth: truth, confidence: 0.95))
        }
        var trajectory: [BoundedObservation] = []
        let q = 1.0 / 64
        for _ in 0..<80 {
            let truth = -0.4 + 0.8 * rng.nextDouble()
            let estimate = (truth / q).rounded() * q
            trajectory.append(BoundedObservation(estimate: estimate, lower: estimate - q / 2, upper: estimate + q / 2, truth: truth, confidence: 1))
        }
        return [
            BoundCheck(source: "sketch:count-min", question: "mass of (sample, neuron) in epoch 2", observations: countMin),
            BoundCheck(source: "sketch:sample", question: "subset sum of contributions", observations: sample),
            BoundCheck(source: "trajectory", question: "weight value at step", observations: trajectory),
        ]
    }

    static func trajectories(_ rng: inout CounterRNG) -> [WeightTrajectory] {
        let names = ["fc1[312,405]", "fc1[87,350]", "fc2[12,201]", "fc3.bias[7]"]
        return names.enumerated().map { index, name in
            let q = 1.0 / Double(1 << (9 + index % 2))
            var w = 0.05 * gaussian(&rng)
            var reconstructed = 0.0
            var steps: [Int] = [], values: [Double] = [], exact: [Double] = []
            let drift = (index % 2 == 0 ? 1.0 : -1.0) * 0.0006 * Double(index + 2)
            for t in stride(from: 0, through: 600, by: 10) {
                w += drift * exp(-Double(t) / 300) * 10 + 0.0025 * gaussian(&rng)
                // Closed-loop quantization against the reconstructed previous value.
                reconstructed += ((w - reconstructed) / q).rounded() * q
                steps.append(t)
                values.append(reconstructed)
                exact.append(w)
            }
            return WeightTrajectory(name: name, steps: steps, values: values, quantum: q, exact: index < 2 ? exact : [])
        }
    }

    static func comparison(_ a: TrainingCurves, _ b: TrainingCurves, _ rng: inout CounterRNG) -> RunComparison {
        var steps: [Int] = [], distance: [Double] = []
        for t in stride(from: 0, through: 600, by: 20) {
            steps.append(t)
            distance.append(6.5 * (1 - exp(-Double(t) / 140)) + 0.05 * abs(gaussian(&rng)))
        }
        return RunComparison(nameA: "run-a", nameB: "run-b (shuffled)", a: a, b: b, distanceSteps: steps, distance: distance)
    }

    /// Synthetic 28×28 "digits": rings and strokes with soft edges.
    static func images(_ rng: inout CounterRNG) -> [GrayImage] {
        (0..<12).map { i in
            let label = i % 10
            var pixels = [Float](repeating: 0, count: 28 * 28)
            let cx = 14 + 2 * (rng.nextDouble() - 0.5), cy = 14 + 2 * (rng.nextDouble() - 0.5)
            let rx = 5 + 3 * rng.nextDouble(), ry = 8 + 2 * rng.nextDouble()
            for y in 0..<28 {
                for x in 0..<28 {
                    let dx = (Double(x) - cx) / rx, dy = (Double(y) - cy) / ry
                    let d: Double
                    if label == 1 || label == 7 {
                        d = abs(Double(x) - cx - 0.3 * (Double(y) - cy)) / 1.6 + (abs(Double(y) - cy) > ry ? 10 : 0)
                    } else {
                        d = abs((dx * dx + dy * dy).squareRoot() - 1) * 6
                    }
                    pixels[y * 28 + x] = Float(max(0, min(1, 1.4 - d * 0.9)))
                }
            }
            let mass = 4.2 * exp(-Double(i) / 5) + 0.3 * rng.nextDouble()
            return GrayImage(width: 28, height: 28, pixels: pixels,
                             caption: ["#\(1000 + 37 * i)  label \(label)", "mass \(NumberFormat.significant(mass, digits: 3))"])
        }
    }
}
