import Foundation
import KymoCore
import KymoEngine
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoRecorder

/// T3: the Float16 factor encoding's bound, and a recorded run whose T3 factors reproduce the
/// exact T1 contributions within that bound.
@Suite struct FactorTierTests {
    static func halves(_ reader: RunReader, _ column: String, _ t: Int) throws -> [UInt16] {
        guard case let .float16(v) = try reader.read(column: column, steps: t..<(t + 1)) else {
            Issue.record("\(column) is not float16"); return []
        }
        return v
    }

    @Test func encodingStaysWithinItsBound() {
        var rng = CounterRNG(key: 31)
        var worstRatio: Float = 0
        for trial in 0..<200 {
            let width = 1 + Int(rng.next(below: 300))
            // Rows spanning many binades, with zeros, at scales from 1e-12 to 1e4.
            let magnitude = Float(pow(10.0, Double(trial % 17) - 12))
            var row = (0..<width).map { _ -> Float in
                let u = rng.nextFloat()
                if u < 0.1 { return 0 }
                let spread = Float(pow(2.0, -40 * Double(rng.nextFloat())))
                return (u < 0.55 ? -1 : 1) * magnitude * spread * (1 + rng.nextFloat())
            }
            if trial == 0 { row = Array(repeating: 0, count: width) }
            var halves: [UInt16] = [], scales: [Float] = []
            row.withUnsafeBufferPointer { FactorEncoding.append($0, rows: 1, width: width, into: &halves, scales: &scales) }
            #expect(halves.count == width && scales.count == 1)
            let scale = scales[0]
            #expect(scale == Float(sign: .plus, exponent: scale.exponent, significand: 1), "a power of two")
            for i in 0..<width {
                let decoded = FactorEncoding.decode(halves[i], scale: scale)
                let bound = FactorEncoding.bound(decoded: decoded, scale: scale)
                let error = abs(decoded - row[i])
                #expect(error <= bound, "trial \(trial) value \(row[i]) decoded \(decoded) bound \(bound)")
                if bound > 0 { worstRatio = max(worstRatio, error / bound) }
            }
        }
        // The bound is not vacuous: some value uses a good part of it.
        #expect(worstRatio > 0.2)
    }

    /// Rows of tiny and subnormal values (a sample whose δ underflowed) keep finite scales and
    /// decoded values within the bound.
    @Test func tinyRowsStayFiniteAndBounded() {
        let rows: [[Float]] = [
            [1e-36, -3e-37, 0, 2e-38],
            [Float.leastNonzeroMagnitude, 0, -4 * Float.leastNonzeroMagnitude, Float(1e-44 as Double)],
            [Float.leastNormalMagnitude, 0, -Float.leastNormalMagnitude / 2],
        ]
        for row in rows {
            var halves: [UInt16] = [], scales: [Float] = []
            row.withUnsafeBufferPointer { FactorEncoding.append($0, rows: 1, width: row.count, into: &halves, scales: &scales) }
            #expect(scales[0].isFinite && scales[0] > 0 && scales[0] >= Float.leastNormalMagnitude)
            for (i, x) in row.enumerated() {
                let decoded = FactorEncoding.decode(halves[i], scale: scales[0])
                #expect(decoded.isFinite)
                #expect(abs(decoded - x) <= FactorEncoding.bound(decoded: decoded, scale: scales[0]), "\(x) → \(decoded)")
            }
        }
    }

