/// A fully connected layer `z = a·Wᵀ + b`. All products go through `GEMM.multiply`.
///
/// Shapes: input a (B, in), weight W (out, in) row-major, bias b (out), output z (B, out).
package enum Dense {
    /// z = a·Wᵀ + b. Each z[s,j] is the FMA chain `b[j] + Σ_k a[s,k]·W[j,k]` in ascending k.
    /// - Complexity: O(B·in·out).
    package static func forward(
        batch: Int, inFeatures: Int, outFeatures: Int,
        input: UnsafePointer<Float>,                // (B, in)
        weight: UnsafePointer<Float>,               // (out, in)
        bias: UnsafePointer<Float>,                 // (out)
        output: UnsafeMutablePointer<Float>,        // (B, out)
        threads: Int = 1
    ) {
        for s in 0..<batch { (output + s * outFeatures).update(from: bias, count: outFeatures) }
        GEMM.multiply(m: batch, n: outFeatures, k: inFeatures,
                      a: input, lda: inFeatures,
                      b: weight, ldb: inFeatures, transposeB: true,
                      c: output, ldc: outFeatures, accumulate: true, threads: threads)
    }

    /// Given δ = ∂L/∂z (B, out) for a loss L = Σ_s ℓ_s, writes
    /// dW = scale·δᵀ·a (out, in), db = scale·Σ_s δ_s (out, ascending s), and, when `inputGradient`
    /// is given, ∂L/∂a = δ·W (B, in). The trainer passes scale = 1/B for the batch mean.
    /// - Complexity: O(B·in·out).
    package static func backward(
        batch: Int, inFeatures: Int, outFeatures: Int,
        input: UnsafePointer<Float>,                // a (B, in)
        weight: UnsafePointer<Float>,               // W (out, in)
        outputGradient: UnsafePointer<Float>,       // δ (B, out)
        weightGradient: UnsafeMutablePointer<Float>, // dW (out, in)
        biasGradient: UnsafeMutablePointer<Float>,  // db (out)
        inputGradient: UnsafeMutablePointer<Float>?, // da (B, in)
        scale: Float,
        threads: Int = 1
    ) {
        GEMM.multiply(m: outFeatures, n: inFeatures, k: batch,
                      a: outputGradient, lda: outFeatures, transposeA: true,
                      b: input, ldb: inFeatures,
                      c: weightGradient, ldc: inFeatures, accumulate: false, threads: threads)
        if scale != 1 {
            for i in 0..<(outFeatures * inFeatures) { weightGradient[i] *= scale }
        }
        biasGradient.update(repeating: 0, count: outFeatures)
        for s in 0..<batch {
            let row = outputGradient + s * outFeatures
            for j in 0..<outFeatures { biasGradient[j] += row[j] }
        }
        if scale != 1 {
            for j in 0..<outFeatures { biasGradient[j] *= scale }
        }
        if let inputGradient {
            GEMM.multiply(m: batch, n: inFeatures, k: outFeatures,
                          a: outputGradient, lda: outFeatures,
                          b: weight, ldb: inFeatures,
                          c: inputGradient, ldc: inFeatures, accumulate: false, threads: threads)
        }
    }
}
