/// Per-sample norms of one layer's factors, computed in one pass over a and one over δ and then
/// shared by the gradient norms, the neuron masses and the contribution sampler.
package struct LayerFactorSummary: Equatable, Sendable {
    /// ‖a_s‖₁, ‖a_s‖₂², max|a_s| (the bias column, a = 1, is *not* included).
    package var activationL1: [Float]
    package var activationSquares: [Float]
    package var activationMax: [Float]
    /// ‖δ_s‖₁, ‖δ_s‖₂².
    package var deltaL1: [Float]
    package var deltaSquares: [Float]

    /// - Complexity: O(B·(in + out)), vectorized, fixed summation order.
    package init(_ layer: LayerFactors) {
        let b = layer.batch
        activationL1 = [Float](repeating: 0, count: b)
        activationSquares = activationL1
        activationMax = activationL1
        deltaL1 = activationL1
        deltaSquares = activationL1
        for s in 0..<b {
            (activationL1[s], activationSquares[s], activationMax[s]) = Self.norms(layer.activations(ofSample: s))
            (deltaL1[s], deltaSquares[s], _) = Self.norms(layer.deltas(ofSample: s))
        }
    }

    /// (Σ|x|, Σx², max|x|) in a fixed order: 8 lanes, lane sums, then the tail. NaN propagates to
    /// the sums; max ignores NaN lanes.
    static func norms(_ x: UnsafeBufferPointer<Float>) -> (Float, Float, Float) {
        guard let base = x.baseAddress else { return (0, 0, 0) }
        let n = x.count, vectors = n / 8
        let raw = UnsafeRawPointer(base)
        var l1 = SIMD8<Float>.zero, sq = SIMD8<Float>.zero
        var mx = SIMD8<UInt32>.zero
        let mask = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        for v in 0..<vectors {
            let bits = raw.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<UInt32>.self) & mask
            let e = unsafeBitCast(bits, to: SIMD8<Float>.self)
            l1 += e
            sq = sq.addingProduct(e, e)
            // For non-negative floats the bit patterns order like the values; exclude NaN.
            let finiteOrInf = bits .<= SIMD8<UInt32>(repeating: 0x7F80_0000)
            mx.replace(with: bits, where: (bits .> mx) .& finiteOrInf)
        }
        var a = l1.sum(), b = sq.sum()
        var m = Float(bitPattern: mx.max())
        for i in (vectors * 8)..<n {
            let e = abs(x[i])
            a += e
            b = b.addingProduct(e, e)
            if e > m { m = e }
        }
        return (a, b, m)
    }
}
