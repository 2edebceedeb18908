import KymoCore

/// h = max(z, 0), elementwise; NaN stays NaN (so a diverged input is caught at the loss, not
/// silently zeroed). Shapes: z (n), h (n) with n = B·units.
package enum ReLU {
    /// Eight lanes at a time, branch-free (the same selection as the scalar tail).
    /// - Complexity: O(n).
    package static func forward(_ z: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count n: Int) {
        let (zr, hr) = (UnsafeRawPointer(z), UnsafeMutableRawPointer(h))
        for v in 0..<(n / 8) {
            let x = zr.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)
            hr.storeBytes(of: x.replacing(with: 0, where: x .< 0), toByteOffset: v * 32, as: SIMD8<Float>.self)
        }
        for i in (n / 8 * 8)..<n { h[i] = z[i] < 0 ? 0 : z[i] }
    }

    /// In place: grad[i] ← +0 where !(z[i] > 0) (∂h/∂z taken as 0 at z = 0 and for NaN), else
    /// unchanged. Eight lanes at a time, branch-free (about half of the z are negative, in no
    /// pattern a branch predictor could learn).
    /// - Complexity: O(n).
    package static func backward(_ z: UnsafePointer<Float>, _ gradient: UnsafeMutablePointer<Float>, count n: Int) {
        let (zr, gr) = (UnsafeRawPointer(z), UnsafeMutableRawPointer(gradient))
        for v in 0..<(n / 8) {
            let x = zr.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)
            let g = gr.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)
            gr.storeBytes(of: g.replacing(with: 0, where: .!(x .> 0)), toByteOffset: v * 32, as: SIMD8<Float>.self)
        }
        for i in (n / 8 * 8)..<n where !(z[i] > 0) { gradient[i] = 0 }
    }
}

/// h = tanh(z), elementwise, with `DeterministicMath.tanh`. Shapes: z (n), h (n).
package enum Tanh {
    /// - Complexity: O(n).
    package static func forward(_ z: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { h[i] = DeterministicMath.tanh(z[i]) }
    }

    /// In place: grad[i] ← grad[i]·(1 − h[i]²), from the forward output h.
    /// - Complexity: O(n).
    package static func backward(_ h: UnsafePointer<Float>, _ gradient: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { gradient[i] *= 1 - h[i] * h[i] }
    }
}

/// Inverted dropout with a counter-based mask: unit j of batch position s at step t is kept when
/// the CounterRNG value at index `s·units + j` of stream `key.stream(t)` maps to u ≥ p
/// (u = top 24 bits · 2⁻²⁴); kept units are scaled by 1/(1−p). The mask is a pure function of
/// (key, step, s, j), so a replay drops the same units without storing anything.
///
/// Shapes: h (B, units), mask (B, units) holding 0 or 1/(1−p).
package enum Dropout {
    /// Fills `mask` for one step.
    /// - Complexity: O(B·units).
    package static func makeMask(key: CounterRNG, step: Int, probability p: Float,
                                 batch: Int, units: Int, mask: UnsafeMutablePointer<Float>) {
        let rng = key.stream(UInt64(step))
        let keep = 1 / (1 - p)
        for i in 0..<(batch * units) {
            let u = Float(rng.value(at: UInt64(i)) &>> 40) * 0x1p-24
            mask[i] = u >= p ? keep : 0
        }
    }

    /// In place: h[i] ← h[i]·mask[i].
    /// - Complexity: O(n).
    package static func forward(_ h: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { h[i] *= mask[i] }
    }

    /// In place: grad[i] ← grad[i]·mask[i].
    /// - Complexity: O(n).
    package static func backward(_ gradient: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { gradient[i] *= mask[i] }
    }
}
