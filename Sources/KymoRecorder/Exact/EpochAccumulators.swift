/// T0's per-epoch, per-weight exact statistics over all P parameters:
/// `Σ|Δw|`, `ΣΔw`, `Σg²` and `max|g|`, where Δw is the step's applied update and g the step's
/// batch gradient (the mean over the batch, as the optimizer saw it, before weight decay).
///
/// Sums run over the epoch's steps in step order (a fixed reduction order), in Float32: the
/// recorded value is defined as that Float32 sum, so replay reproduces it bit for bit.
///
/// Cost: one fused pass per step reading two P-float vectors and updating four; measured
/// ns/param is in docs/RECORDING.md (`kymo-ratios recorder`).
package struct EpochAccumulators: Sendable {
    /// Σ|Δw| per weight.
    package private(set) var sumAbsUpdate: [Float]
    /// ΣΔw per weight.
    package private(set) var sumUpdate: [Float]
    /// Σg² per weight.
    package private(set) var sumSquaredGradient: [Float]
    /// max|g| per weight.
    package private(set) var maxAbsGradient: [Float]
    /// Steps accumulated since the last reset.
    package private(set) var steps: Int = 0

    /// - Complexity: O(P).
    package init(parameterCount: Int) {
        sumAbsUpdate = Array(repeating: 0, count: parameterCount)
        sumUpdate = sumAbsUpdate
        sumSquaredGradient = sumAbsUpdate
        maxAbsGradient = sumAbsUpdate
    }

    /// The number of parameters P.
    package var parameterCount: Int { sumUpdate.count }

    /// Zeroes every accumulator (at an epoch boundary, after the epoch's values were written).
    /// - Complexity: O(P).
    package mutating func reset() {
        for i in 0..<sumUpdate.count {
            sumAbsUpdate[i] = 0
            sumUpdate[i] = 0
            sumSquaredGradient[i] = 0
            maxAbsGradient[i] = 0
        }
        steps = 0
    }

    /// Adds one step.
    /// - Parameters:
    ///   - update: Δw of the step, P floats.
    ///   - gradient: the batch gradient of the step, P floats.
    /// - Throws: `RecorderError.shapeMismatch` when a vector is not P long.
    /// - Complexity: O(P), one vectorized pass.
    package mutating func add(update: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>) throws {
        let n = parameterCount
        guard update.count == n else { throw RecorderError.shapeMismatch(what: "update", expected: n, actual: update.count) }
        guard gradient.count == n else { throw RecorderError.shapeMismatch(what: "gradient", expected: n, actual: gradient.count) }
        guard n > 0, let du = update.baseAddress, let g = gradient.baseAddress else { steps += 1; return }
        sumAbsUpdate.withUnsafeMutableBufferPointer { sa in
            sumUpdate.withUnsafeMutableBufferPointer { su in
                sumSquaredGradient.withUnsafeMutableBufferPointer { sg in
                    maxAbsGradient.withUnsafeMutableBufferPointer { mg in
                        Self.kernel(n, du, g, sa.baseAddress!, su.baseAddress!, sg.baseAddress!, mg.baseAddress!)
                    }
                }
            }
        }
        steps += 1
    }

    /// `add(update:gradient:)` in chunks of `chunk` elements, calling `perChunk(start, end)` after
    /// each, so other kernels can reuse the chunk while it is in L1. Same result as `add`.
    /// - Complexity: O(P) plus the callbacks.
    package mutating func addChunked(update: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                                     chunk: Int, _ perChunk: (Int, Int) throws -> Void) throws {
        let n = parameterCount
        guard update.count == n else { throw RecorderError.shapeMismatch(what: "update", expected: n, actual: update.count) }
        guard gradient.count == n else { throw RecorderError.shapeMismatch(what: "gradient", expected: n, actual: gradient.count) }
        guard n > 0, let du = update.baseAddress, let g = gradient.baseAddress else { steps += 1; return }
        try sumAbsUpdate.withUnsafeMutableBufferPointer { sa in
            try sumUpdate.withUnsafeMutableBufferPointer { su in
                try sumSquaredGradient.withUnsafeMutableBufferPointer { sg in
                    try maxAbsGradient.withUnsafeMutableBufferPointer { mg in
                        var start = 0
                        while start < n {
                            let end = min(n, start + chunk)
                            Self.kernel(end - start, du + start, g + start, sa.baseAddress! + start,
                                        su.baseAddress! + start, sg.baseAddress! + start, mg.baseAddress! + start)
                            try perChunk(start, end)
                            start = end
                        }
                    }
                }
            }
        }
        steps += 1
    }

    /// Two consecutive steps in one pass (`a` then `b`), in chunks of `chunk` elements, calling
    /// `perChunk(start, end)` after each: the same sums, in the same order and so the same bits,
    /// as `addChunked` for `a` then for `b`, reading and writing the four accumulators once instead
    /// of twice (the pass is memory-bound: 24 instead of 40 bytes per parameter and step).
    /// - Throws: `RecorderError.shapeMismatch` when a vector is not P long.
    /// - Complexity: O(P) plus the callbacks.
    package mutating func addPairChunked(updates: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>),
                                         gradients: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>),
                                         chunk: Int, _ perChunk: (Int, Int) throws -> Void) throws {
        let n = parameterCount
        for (what, v) in [("update", updates.0), ("update", updates.1), ("gradient", gradients.0), ("gradient", gradients.1)] {
            guard v.count == n else { throw RecorderError.shapeMismatch(what: what, expected: n, actual: v.count) }
        }
        guard n > 0, let du1 = updates.0.baseAddress, let du2 = updates.1.baseAddress,
              let g1 = gradients.0.baseAddress, let g2 = gradients.1.baseAddress else { steps += 2; return }
        try sumAbsUpdate.withUnsafeMutableBufferPointer { sa in
            try sumUpdate.withUnsafeMutableBufferPointer { su in
                try sumSquaredGradient.withUnsafeMutableBufferPointer { sg in
                    try maxAbsGradient.withUnsafeMutableBufferPointer { mg in
                        var start = 0
                        while start < n {
                            let end = min(n, start + chunk)
                            Self.pairKernel(end - start, du1 + start, g1 + start, du2 + start, g2 + start, sa.baseAddress! + start,
                                            su.baseAddress! + start, sg.baseAddress! + start, mg.baseAddress! + start)
                            try perChunk(start, end)
                            start = end
                        }
                    }
                }
            }
        }
        steps += 2
    }

    private static func pairKernel(
        _ n: Int, _ du1: UnsafePointer<Float>, _ g1: UnsafePointer<Float>,
        _ du2: UnsafePointer<Float>, _ g2: UnsafePointer<Float>,
        _ sa: UnsafeMutablePointer<Float>, _ su: UnsafeMutablePointer<Float>,
        _ sg: UnsafeMutablePointer<Float>, _ mg: UnsafeMutablePointer<Float>
    ) {
        // `kernel` twice, element by element: each sum rounds after every addition, as there.
        for i in 0..<n {
            let d1 = du1[i], x1 = g1[i], d2 = du2[i], x2 = g2[i]
            sa[i] = (sa[i] + abs(d1)) + abs(d2)
            su[i] = (su[i] + d1) + d2
            let sq1 = x1 * x1, sq2 = x2 * x2
            sg[i] = (sg[i] + sq1) + sq2
            mg[i] = max(max(mg[i], abs(x1)), abs(x2))
        }
    }

    private static func kernel(
        _ n: Int, _ du: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
        _ sa: UnsafeMutablePointer<Float>, _ su: UnsafeMutablePointer<Float>,
        _ sg: UnsafeMutablePointer<Float>, _ mg: UnsafeMutablePointer<Float>
    ) {
        // A plain loop: LLVM vectorizes it (element-wise, no reassociation, so no reduction-order
        // question). The SIMD types' generic helpers (pointwiseMax) were 60x slower here.
        for i in 0..<n {
            let d = du[i], x = g[i]
            sa[i] += abs(d)
            su[i] += d
            let sq = x * x
            sg[i] += sq
            mg[i] = max(mg[i], abs(x))
        }
    }
}
