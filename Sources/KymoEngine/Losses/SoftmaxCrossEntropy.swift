/// Softmax cross-entropy per sample: ℓ_s = log Σ_j e^{z_sj} − z_s,y (computed stably as
/// log Σ_j e^{z_sj − m} − (z_s,y − m), m = max_j z_sj), with its gradient
/// δ_s = softmax(z_s) − onehot(y_s) — the gradient of sample s's own loss, not divided by B.
///
/// Shapes: logits z (B, C), labels (B), losses (B), gradient (B, C).
package enum SoftmaxCrossEntropy {
    /// Writes ℓ_s, δ_s (if `gradient` is given) and whether arg-max z_s (first on ties) equals y_s.
    /// - Complexity: O(B·C).
    package static func forwardBackward(
        batch: Int, classes: Int,
        logits: UnsafePointer<Float>,               // (B, C)
        labels: UnsafePointer<Int32>,               // (B)
        losses: UnsafeMutablePointer<Float>,        // (B)
        correct: UnsafeMutablePointer<UInt8>,       // (B)
        gradient: UnsafeMutablePointer<Float>?      // (B, C)
    ) {
        for s in 0..<batch {
            let z = logits + s * classes
            let y = Int(labels[s])
            var m = z[0]
            var argmax = 0
            for j in 1..<max(classes, 1) where z[j] > m { m = z[j]; argmax = j }
            var sum: Float = 0
            if let gradient {
                let g = gradient + s * classes
                for j in 0..<classes {
                    let e = DeterministicMath.exp(z[j] - m)
                    g[j] = e
                    sum += e
                }
                let inv = 1 / sum
                for j in 0..<classes { g[j] *= inv }
                g[y] -= 1
            } else {
                for j in 0..<classes { sum += DeterministicMath.exp(z[j] - m) }
            }
            losses[s] = DeterministicMath.log(sum) - (z[y] - m)
            if m.isNaN || !sum.isFinite { losses[s] = .nan }
            correct[s] = argmax == y ? 1 : 0
        }
    }
}
