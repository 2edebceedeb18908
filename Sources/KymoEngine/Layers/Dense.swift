/// A fully connected layer `z = a·Wᵀ + b`. All products go through `GEMM.multiply`, or, where the
/// caller knows the left operand has many exact zeros (an input a that came out of a ReLU or
/// dropout, a δ that went back through one), through `GEMM.multiplySkippingZeros`, which gives the
/// same bits.
///
/// Shapes: input a (B, in), weight W (out, in) row-major, bias b (out), output z (B, out).
package enum Dense {
    /// z = a·Wᵀ + b. Each z[s,j] is the FMA chain `b[j] + Σ_k a[s,k]·W[j,k]` in ascending k.
    /// With `sparseInput` the terms with a[s,k] = 0 are skipped (same bits).
    /// - Complexity: O(B·in·out); O(nnz(a)·out) with `sparseInput`.
    package static func forward(
        batch: Int, inFeatures: Int, outFeatures: Int,
        input: UnsafePointer<Float>,                // (B, in)
        weight: UnsafePointer<Float>,               // (out, in)
        bias: UnsafePointer<Float>,                 // (out)
        output: UnsafeMutablePointer<Float>,        // (B, out)
        sparseInput: Bool = false,
        threads: Int = 1
    ) {
        for s in 0..<batch { (output + s * outFeatures).update(from: bias, count: outFeatures) }
        GEMM.multiplyLayerForward(batch: batch, inFeatures: inFeatures, outFeatures: outFeatures,
                                  input: input, weight: weight, output: output,
                                  skippingZeros: sparseInput, threads: threads)
    }

    /// Given δ = ∂L/∂z (B, out) for a loss L = Σ_s ℓ_s, writes
    /// dW = scale·δᵀ·a (out, in), db = scale·Σ_s δ_s (out, ascending s), and, when `inputGradient`
    /// is given, ∂L/∂a = δ·W (B, in). The trainer passes scale = 1/B for the batch mean; dW is
    /// scaled as it is stored (`fl(fl(Σ)·scale)`, the same bits as scaling afterwards). With
    /// `sparseOutputGradient`, dW and ∂L/∂a skip the terms with δ[s,j] = 0 (same bits).
    /// - Complexity: O(B·in·out); O(nnz(δ)·in) with `sparseOutputGradient`.
    package static func backward(
        batch: Int, inFeatures: Int, outFeatures: Int,
        input: UnsafePointer<Float>,                // a (B, in)
        weight: UnsafePointer<Float>,               // W (out, in)
        outputGradient: UnsafePointer<Float>,       // δ (B, out)
        weightGradient: UnsafeMutablePointer<Float>, // dW (out, in)
        biasGradient: UnsafeMutablePointer<Float>,  // db (out)
        inputGradient: UnsafeMutablePointer<Float>?, // da (B, in)
        scale: Float,
        sparseOutputGradient: Bool = false,
        threads: Int = 1
    ) {
        if sparseOutputGradient {
            GEMM.multiplySkippingZeros(m: outFeatures, n: inFeatures, k: batch,
                                       a: outputGradient, lda: outFeatures, transposeA: true,
                                       b: input, ldb: inFeatures,
                                       c: weightGradient, ldc: inFeatures, scale: scale, threads: threads)
        } else {
            GEMM.multiply(m: outFeatures, n: inFeatures, k: batch,
                          a: outputGradient, lda: outFeatures, transposeA: true,
                          b: input, ldb: inFeatures,
                          c: weightGradient, ldc: inFeatures, accumulate: false, scale: scale, threads: threads)
        }
        // db[j] = scale·(((0 + δ[0,j]) + δ[1,j]) + …), eight j at a time, blocks of up to four
        // vectors (32 j) running down the batch together so that their sums' latencies overlap.
        let vectors = outFeatures / 8
        let db = UnsafeMutableRawPointer(biasGradient)
        var v0 = 0
        while v0 < vectors {
            typealias V = SIMD8<Float>
            let width = min(4, vectors - v0)
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            var row = UnsafeRawPointer(outputGradient) + v0 * 32
            for _ in 0..<batch {
                s0 += row.loadUnaligned(as: V.self)
                if width > 1 { s1 += row.loadUnaligned(fromByteOffset: 32, as: V.self) }
                if width > 2 { s2 += row.loadUnaligned(fromByteOffset: 64, as: V.self) }
                if width > 3 { s3 += row.loadUnaligned(fromByteOffset: 96, as: V.self) }
                row += outFeatures * 4
            }
            if scale != 1 { s0 *= scale; s1 *= scale; s2 *= scale; s3 *= scale }
            db.storeBytes(of: s0, toByteOffset: v0 * 32, as: V.self)
            if width > 1 { db.storeBytes(of: s1, toByteOffset: (v0 + 1) * 32, as: V.self) }
            if width > 2 { db.storeBytes(of: s2, toByteOffset: (v0 + 2) * 32, as: V.self) }
            if width > 3 { db.storeBytes(of: s3, toByteOffset: (v0 + 3) * 32, as: V.self) }
            v0 += width
        }
        for j in (vectors * 8)..<outFeatures {
            var sum: Float = 0
            for s in 0..<batch { sum += outputGradient[s * outFeatures + j] }
            biasGradient[j] = scale != 1 ? sum * scale : sum
        }
        if let inputGradient, sparseOutputGradient {
            GEMM.multiplySkippingZeros(m: batch, n: inFeatures, k: outFeatures,
                                       a: outputGradient, lda: outFeatures,
                                       b: weight, ldb: inFeatures,
                                       c: inputGradient, ldc: inFeatures, threads: threads)
        } else if let inputGradient {
            GEMM.multiply(m: batch, n: inFeatures, k: outFeatures,
                          a: outputGradient, lda: outFeatures,
                          b: weight, ldb: inFeatures,
                          c: inputGradient, ldc: inFeatures, accumulate: false, threads: threads)
        }
    }
}
