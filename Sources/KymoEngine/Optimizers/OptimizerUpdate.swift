/// The update rules of `OptimizerKind`, applied in one pass over the flat parameter vector.
/// Every element follows the same fixed sequence of Float operations (no reductions), so the
/// result does not depend on how the vector is split.
package enum OptimizerUpdate {
    /// 1/(1−β^t) rounded to Float (Double arithmetic, exponentiation by squaring).
    /// - Complexity: O(log t).
    package static func biasCorrection(_ beta: Float, step t: Int) -> Float {
        Float(1 / (1 - DeterministicMath.power(Double(beta), t)))
    }

    /// Computes Δw into `update`, updates the state `slots` and applies w ← w + Δw; with
    /// `saveBefore`, first copies w there.
    /// Shapes: all buffers (P). `gradient` is the batch-mean loss gradient; weight decay is added here.
    /// - Parameters:
    ///   - t: Adam's 1-based step count.
    /// - Complexity: O(P).
    package static func apply(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>,
        gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>],
        update d: UnsafeMutablePointer<Float>,
        saveBefore before: UnsafeMutablePointer<Float>? = nil
    ) {
        // The recorder's parameter snapshot is taken in the same pass, while w[i] is in cache.
        let save = before != nil
        let b = before ?? d // never written when !save
        let lambda = config.weightDecay
        let mu = config.momentum
        switch config.kind {
        case .sgd:
            for i in 0..<count {
                if save { b[i] = w[i] }
                let gp = g[i] + lambda * w[i]
                d[i] = -eta * gp
                w[i] += d[i]
            }
        case .momentum:
            let v = slots[0]
            for i in 0..<count {
                if save { b[i] = w[i] }
                let gp = g[i] + lambda * w[i]
                v[i] = mu * v[i] + gp
                d[i] = -eta * v[i]
                w[i] += d[i]
            }
        case .nesterov:
            let v = slots[0]
            for i in 0..<count {
                if save { b[i] = w[i] }
                let gp = g[i] + lambda * w[i]
                v[i] = mu * v[i] + gp
                d[i] = -eta * (gp + mu * v[i])
                w[i] += d[i]
            }
        case .adam, .adamw:
            let (m, v) = (slots[0], slots[1])
            let (b1, b2, eps) = (config.beta1, config.beta2, config.epsilon)
            let bc1 = biasCorrection(b1, step: t)
            let bc2 = biasCorrection(b2, step: t)
            let decoupled = config.kind == .adamw
            for i in 0..<count {
                if save { b[i] = w[i] }
                let gp = decoupled ? g[i] : g[i] + lambda * w[i]
                m[i] = b1 * m[i] + (1 - b1) * gp
                v[i] = b2 * v[i] + (1 - b2) * (gp * gp)
                var step = (m[i] * bc1) / ((v[i] * bc2).squareRoot() + eps)
                if decoupled { step += lambda * w[i] }
                d[i] = -eta * step
                w[i] += d[i]
            }
        }
    }
}
