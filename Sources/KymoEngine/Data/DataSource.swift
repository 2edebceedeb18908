/// Where a data set comes from, as named on the command line:
/// `digits` (embedded), `synthetic[:COUNT[:FEATURES[:CLASSES]]]`, `idx:DIR` (MNIST layout),
/// `csv:PATH` (last column the label), `npy:FEATURES.npy,LABELS.npy`.
///
/// STUB: the data engineer replaces this file with the real loaders; the signatures stay.
package enum DataSource: Sendable, Equatable {
    case digits
    case synthetic(count: Int, featureCount: Int, classCount: Int)
    case idx(directory: String)
    case csv(path: String)
    case npy(features: String, labels: String)

    /// - Throws: `EngineError.invalidSpec` naming the part that does not parse.
    package init(parsing text: String) throws(EngineError) {
        throw .invalidSpec("data sources are not implemented yet: \(text)")
    }

    /// Loads the data set; `seed` drives the synthetic generator only.
    package func load(seed: UInt64) throws(EngineError) -> Dataset {
        throw .invalidSpec("data sources are not implemented yet")
    }
}

extension Dataset {
    /// XXH3 of (count, featureCount, classCount, features, labels).
    package var fingerprint: UInt64 { 0 }

    /// Splits off a probe set: a fixed fraction chosen by `seed`; sample ids of the training set
    /// are its indices in the returned `train`.
    package func split(probeFraction: Double, seed: UInt64) -> (train: Dataset, probe: Dataset) {
        (self, self)
    }
}