    @Test func recordedFactorsReproduceTheExactContributions() throws {
        let dir = try TemporaryDirectory()
        let config = try RecordingTests.config(optimizer: .momentum, epochs: 3)
        var options = RecordingTests.options()
        options.tiers = [.t1, .t2, .t3]
        options.factorEpochs = [1]
        let (_, recording, reader) = try RecordingTests.record(config, in: dir, options: options)
        let section = try RecorderManifest(manifestConfig: reader.manifest.config)
        #expect(section.tiers.contains("t3") && section.factorEpochs == [1])
        let trainer = recording.trainer
        let perEpoch = trainer.stepsPerEpoch
        let epochSteps = perEpoch..<(2 * perEpoch)
        // Only the chosen epoch is stored.
        #expect(reader.chunks(column: "t3/fc1/delta").allSatisfy { $0.steps.lowerBound >= epochSteps.lowerBound && $0.steps.upperBound <= epochSteps.upperBound })
        #expect(reader.chunks(column: "t3/fc1/delta").reduce(0) { $0 + $1.steps.count } == perEpoch)
        #expect(reader.chunks(column: "t3/fc1/input").isEmpty, "the first layer's input is the data")

        let layout = DenseLayout(layers: recording.manifest.layers.map { RunShape.Dense(inputs: $0.inputs, outputs: $0.outputs) })
        let n1 = section.t1Ids.count
        let features = trainer.training.features, f = trainer.training.featureCount
        var checked = 0, worst: Double = 0
        for t in epochSteps {
            guard case let .uint32(ids) = try reader.read(column: "t0/order", steps: t..<(t + 1)) else { Issue.record("t0/order"); return }
            let b = ids.count
            let exact = try RecordingTests.floats(reader, "t1/contrib", t..<(t + 1))
            let k = try RecordingTests.floats(reader, FactorTierWriter.scaleColumn, t..<(t + 1))[0]
            #expect(k == -config.optimizer.learningRate / Float(b))
            var deltas: [[UInt16]] = [], deltaScales: [[Float]] = [], inputs: [[UInt16]] = [], inputScales: [[Float]] = []
            for (l, name) in recording.manifest.layers.map(\.name).enumerated() {
                let c = FactorTierWriter.columns(layer: name)
                deltas.append(try Self.halves(reader, c.delta, t))
                deltaScales.append(try RecordingTests.floats(reader, c.deltaScale, t..<(t + 1)))
                inputs.append(l == 0 ? [] : try Self.halves(reader, c.input, t))
                inputScales.append(l == 0 ? [] : try RecordingTests.floats(reader, c.inputScale, t..<(t + 1)))
            }
            for (i, id) in section.t1Ids.enumerated() {
                let p = layout.position(of: id)
                let dense = layout.layers[p.layer]
                for s in 0..<b {
                    let dScale = deltaScales[p.layer][s]
                    let d = FactorEncoding.decode(deltas[p.layer][s * dense.outputs + p.row], scale: dScale)
                    let dError = FactorEncoding.bound(decoded: d, scale: dScale)
                    var a: Float = 1, aError: Float = 0
                    if p.col < dense.inputs {
                        if p.layer == 0 {
                            a = features[Int(ids[s]) * f + p.col]
                        } else {
                            let aScale = inputScales[p.layer][s]
                            a = FactorEncoding.decode(inputs[p.layer][s * dense.inputs + p.col], scale: aScale)
                            aError = FactorEncoding.bound(decoded: a, scale: aScale)
                        }
                    }
                    let estimate = Double(k) * Double(d) * Double(a)
                    let bound = Double(abs(k)) * (Double(abs(d)) * Double(aError) + Double(abs(a)) * Double(dError) + Double(dError) * Double(aError))
                    let truth = Double(exact[i * b + s])
                    // The stored exact value is itself one Float32 product chain: a few ulps.
                    let slack = 4 * Double(Float.ulpOfOne) * abs(truth) + 1e-30
                    #expect(abs(estimate - truth) <= bound + slack, "step \(t) weight \(id) sample \(s): \(estimate) vs \(truth) ± \(bound)")
                    if bound > 0 { worst = max(worst, abs(estimate - truth) / bound) }
                    checked += 1
                }
            }
        }
        #expect(checked == n1 * trainer.training.count)
        #expect(worst > 0.01, "the bound is not vacuous")
    }
}
