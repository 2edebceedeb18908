/// Every store column and manifest key the query module reads, in one place. Names and layouts
/// follow the recorder's contract as wired (docs/RECORDING.md, "Columns" and "Manifest").
///
/// Store rows are 0-based (`steps: i..<i+1`, the engine's step index); queries count steps from 1
/// (step N = the N-th update), so query step t is store row t − 1, and "after step t" is
/// checkpoint key t. Per-epoch rows sit at the epoch's last step.
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
    /// The training set's labels in data-set id order: one Int32 row at step 0.
    package static let labels = "t0/labels"
    // T1
    package static let t1Value = "t1/value"
    package static let t1Update = "t1/update"
    package static let t1Contributions = "t1/contrib"
    // T2
    /// One blob per layer and commit (at most 16 snapshots): `t2/traj/<layer>`, a serialized
    /// `QuantizedTrajectory` of the layer's parameters after every step whose row r has
    /// `r % stride == 0` inside the chunk's rows.
    package static let trajectoryPrefix = "t2/traj/"
    /// Per epoch and layer, at the epoch's last step: lows then highs (2 × the layer's parameters;
    /// Float16 rounded outward) that contain ŵ ± bound of every snapshot of the epoch.
    package static let trajectoryEnvelopePrefix = "t2/trajenv/"
    /// One blob per step (packed many steps to a chunk, `StepBlobs`): count U32, then per tuple (sample U32, weight U32, contribution F32,
    /// uniform F64), little-endian (20 bytes a tuple).
    package static let contributionSample = "t2/contrib"
    package static let contributionTau = "t2/contrib/tau"
    /// One blob per epoch: neuron count U32, then per neuron a UInt64 byte count and a serialized
    /// `SpaceSavingSketch`.
    package static let neuronSpaceSaving = "t2/ss"
    package static let neuronCountMin = "t2/cm"
    /// Per epoch, at its last step: per neuron (Float32), the largest upper bound its `t2/ss`
    /// sketch states for any sample, rounded up — what planning needs without the sketches.
    package static let neuronSpaceSavingMaxima = "t2/ssmax"

    /// The recorder's manifest section: JSON under `config["recorder"]` (`RecorderManifest`).
    package static let recorderSection = "recorder"

    /// Legacy flat manifest `config` keys (text values; lists comma-separated), read when the run
    /// has no recorder section (runs written by `StandInRecorder`).
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
