/// Per-step statistics of the P batch-gradient magnitudes |g|: the exact count above each
/// record-time threshold (T0's "fraction of weights whose batch gradient exceeds θ"), and a
/// log-bucket histogram that feeds the step's quantile sketch.
///
/// Threshold semantics: a weight counts for θ when `|g| > θ` (it *exceeds* θ, as DESIGN.md and
/// KymoSketches' `MagnitudeQuantiles.fractionAbove` say). NaN counts for no θ.
/// When every θ sits just below a boundary of the step's `MagnitudeHistogram`
/// (`MagnitudeHistogram.snap`),
/// the histogram gives the same exact counts for free and this pass is not needed
/// (`StepGradientPass` decides).
package struct ThresholdCounter: Sendable {
    /// The record-time thresholds, ascending, as written to the manifest.
    package let thresholds: [Float]

    /// - Throws: `RecorderError.invalidConfiguration` unless thresholds are finite, ≥ 0,
    ///   strictly ascending, and at most 16.
    /// - Complexity: O(k).
    package init(thresholds: [Float]) throws {
        guard thresholds.count <= 16 else {
            throw RecorderError.invalidConfiguration(field: "thresholds", message: "at most 16, got \(thresholds.count)")
        }
        for (i, t) in thresholds.enumerated() {
            guard t.isFinite, t >= 0, i == 0 || thresholds[i - 1] < t else {
                throw RecorderError.invalidConfiguration(field: "thresholds", message: "must be finite, ≥ 0 and strictly ascending")
            }
        }
        self.thresholds = thresholds
    }

    /// How many entries of `gradient` have |g| > θ, for each threshold θ (same order).
    /// - Complexity: O(P·k/8): one pass, k vector compares per 8 entries.
    package func counts(_ gradient: UnsafeBufferPointer<Float>) -> [Int] {
        let k = thresholds.count
        guard k > 0 else { return [] }
        var totals = [Int](repeating: 0, count: k)
        guard let base = gradient.baseAddress else { return totals }
        let n = gradient.count
        let raw = UnsafeRawPointer(base)
        let mask = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        // Compare bit patterns of |g| as integers: for non-negative finite floats the order is the
        // same, and NaN (bits > 0x7F80_0000) is excluded by a separate cap.
        let nanCap = SIMD8<UInt32>(repeating: 0x7F80_0000)
        let tb = thresholds.map { SIMD8<UInt32>(repeating: $0.bitPattern) }
        // Per-threshold vector counters, flushed every 2^20 vectors to stay far from overflow.
        var acc = [SIMD8<UInt32>](repeating: .zero, count: k)
        let vectors = n / 8
        var v = 0
        while v < vectors {
            let end = min(vectors, v + (1 << 20))
            tb.withUnsafeBufferPointer { tbp in
                acc.withUnsafeMutableBufferPointer { ap in
                    for j in v..<end {
                        let bits = raw.loadUnaligned(fromByteOffset: j * 32, as: SIMD8<UInt32>.self) & mask
                        let valid = bits .<= nanCap // NaN reaches no threshold

                        for t in 0..<k {
                            ap[t] &+= SIMD8<UInt32>.zero.replacing(with: 1, where: (bits .> tbp[t]) .& valid)
                        }
                    }
                }
            }
            for t in 0..<k {
                totals[t] += Int(acc[t].wrappedSum())
                acc[t] = .zero
            }
            v = end
        }
        for i in (vectors * 8)..<n {
            let a = abs(gradient[i])
            for t in 0..<k where a > thresholds[t] { totals[t] += 1 }
        }
        return totals
    }
}
