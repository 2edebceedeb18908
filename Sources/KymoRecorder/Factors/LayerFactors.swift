/// One dense layer's per-sample rank-one factors for one step, as the engine exposes them:
///
///     a  (B, in)   row-major: sample s's input to the layer
///     δ  (B, out)  row-major: ∂ℓ_s/∂z, the gradient of sample s's *own* loss with respect to the
///                  layer's pre-activation z = W a + b (not divided by B)
///
/// so that sample s's gradient for weight [row, col] is `δ[s,row]·a[s,col]`, for bias[row] it is
/// `δ[s,row]`, and its contribution is `scale·δ[s,row]·a[s,col]` (see docs/ATTRIBUTION.md).
/// A view over buffers owned by the caller; valid only inside the caller's `withUnsafe…` scope.
package struct LayerFactors {
    package let batch: Int
    package let inputs: Int
    package let outputs: Int
    /// a, `batch × inputs`.
    package let activations: UnsafeBufferPointer<Float>
    /// δ, `batch × outputs`.
    package let deltas: UnsafeBufferPointer<Float>

    /// - Throws: `RecorderError.shapeMismatch` when a buffer's length is not the shape's.
    /// - Complexity: O(1).
    package init(batch: Int, inputs: Int, outputs: Int,
                 activations: UnsafeBufferPointer<Float>, deltas: UnsafeBufferPointer<Float>) throws {
        guard activations.count == batch * inputs else {
            throw RecorderError.shapeMismatch(what: "activations (B×in)", expected: batch * inputs, actual: activations.count)
        }
        guard deltas.count == batch * outputs else {
            throw RecorderError.shapeMismatch(what: "deltas (B×out)", expected: batch * outputs, actual: deltas.count)
        }
        self.batch = batch
        self.inputs = inputs
        self.outputs = outputs
        self.activations = activations
        self.deltas = deltas
    }

    /// Sample s's input row a_s.
    /// - Complexity: O(1).
    package func activations(ofSample s: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: activations[(s * inputs)..<((s + 1) * inputs)])
    }

    /// Sample s's delta row δ_s.
    /// - Complexity: O(1).
    package func deltas(ofSample s: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: deltas[(s * outputs)..<((s + 1) * outputs)])
    }
}

/// Per-sample quantities computed from the factors alone, never from a per-sample gradient.
package enum SampleFactorStatistics {
    /// Σ x² of a row, in a fixed order (8 lanes, then a fixed lane reduction, then the tail).
    /// - Complexity: O(n).
    package static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Float {
        var acc = SIMD8<Float>.zero
        let n = x.count, vectors = n / 8
        guard let base = x.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        for v in 0..<vectors {
            let e = raw.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)
            acc = acc.addingProduct(e, e)
        }
        var total = acc.sum()
        for i in (vectors * 8)..<n { total = total.addingProduct(x[i], x[i]) }
        return total
    }

    /// Σ |x| of a row, in a fixed order.
    /// - Complexity: O(n).
    package static func sumOfMagnitudes(_ x: UnsafeBufferPointer<Float>) -> Float {
        var acc = SIMD8<Float>.zero
        let n = x.count, vectors = n / 8
        guard let base = x.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        for v in 0..<vectors {
            let e = raw.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)
            acc += unsafeBitCast(unsafeBitCast(e, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        }
        var total = acc.sum()
        for i in (vectors * 8)..<n { total += abs(x[i]) }
        return total
    }

    /// Adds each sample's squared gradient norm over this layer's weights and biases,
    /// `‖δ_s‖²·(‖a_s‖² + 1)`, into `normsSquared[s]`. Call once per layer (in layer order) on a
    /// zeroed buffer to get `‖g_s‖² = Σ_l ‖δ_s,l‖²(‖a_s,l‖² + 1)`.
    /// - Throws: `RecorderError.shapeMismatch` when `normsSquared` is not B long.
    /// - Complexity: O(B·(in + out)).
    package static func accumulateGradientNormsSquared(_ layer: LayerFactors, into normsSquared: inout [Float]) throws {
        try accumulateGradientNormsSquared(LayerFactorSummary(layer), into: &normsSquared)
    }

    /// The same from a precomputed summary (shared with the masses and the sampler).
    /// - Complexity: O(B).
    package static func accumulateGradientNormsSquared(_ summary: LayerFactorSummary, into normsSquared: inout [Float]) throws {
        let b = summary.deltaSquares.count
        guard normsSquared.count == b else {
            throw RecorderError.shapeMismatch(what: "gradient norms", expected: b, actual: normsSquared.count)
        }
        for s in 0..<b { normsSquared[s] += summary.deltaSquares[s] * (summary.activationSquares[s] + 1) }
    }

    /// Contribution mass of every (sample, neuron): `|scale|·|δ_s[row]|·(‖a_s‖₁ + 1)`, the sum of
    /// |c(s, w, t)| over the neuron's weights and its bias, written row-major into `mass`
    /// (`B × out`). This is the stream that feeds the per-neuron Space-Saving of samples and the
    /// (sample, neuron) count-min. For Adam pass the largest |scale| of the row, which makes the
    /// value an upper bound (docs/ATTRIBUTION.md).
    /// - Throws: `RecorderError.shapeMismatch` when `mass` is not B×out long.
    /// - Complexity: O(B·(in + out)).
    package static func neuronContributionMass(_ layer: LayerFactors, scale: Float, into mass: inout [Float]) throws {
        try neuronContributionMass(layer, summary: LayerFactorSummary(layer), scale: scale, into: &mass)
    }

    /// The same with ‖a_s‖₁ from a precomputed summary.
    /// - Complexity: O(B·out).
    package static func neuronContributionMass(_ layer: LayerFactors, summary: LayerFactorSummary, scale: Float,
                                               into mass: inout [Float]) throws {
        guard mass.count == layer.batch * layer.outputs else {
            throw RecorderError.shapeMismatch(what: "neuron mass (B×out)", expected: layer.batch * layer.outputs, actual: mass.count)
        }
        let k = abs(scale)
        mass.withUnsafeMutableBufferPointer { out in
            for s in 0..<layer.batch {
                let factor = k * (summary.activationL1[s] + 1)
                let d = layer.deltas(ofSample: s)
                let row = s * layer.outputs
                for r in 0..<layer.outputs { out[row + r] = factor * abs(d[r]) }
            }
        }
    }
}
