import Foundation

/// The recorder's section of the run manifest (docs/RECORDING.md, "Manifest"): stored as sorted-key
/// JSON text under `config["recorder"]` of the store's `RunManifest`, so readers (query, replay)
/// decode it with `RecorderManifest(manifestConfig:)`.
package struct RecorderManifest: Codable, Equatable, Sendable {
    /// One dense layer of the factor layout.
    package struct Layer: Codable, Equatable, Sendable {
        package var name: String
        package var inputs: Int
        package var outputs: Int
        /// Flat id of `name[0,0]`; the bias follows the weight: `offset + outputs·inputs`.
        package var offset: Int
        /// Trajectory quantum q_l: |ŵ − w| ≤ q_l/2 for every snapshot (0 when T2 is off).
        package var trajectoryQuantum: Float
    }

    /// Version of this section's layout and of the recorder's columns.
    package var recorderFormatVersion = 1
    package var tiers: [String]
    /// T3's epochs, 0-based ascending (nil in runs recorded before T3 existed, and without T3).
    package var factorEpochs: [Int]?
    /// `--budget` as given, and in bytes per epoch.
    package var budget: String
    package var budgetBytesPerEpoch: Int
    /// The plan's choices.
    package var t1Count: Int
    package var trajectoryStride: Int
    package var trajectoryBits: Int
    package var trajectoryBlockSize: Int
    package var histogramMantissaBits: Int
    package var histogramMinExponent: Int
    package var histogramMaxExponent: Int
    package var spaceSavingPerNeuron: Int
    package var weightHeavyHitters: Int
    package var countMinDepth: Int
    package var countMinWidth: Int
    package var countMinSeed: UInt64
    package var spaceSavingSeed: UInt64
    package var sampledContributionsPerStep: Int
    /// The plan's size table: "tier column" → raw bytes per epoch.
    package var planItems: [String: Int]
    package var planRecorderNanosecondsPerStep: Double
    /// The recorder time limit the plan was made with (ns per step; nil = none), and the plain
    /// step time it was derived from (auto: 0.85 × the median of 7 plain steps when that is
    /// ≥ 1 ms, else none) — the only timing-dependent input, recorded here.
    package var recorderNanosecondsPerStepLimit: Double?
    package var measuredPlainStepNanoseconds: Double?
    /// T1 weight ids (ascending) and the optimizer-state floats per weight (S).
    package var t1Ids: [Int]
    package var optimizerStateFloats: Int
    /// Record-time thresholds θ_k (snapped, ascending).
    package var thresholds: [Float]
    /// Contribution rule: optimizer kind and hyper-parameters.
    package var optimizer: String
    package var momentum: Float
    package var beta1: Float
    package var beta2: Float
    package var epsilon: Float
    package var weightDecay: Float
    /// Sampler key derivation (see `StepPreparer.samplerKey`).
    package var samplerKey: String
    package var layers: [Layer]
    package var batchSize: Int
    package var samples: Int
    package var stepsPerEpoch: Int
    package var epochs: Int
    package var probeEvery: Int
    package var commitSeconds: Double
    package var checkpointShare: Double
    /// Set when the run was stopped early (Ctrl-C): the number of steps recorded.
    package var stoppedAfterSteps: Int?

    /// The manifest config key that holds this section.
    package static let configKey = "recorder"

    /// Sorted-keys JSON text.
    /// - Complexity: O(size).
    package func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Decodes the section from a run manifest's `config`.
    /// - Throws: `RecorderError.invalidConfiguration` when it is missing or malformed.
    /// - Complexity: O(size).
    package init(manifestConfig config: [String: String]) throws {
        guard let text = config[Self.configKey] else {
            throw RecorderError.invalidConfiguration(field: "manifest.config.recorder", message: "missing: the run was not written by kymo record")
        }
        do { self = try JSONDecoder().decode(RecorderManifest.self, from: Data(text.utf8)) } catch {
            throw RecorderError.invalidConfiguration(field: "manifest.config.recorder", message: "\(error)")
        }
    }

    init(tiers: [String], factorEpochs: [Int], budget: String, plan: RecordingPlan, t1Ids: [Int], stateFloats: Int, thresholds: [Float],
         histogram: MagnitudeHistogram, layers: [Layer], shape: RunShape, optimizer: (String, Float, Float, Float, Float, Float),
         countMinSeed: UInt64, spaceSavingSeed: UInt64, probeEvery: Int, commitSeconds: Double, checkpointShare: Double,
         limit: Double?, plainStep: Double?, trajectoryBlockSize: Int) {
        self.tiers = tiers
        self.factorEpochs = factorEpochs.isEmpty ? nil : factorEpochs
        self.budget = budget
        budgetBytesPerEpoch = plan.budgetBytesPerEpoch
        t1Count = plan.t1Count
        trajectoryStride = plan.trajectoryStride
        trajectoryBits = plan.trajectoryBits
        self.trajectoryBlockSize = trajectoryBlockSize
        histogramMantissaBits = histogram.mantissaBits
        histogramMinExponent = histogram.minExponent
        histogramMaxExponent = histogram.maxExponent
        spaceSavingPerNeuron = plan.spaceSavingPerNeuron
        weightHeavyHitters = plan.weightHeavyHitters
        countMinDepth = plan.countMinDepth
        countMinWidth = plan.countMinWidth
        self.countMinSeed = countMinSeed
        self.spaceSavingSeed = spaceSavingSeed
        sampledContributionsPerStep = plan.sampledContributionsPerStep
        var items: [String: Int] = [:]
        for item in plan.items { items["\(item.tier) \(item.column)"] = item.bytesPerEpoch }
        planItems = items
        planRecorderNanosecondsPerStep = plan.recorderNanosecondsPerStep
        recorderNanosecondsPerStepLimit = limit
        measuredPlainStepNanoseconds = plainStep
        self.t1Ids = t1Ids
        optimizerStateFloats = stateFloats
        self.thresholds = thresholds
        self.optimizer = optimizer.0
        momentum = optimizer.1
        beta1 = optimizer.2
        beta2 = optimizer.3
        epsilon = optimizer.4
        weightDecay = optimizer.5
        samplerKey = "XXH3(UInt64(step), seed: runSeed ^ (0x7432636F6E747200 | layer))"
        self.layers = layers
        batchSize = shape.batchSize
        samples = shape.samples
        stepsPerEpoch = shape.stepsPerEpoch
        epochs = shape.epochs
        self.probeEvery = probeEvery
        self.commitSeconds = commitSeconds
        self.checkpointShare = checkpointShare
    }
}
