import KymoCore

extension Dataset {
    /// XXH3-64 (seed 0) over: count, featureCount, classCount (each as a little-endian Int64),
    /// then the features' Float bytes, then the labels' Int32 bytes (little-endian hosts).
    /// The name is not part of it: the same numbers from two paths have one fingerprint.
    /// - Complexity: O(count × featureCount).
    package var fingerprint: UInt64 {
        var hasher = XXH3Hasher(seed: 0)
        hasher.update(Int64(count))
        hasher.update(Int64(featureCount))
        hasher.update(Int64(classCount))
        hasher.update(features)
        hasher.update(labels)
        return hasher.digest()
    }

    /// The samples at `indices`, in that order, as a new data set (same feature and class counts).
    /// - Precondition: every index is in 0..<count.
    /// - Complexity: O(indices.count × featureCount).
    package func subset(_ indices: [Int32], name: String? = nil) -> Dataset {
        var newFeatures = [Float]()
        newFeatures.reserveCapacity(indices.count * featureCount)
        var newLabels = [Int32]()
        newLabels.reserveCapacity(indices.count)
        for index in indices {
            let s = Int(index)
            precondition(s >= 0 && s < count, "sample index \(s) out of range 0..<\(count)")
            newFeatures.append(contentsOf: features[(s * featureCount)..<((s + 1) * featureCount)])
            newLabels.append(labels[s])
        }
        return Dataset(name: name ?? self.name, featureCount: featureCount, classCount: classCount,
                       features: newFeatures, labels: newLabels)
    }

    /// The number of probe samples `split` takes: `probeFraction × count`, rounded to nearest
    /// (ties away from zero).
    /// - Precondition: 0 ≤ probeFraction ≤ 1.
    /// - Complexity: O(1).
    package func probeCount(probeFraction: Double) -> Int {
        precondition(probeFraction >= 0 && probeFraction <= 1, "probeFraction must be in [0, 1], got \(probeFraction)")
        return min(count, Int((Double(count) * probeFraction).rounded(.toNearestOrAwayFromZero)))
    }

    /// Which source samples `split(probeFraction:seed:)` puts in each part: two disjoint lists of
    /// indices into this data set, each ascending, that together hold every index once.
    ///
    /// A Fisher–Yates permutation from `CounterRNG(key: seed).stream(0x5350_4C49_54)` ("SPLIT")
    /// picks the probe set: its first `probeCount(probeFraction:)` entries; the rest is the
    /// training set. Both are then sorted, so the training set keeps the source order.
    /// **Sample ids:** sample `i` of the returned training set is source sample `train[i]`.
    /// - Precondition: 0 ≤ probeFraction ≤ 1.
    /// - Complexity: O(count log count).
    package func splitIndices(probeFraction: Double, seed: UInt64) -> (train: [Int32], probe: [Int32]) {
        let probeCount = probeCount(probeFraction: probeFraction)
        var order = (0..<count).map { Int32($0) }
        var rng = CounterRNG(key: seed).stream(0x5350_4C49_54)
        rng.shuffle(&order)
        let probe = order[..<probeCount].sorted()
        let train = order[probeCount...].sorted()
        return (train, probe)
    }

    /// Splits off a probe set: a fixed fraction (`probeCount(probeFraction:)` samples) chosen by
    /// `seed`, as `splitIndices(probeFraction:seed:)` describes.
    ///
    /// Sample ids of the training set are its indices in the returned `train` — the ids the
    /// recorder and queries use. Sample `i` of `train` is source sample
    /// `splitIndices(probeFraction:seed:).train[i]`; both parts keep the source order.
    /// - Precondition: 0 ≤ probeFraction ≤ 1.
    /// - Complexity: O(count × featureCount + count log count).
    package func split(probeFraction: Double, seed: UInt64) -> (train: Dataset, probe: Dataset) {
        let indices = splitIndices(probeFraction: probeFraction, seed: seed)
        return (subset(indices.train, name: "\(name) [train]"),
                subset(indices.probe, name: "\(name) [probe]"))
    }
}
