import KymoCore

/// A deterministic synthetic classification set, big enough for seed-scale runs
/// (100,000 × 784, 10 classes) and learnable by a small MLP, but not perfectly.
///
/// **The model.** Each class c has `modesPerClass` (4) prototypes, vectors of `featureCount`
/// values uniform in [0, 1). Sample s draws its label c, one of c's prototypes `p`, a prototype
/// `q` of another class, a mixing weight α uniform in [0, 0.55), and per-feature noise ε with
/// standard deviation 0.25 (the centred sum of four 16-bit uniforms, a close cousin of a normal
/// variable, with no libm); then
///
///     x[j] = clamp(p[j] + α·(q[j] − p[j]) + ε[j], 0, 1)
///
/// Several prototypes per class make the classes non-convex (a linear model does worse than an
/// MLP). The mixing makes them overlap: samples with α > 0.5 (about 9 %) lie nearer another
/// class's prototype than their own, so no classifier reaches 100 %; those near α ≈ 0.5 are
/// the hard, informative samples a study may look for.
///
/// **Determinism.** Everything comes from `CounterRNG(key: seed)`: stream 1 the prototypes,
/// stream 2 the per-sample draws (label, prototype, other class, its prototype, α, in that
/// order), stream 3 the noise, one 64-bit output per feature at position `s·featureCount + j`.
/// Float operations are plain IEEE multiplies and adds (no fused operations, no libm), so every
/// machine produces the same bits. Changing this algorithm changes every fingerprint: do it only
/// with a new data-set name.
public enum SyntheticData {
    /// Prototypes per class.
    static let modesPerClass = 4
    /// The largest mixing weight towards another class (exclusive).
    static let maxMix: Float = 0.55
    /// Standard deviation of the per-feature noise.
    static let noiseSigma: Float = 0.25
    /// The most features × samples it will generate (8 GiB of Float).
    static let maxElements = 1 << 31

    /// Checks that a synthetic set of this shape can be made.
    /// - Throws: `EngineError.invalidSpec` naming the bad size.
    /// - Complexity: O(1).
    package static func validate(count: Int, featureCount: Int, classCount: Int) throws(EngineError) {
        guard count >= 1 else { throw .invalidSpec("synthetic data needs COUNT ≥ 1, got \(count)") }
        guard featureCount >= 1 else { throw .invalidSpec("synthetic data needs FEATURES ≥ 1, got \(featureCount)") }
        guard classCount >= 2, classCount <= 65_536 else {
            throw .invalidSpec("synthetic data needs 2 ≤ CLASSES ≤ 65536, got \(classCount)")
        }
        let (elements, overflow) = count.multipliedReportingOverflow(by: featureCount)
        guard !overflow, elements <= maxElements else {
            throw .invalidSpec("synthetic data of \(count) × \(featureCount) is too large (at most \(maxElements) values)")
        }
    }

    /// The synthetic set as a `Dataset` named `synthetic:COUNT:FEATURES:CLASSES (seed S)`.
    /// - Precondition: the sizes pass `validate`.
    /// - Complexity: O(count × featureCount).
    package static func dataset(count: Int, featureCount: Int, classCount: Int, seed: UInt64) -> Dataset {
        let (features, labels) = generate(count: count, featureCount: featureCount, classCount: classCount, seed: seed)
        return Dataset(name: "synthetic:\(count):\(featureCount):\(classCount) (seed \(seed))",
                       featureCount: featureCount, classCount: classCount, features: features, labels: labels)
    }

    /// Generates the features, (count, featureCount) row-major, and the labels.
    /// Public so the benchmarks package can time it.
    /// - Precondition: the sizes pass `validate`.
    /// - Complexity: O(count × featureCount); about 5 ns per value in release (0.42 s for
    ///   100,000 × 784 on the shared 2-core machine, `kymo-ratios data`).
    public static func generate(count: Int, featureCount: Int, classCount: Int, seed: UInt64) -> (features: [Float], labels: [Int32]) {
        precondition(count >= 1 && featureCount >= 1 && classCount >= 2, "invalid synthetic size")
        let root = CounterRNG(key: seed)
        let modes = modesPerClass
        let prototypeCount = classCount * modes

        var prototypeRNG = root.stream(1)
        var prototypes = [Float](repeating: 0, count: prototypeCount * featureCount)
        for i in prototypes.indices { prototypes[i] = prototypeRNG.nextFloat() }

        var sampleRNG = root.stream(2)
        let noise = root.stream(3)
        // Four 16-bit uniforms sum to mean 4·32767.5 and variance 4·(65536² − 1)/12.
        let noiseMean: Float = 131_070
        let noiseScale = Float(Double(noiseSigma) / (4.0 * (65536.0 * 65536.0 - 1) / 12).squareRoot())

        var labels = [Int32](repeating: 0, count: count)
        var features = [Float](repeating: 0, count: count * featureCount)
        prototypes.withUnsafeBufferPointer { prototypes in
            features.withUnsafeMutableBufferPointer { features in
                for s in 0..<count {
                    let label = Int(sampleRNG.next(below: UInt64(classCount)))
                    let mode = Int(sampleRNG.next(below: UInt64(modes)))
                    let other = (label + 1 + Int(sampleRNG.next(below: UInt64(classCount - 1)))) % classCount
                    let otherMode = Int(sampleRNG.next(below: UInt64(modes)))
                    let alpha = sampleRNG.nextFloat() * maxMix
                    labels[s] = Int32(label)

                    let own = prototypes.baseAddress! + (label * modes + mode) * featureCount
                    let mix = prototypes.baseAddress! + (other * modes + otherMode) * featureCount
                    let row = features.baseAddress! + s * featureCount
                    let counterBase = UInt64(s) &* UInt64(featureCount)
                    for j in 0..<featureCount {
                        let word = noise.value(at: counterBase &+ UInt64(j))
                        let sum = Float(word & 0xFFFF) + Float((word >> 16) & 0xFFFF)
                            + Float((word >> 32) & 0xFFFF) + Float(word >> 48)
                        let epsilon = (sum - noiseMean) * noiseScale
                        let p = own[j]
                        let value = p + alpha * (mix[j] - p) + epsilon
                        row[j] = min(max(value, 0), 1)
                    }
                }
            }
        }
        return (features, labels)
    }
}
