/// Every store column and manifest key the query module reads, in one place. Names follow the
/// recorder's contract (notes/RECORDING-draft.md, "Columns" and "Manifest"); when the recorder
/// merges, adjust them here only.
///
/// Store rows are 0-based (`steps: i..<i+1`); queries count steps from 1, so query step t is
/// store row t − 1. Per-epoch rows sit at the epoch's last step.
package enum StoreColumns {
    // T0
    package static let order = "t0/order"
    package static let loss = "t0/loss"
    package static let accuracy = "t0/accuracy"
    package static let learningRate = "t0/lr"
    package static let gradientNorm = "t0/gnorm"
    package static let updateNorm = "t0/unorm"
    package static let above = "t0/above"
    package static let gradientQuantiles = "t0/gradq"
    package static let sampleLoss = "t0/sample/loss"
    package static let sampleCorrect = "t0/sample/correct"
    package static let sampleGradientNorm = "t0/sample/gnorm"
    package static let epochSumAbs = "t0/epoch/sumabs"
    package static let epochSum = "t0/epoch/sum"
    package static let epochSumSquares = "t0/epoch/sumsq"
    package static let epochMaxAbs = "t0/epoch/maxabs"
    package static let probe = "t0/probe"
    // T1
    package static let t1Value = "t1/value"
    package static let t1Update = "t1/update"
    package static let t1Contributions = "t1/contrib"
    // T2
    package static let trajectory = "t2/traj"
    /// One blob per step: n × (sample U32, weight U32, contribution F32, uniform F64), little-endian.
    package static let contributionSample = "t2/contrib"
    package static let contributionTau = "t2/contrib/tau"
    /// One blob per epoch: per neuron, a UInt32 byte count then a serialized `SpaceSavingSketch`.
    package static let neuronSpaceSaving = "t2/ss"
    package static let neuronCountMin = "t2/cm"

    /// Manifest `config` keys (text values; lists comma-separated).
    package enum Key {
        package static let layers = "layers"
        package static let batchSize = "batchSize"
        package static let samples = "samples"
        package static let stepsPerEpoch = "stepsPerEpoch"
        package static let epochs = "epochs"
        package static let t1Ids = "t1Ids"
        package static let thresholds = "thresholds"
        package static let probeEvery = "probeEvery"
        package static let trajectoryStride = "trajectoryStride"
        /// q per layer (comma-separated, layer order): |ŵ − w| ≤ q_l/2.
        package static let trajectoryQuantum = "trajectoryQuantum"
        package static let secondsPerStep = "secondsPerStep"
    }
}
