/// Flat parameter ids of a stack of dense layers, in the layout the recorder assumes for the
/// engine's ParameterLayout: per layer, the weight `(out, in)` row-major, then the bias `(out)`;
/// layers in order. (The wiring phase checks this against the engine's own layout.)
package struct DenseLayout: Equatable, Sendable {
    /// Where one flat id lives: layer, row, and column (`col == inputs` for the bias).
    package struct Position: Equatable, Sendable {
        package var layer: Int
        package var row: Int
        package var col: Int
    }

    package let layers: [RunShape.Dense]
    /// Flat id of each layer's first parameter, plus the total at the end.
    package let offsets: [Int]

    /// - Complexity: O(layers).
    package init(layers: [RunShape.Dense]) {
        self.layers = layers
        var offsets = [0]
        for l in layers { offsets.append(offsets.last! + l.parameterCount) }
        self.offsets = offsets
    }

    /// P.
    package var parameterCount: Int { offsets.last! }

    /// The position of flat id `id` (0 ≤ id < P).
    /// - Complexity: O(log layers).
    package func position(of id: Int) -> Position {
        precondition(id >= 0 && id < parameterCount, "parameter id \(id) out of range")
        var l = 0
        while offsets[l + 1] <= id { l += 1 }
        let local = id - offsets[l]
        let dense = layers[l]
        if local < dense.outputs * dense.inputs {
            return Position(layer: l, row: local / dense.inputs, col: local % dense.inputs)
        }
        return Position(layer: l, row: local - dense.outputs * dense.inputs, col: dense.inputs)
    }

    /// The flat id of a position.
    /// - Complexity: O(1).
    package func id(of p: Position) -> Int {
        let dense = layers[p.layer]
        if p.col == dense.inputs { return offsets[p.layer] + dense.outputs * dense.inputs + p.row }
        return offsets[p.layer] + p.row * dense.inputs + p.col
    }
}

/// T1's per-sample contributions for the selected weights of one layer and step:
/// `c(s, w, t) = k_w·δ_s[row]·a_s[col]` (bias: `k_w·δ_s[row]`), weight-major, batch order
/// within a weight — the `t1/contrib` row layout (docs/RECORDING.md).
package enum T1Contributions {
    /// Appends `positions.count × B` contributions to `output`.
    /// - Parameters:
    ///   - positions: the layer's selected weights (all with `layer` equal to this layer).
    ///   - scales: one k per position (SGD/momentum: all −η/B).
    /// - Complexity: O(n₁·B).
    package static func append(_ layer: LayerFactors, positions: [DenseLayout.Position], scales: [Float],
                               into output: inout [Float]) throws {
        guard scales.count == positions.count else {
            throw RecorderError.shapeMismatch(what: "T1 scales", expected: positions.count, actual: scales.count)
        }
        for (i, p) in positions.enumerated() {
            let k = scales[i]
            for s in 0..<layer.batch {
                let a: Float = p.col == layer.inputs ? 1 : layer.activations[s * layer.inputs + p.col]
                // k·(δ·a): the engine's StepTrace.contribution, so T1 equals replay bit for bit.
                output.append(k * (layer.deltas[s * layer.outputs + p.row] * a))
            }
        }
    }
}
