/// A labelled data set held in memory: `count` samples of `featureCount` Float features
/// (row-major, `features[s * featureCount + j]`) and an integer class label each.
///
/// A sample's identity is its index `s` in this array; the recorder and every query name samples
/// by that index. `fingerprint` (XXH3 of shape, features and labels) goes into each run's manifest
/// so a replay can refuse a different data set.
package struct Dataset: Sendable {
    /// Human-readable origin ("digits (embedded)", a path, "synthetic(seed: 7)").
    package var name: String
    package var featureCount: Int
    package var classCount: Int
    /// (count, featureCount), row-major.
    package var features: [Float]
    /// (count), each in 0..<classCount.
    package var labels: [Int32]

    package var count: Int { labels.count }
}
