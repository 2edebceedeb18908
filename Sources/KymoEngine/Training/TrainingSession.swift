/// One epoch's totals, as `kymo train` prints them.
package struct EpochSummary: Sendable, Equatable, Codable {
    package var epoch: Int
    package var steps: Int
    /// Sample-weighted mean of the epoch's batch losses and accuracies (training mode, with dropout).
    package var loss: Float
    package var accuracy: Float
    /// On the probe set after the epoch (0 when there is no probe set).
    package var probeLoss: Float
    package var probeAccuracy: Float
    /// η of the epoch's last step.
    package var learningRate: Float
}

/// A training run as the CLI drives it: loads the data source, splits off the probe set, builds or
/// resumes the trainer, and runs epoch by epoch. `kymo train` is a thin shell around this.
package final class TrainingSession {
    package let trainer: Trainer
    package let probe: Dataset

    /// A fresh run. With `inferLayers`, the model's widths become `featureCount,32,classCount`
    /// ("64,32,10" for digits) instead of `config.model.widths`.
    /// - Throws: `EngineError` from loading the data or validating the model against it.
    /// - Complexity: O(data size + P).
    package init(config: TrainingConfig, inferLayers: Bool = false) throws(EngineError) {
        var config = config
        try config.validate()
        let data = try DataSource(parsing: config.data).load(seed: config.seed)
        if inferLayers {
            config.model.widths = [data.featureCount, 32, data.classCount]
        }
        try config.model.check(featureCount: data.featureCount, classCount: data.classCount, dataName: data.name)
        let (train, probe) = data.split(probeFraction: config.probeFraction, seed: config.seed)
        self.probe = probe
        trainer = try Trainer(config: config, training: train)
    }

    /// Resumes from a checkpoint file; `epochs` may extend the run (a cosine schedule then
    /// stretches, so the continuation differs from the original plan).
    /// - Throws: `EngineError.io` / `.corruptCheckpoint` for the file, `.invalidSpec` when the data
    ///   is not the one the checkpoint was trained on.
    /// - Complexity: O(data size + P).
    package init(resuming path: String, epochs: Int? = nil, threads: Int = 1) throws(EngineError) {
        var state = try TrainerState(contentsOf: path)
        if let epochs {
            guard epochs > 0 else { throw .invalidSpec("epochs must be positive, got \(epochs)") }
            state.config.epochs = epochs
        }
        let config = state.config
        let data = try DataSource(parsing: config.data).load(seed: config.seed)
        let (train, probe) = data.split(probeFraction: config.probeFraction, seed: config.seed)
        self.probe = probe
        trainer = try Trainer(state: state, training: train, threads: threads)
    }

    /// Runs the steps left in the current epoch, calling `progress` after each, then evaluates the
    /// probe set.
    /// - Throws: `EngineError.nonFiniteLoss`; the trainer then holds the last good state.
    /// - Complexity: O(steps per epoch · B · P + probe count · P).
    package func runEpoch(progress: (StepSummary) -> Void = { _ in }) throws(EngineError) -> EpochSummary {
        let epoch = trainer.epoch
        var lossSum: Double = 0
        var correct: Double = 0
        var samples = 0
        var steps = 0
        var lastRate: Float = 0
        while trainer.epoch == epoch && !trainer.isFinished {
            let summary = try trainer.step()
            lossSum += Double(summary.loss) * Double(summary.batchSize)
            correct += Double(summary.accuracy) * Double(summary.batchSize)
            samples += summary.batchSize
            steps += 1
            lastRate = summary.learningRate
            progress(summary)
        }
        let (probeLoss, probeAccuracy) = try trainer.evaluate(on: probe)
        return EpochSummary(
            epoch: epoch, steps: steps,
            loss: samples > 0 ? Float(lossSum / Double(samples)) : 0,
            accuracy: samples > 0 ? Float(correct / Double(samples)) : 0,
            probeLoss: probeLoss, probeAccuracy: probeAccuracy, learningRate: lastRate)
    }
}
