import KymoStore

/// T3, the optional tier: each step's per-sample rank-one factors (a_s, δ_s) of every dense
/// layer, in Float16 with one power-of-two scale per (sample, layer, factor), for the epochs
/// chosen with `--factor-epochs` (docs/RECORDING.md, "T3"). From them any sample's contribution
/// to any weight of those epochs is `k·δ_s[row]·a_s[col]` (docs/ATTRIBUTION.md) up to the
/// rounding bound of `FactorEncoding`, without replay.
///
/// Columns, per layer `L` (one row per step, rows of B samples, sample-major):
///
/// | column | type | per step |
/// | --- | --- | --- |
/// | `t3/L/delta` | F16 × B·out | δ_s / 2^e, row-major (sample, output) |
/// | `t3/L/delta_scale` | F32 × B | 2^e per sample |
/// | `t3/L/input` | F16 × B·in | a_s / 2^e (every layer but the first) |
/// | `t3/L/input_scale` | F32 × B | 2^e per sample (every layer but the first) |
/// | `t3/scale` | F32 × 1 | the step's uniform contribution scale k (NaN when per-parameter: Adam) |
///
/// The first layer's input is the data set's row of the sample (its id is in `t0/order`), so it
/// is not stored. Rows are buffered and written `stepsPerChunk` steps to a chunk (a chunk never
/// spans two epochs), and flushed before every commit.
///
/// Used on the recorder thread only (inside `StoreSink`), in step order.
package final class FactorTierWriter {
    package let writer: RunWriter
    package let layout: DenseLayout
    package let layerNames: [String]
    /// 0-based epochs whose factors are stored.
    package let epochs: Set<Int>
    package let stepsPerChunk: Int

    private struct Pending {
        var halves: [UInt16] = []
        var scales: [Float] = []

        mutating func append(_ values: UnsafeBufferPointer<Float>, rows: Int, width: Int) {
            FactorEncoding.append(values, rows: rows, width: width, into: &halves, scales: &scales)
        }
    }
    /// Per layer: δ, then a (unused for layer 0).
    private var deltas: [Pending]
    private var inputs: [Pending]
    private var stepScales: [Float] = []
    private var firstStep = 0
    private var rows = 0
    private var rowEpoch = -1
    private var rowBatch = 0

    /// - Complexity: O(layers).
    package init(writer: RunWriter, layout: DenseLayout, layerNames: [String], epochs: Set<Int>, stepsPerChunk: Int = 16) {
        precondition(stepsPerChunk > 0, "a chunk holds at least one step")
        self.writer = writer
        self.layout = layout
        self.layerNames = layerNames
        self.epochs = epochs
        self.stepsPerChunk = stepsPerChunk
        deltas = Array(repeating: Pending(), count: layout.layers.count)
        inputs = deltas
    }

    /// Column names of layer `l`'s factors.
    /// - Complexity: O(1).
    package static func columns(layer name: String) -> (delta: String, deltaScale: String, input: String, inputScale: String) {
        ("t3/\(name)/delta", "t3/\(name)/delta_scale", "t3/\(name)/input", "t3/\(name)/input_scale")
    }

    /// The per-step column of uniform contribution scales.
    package static let scaleColumn = "t3/scale"

    /// Encodes the slot's factors when its epoch is chosen (call once per step, in step order).
    /// - Throws: store errors of a chunk write.
    /// - Complexity: O(B·Σ(in + out)) (plus the chunk write every `stepsPerChunk` steps).
    package func append(_ slot: StepSlot) throws {
        guard epochs.contains(slot.epoch) else { return }
        let b = slot.batch
        // A chunk holds rows of one width: consecutive steps of one epoch with one batch size (an
        // epoch's short last batch starts a chunk of its own).
        if rows > 0 && (rowEpoch != slot.epoch || firstStep + rows != slot.step || rowBatch != b) { try flush() }
        if rows == 0 {
            firstStep = slot.step
            rowEpoch = slot.epoch
            rowBatch = b
        }
        for l in layout.layers.indices {
            let dense = layout.layers[l]
            try slot.withFactors(layer: l) { factors in
                deltas[l].append(factors.deltas, rows: b, width: dense.outputs)
                if l > 0 { inputs[l].append(factors.activations, rows: b, width: dense.inputs) }
            }
        }
        stepScales.append(slot.perParameterScales == nil ? slot.contributionScale : .nan)
        rows += 1
        if rows == stepsPerChunk { try flush() }
    }

    /// Writes the buffered steps as one chunk per column (no commit).
    /// - Throws: store errors.
    /// - Complexity: O(buffered floats).
    package func flush() throws {
        guard rows > 0 else { return }
        let steps = firstStep..<(firstStep + rows)
        for (l, name) in layerNames.enumerated() {
            let c = Self.columns(layer: name)
            try writer.append(column: c.delta, steps: steps, .float16(deltas[l].halves))
            try writer.append(column: c.deltaScale, steps: steps, .float32(deltas[l].scales))
            if l > 0 {
                try writer.append(column: c.input, steps: steps, .float16(inputs[l].halves))
                try writer.append(column: c.inputScale, steps: steps, .float32(inputs[l].scales))
            }
            deltas[l].halves.removeAll(keepingCapacity: true)
            deltas[l].scales.removeAll(keepingCapacity: true)
            inputs[l].halves.removeAll(keepingCapacity: true)
            inputs[l].scales.removeAll(keepingCapacity: true)
        }
        try writer.append(column: Self.scaleColumn, steps: steps, .float32(stepScales))
        stepScales.removeAll(keepingCapacity: true)
        rows = 0
    }
}
