import KymoRecorder
import KymoReplay
import KymoStore

extension StoreRunData {
    /// T3 factors of `layer` at query steps `steps` (1-based), decoded: δ and, for layers after
    /// the first, a from `t3/<layer>/…`; the first layer's a is gathered from the training set
    /// (loaded and fingerprint-checked once, `StoreCheckpointSource.trainingSet(of:)`). nil when
    /// some step of `steps` has no factors.
    /// - Throws: `QueryError` for a malformed column or a data set that cannot be loaded.
    /// - Complexity: O(steps·B·(in + out)) plus decoding the overlapping chunks.
    package func factors(layer: Int, steps: ClosedRange<Int>) throws -> [StepFactors]? {
        guard layer >= 0, layer < layerNames.count, steps.lowerBound >= 1,
              steps.allSatisfy({ catalog.factorEpochs.contains(catalog.epoch(ofStep: $0)) }) else { return nil }
        let names = FactorTierWriter.columns(layer: layerNames[layer])
        let rows = (steps.lowerBound - 1)..<steps.upperBound
        let dims = catalog.layout.layers[layer]
        func halves(_ column: String) throws -> [UInt16] {
            guard case .float16(let v) = try reader.read(column: column, steps: rows) else {
                throw QueryError.invalid(location: nil, message: "\(column) at steps \(steps): not Float16")
            }
            return v
        }
        func floats(_ column: String) throws -> [Float] {
            guard case .float32(let v) = try reader.read(column: column, steps: rows) else {
                throw QueryError.invalid(location: nil, message: "\(column) at steps \(steps): not Float32")
            }
            return v
        }
        let deltas = try halves(names.delta), deltaScales = try floats(names.deltaScale)
        let scales = try floats(FactorTierWriter.scaleColumn)
        let inputs = layer > 0 ? try halves(names.input) : []
        let inputScales = layer > 0 ? try floats(names.inputScale) : []
        if layer == 0 && factorInputs == nil {
            do { factorInputs = try StoreCheckpointSource.trainingSet(of: reader) } catch {
                throw QueryError.invalid(location: nil, message: "run '\(catalog.name)': T3 needs the training set for \(layerNames[0])'s inputs: \(error)")
            }
        }
        var result: [StepFactors] = []
        var deltaAt = 0, inputAt = 0, sampleAt = 0
        for (i, t) in steps.enumerated() {
            let ids = try batch(step: t)
            let b = ids.count
            guard deltaAt + b * dims.outFeatures <= deltas.count, sampleAt + b <= deltaScales.count, i < scales.count,
                  layer == 0 || inputAt + b * dims.inFeatures <= inputs.count else {
                throw QueryError.invalid(location: nil, message: "T3 of \(layerNames[layer]) at step \(t): rows do not match the batch of \(b)")
            }
            var f = StepFactors(deltas: [], deltaScales: Array(deltaScales[sampleAt..<(sampleAt + b)]), inputs: [],
                                inputScales: layer > 0 ? Array(inputScales[sampleAt..<(sampleAt + b)]) : nil, scale: scales[i])
            f.deltas = (0..<(b * dims.outFeatures)).map { j in
                FactorEncoding.decode(deltas[deltaAt + j], scale: f.deltaScales[j / dims.outFeatures])
            }
            if layer > 0 {
                f.inputs = (0..<(b * dims.inFeatures)).map { j in
                    FactorEncoding.decode(inputs[inputAt + j], scale: f.inputScales![j / dims.inFeatures])
                }
            } else if let data = factorInputs {
                let width = data.featureCount
                f.inputs.reserveCapacity(b * width)
                data.features.withUnsafeBufferPointer { x in
                    for id in ids { f.inputs.append(contentsOf: x[(id * width)..<((id + 1) * width)]) }
                }
            }
            result.append(f)
            deltaAt += b * dims.outFeatures
            inputAt += b * dims.inFeatures
            sampleAt += b
        }
        return result
    }
}
