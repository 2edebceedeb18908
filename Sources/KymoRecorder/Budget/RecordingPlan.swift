/// The shape of a run, as far as the recorder's budget needs it.
package struct RunShape: Equatable, Sendable {
    /// One dense layer: weight (outputs, inputs) and bias (outputs).
    package struct Dense: Equatable, Sendable {
        package var inputs: Int
        package var outputs: Int
        /// - Complexity: O(1).
        package init(inputs: Int, outputs: Int) { self.inputs = inputs; self.outputs = outputs }
        package var parameterCount: Int { outputs * (inputs + 1) }
    }

    package var layers: [Dense]
    package var samples: Int
    package var batchSize: Int
    package var epochs: Int
    /// Optimizer state floats per weight: SGD 0, momentum 1, Adam 2.
    package var optimizerStateFloats: Int

    /// - Complexity: O(1).
    package init(layers: [Dense], samples: Int, batchSize: Int, epochs: Int, optimizerStateFloats: Int) {
        self.layers = layers
        self.samples = samples
        self.batchSize = batchSize
        self.epochs = epochs
        self.optimizerStateFloats = optimizerStateFloats
    }

    /// The seed-scale run of the issue: MLP 784-512-256-10, batch 64, 100,000 samples, 3 epochs,
    /// SGD with momentum.
    package static let seedScale = RunShape(
        layers: [.init(inputs: 784, outputs: 512), .init(inputs: 512, outputs: 256), .init(inputs: 256, outputs: 10)],
        samples: 100_000, batchSize: 64, epochs: 3, optimizerStateFloats: 1)

    /// P, weights and biases.
    package var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }
    /// ⌈N/B⌉ (the last batch may be short).
    package var stepsPerEpoch: Int { (samples + batchSize - 1) / batchSize }
    /// Σ outputs: the neurons.
    package var neurons: Int { layers.reduce(0) { $0 + $1.outputs } }
    /// Σ (inputs + outputs): floats of one sample's factors over all layers.
    package var factorFloatsPerSample: Int { layers.reduce(0) { $0 + $1.inputs + $1.outputs } }
    /// The raw per-sample gradient tensor of one epoch, P·N float32 (the size yardstick).
    package var rawGradientBytesPerEpoch: Int { parameterCount * samples * 4 }
}

/// `--budget`: bytes per epoch, or a share of the raw per-sample gradient tensor (0.002 = 0.2 %).
package enum RecordingBudget: Equatable, Sendable {
    case bytesPerEpoch(Int)
    case shareOfGradientTensor(Double)

    /// The default: 0.2 % of the raw per-sample gradient tensor, the ceiling.
    package static let `default` = RecordingBudget.shareOfGradientTensor(0.002)

    /// Parses `--budget`: `428MB`, `1.5GB`, `500000000`, or a share `0.2%`.
    /// - Throws: `RecorderError.invalidConfiguration(field: "budget", …)`.
    /// - Complexity: O(length).
    package init(parsing text: String) throws {
        let t = text.filter { $0 != " " }.uppercased()
        func bad() -> RecorderError {
            .invalidConfiguration(field: "budget", message: "'\(text)' is neither bytes (e.g. 400MB) nor a share (e.g. 0.2%)")
        }
        if t.hasSuffix("%") {
            guard let v = Double(t.dropLast()), v > 0, v <= 100 else { throw bad() }
            self = .shareOfGradientTensor(v / 100)
            return
        }
        let units: [(String, Double)] = [("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v > 0, (v * factor) < 1e15 else { throw bad() }
            self = .bytesPerEpoch(Int(v * factor))
            return
        }
        guard let v = Int(t), v > 0 else { throw bad() }
        self = .bytesPerEpoch(v)
    }

    /// The budget in bytes per epoch for `shape`.
    /// - Complexity: O(layers).
    package func bytesPerEpoch(for shape: RunShape) -> Int {
        switch self {
        case let .bytesPerEpoch(b): b
        case let .shareOfGradientTensor(s): Int(s * Double(shape.rawGradientBytesPerEpoch))
        }
    }
}

/// Which tiers `--tiers` turns on (T0 is always on).
package struct RecordedTiers: OptionSet, Equatable, Sendable {
    package let rawValue: UInt8
    /// - Complexity: O(1).
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    package static let t1 = RecordedTiers(rawValue: 1 << 1)
    package static let t2 = RecordedTiers(rawValue: 1 << 2)
    package static let t3 = RecordedTiers(rawValue: 1 << 3)
    /// The default: T0–T2.
    package static let `default`: RecordedTiers = [.t1, .t2]

    /// Parses `--tiers`: a comma list of `t0`…`t3` (case-insensitive; T0 is always on), or `all`.
    /// - Throws: `RecorderError.invalidConfiguration(field: "tiers", …)`.
    /// - Complexity: O(length).
    package init(parsing text: String) throws {
        var tiers: RecordedTiers = []
        for part in text.lowercased().split(separator: ",") {
            switch part.filter({ $0 != " " }) {
            case "t0": break
            case "t1": tiers.insert(.t1)
            case "t2": tiers.insert(.t2)
            case "t3": tiers.insert(.t3)
            case "all": tiers = [.t1, .t2, .t3]
            default:
                throw RecorderError.invalidConfiguration(field: "tiers", message: "'\(part)' is not one of t0, t1, t2, t3, all")
            }
        }
        self = tiers
    }
}

/// What the budget knob decides: T1 count, trajectory stride and bits, sketch sizes, and the
/// estimated raw (pre-zstd) bytes of every column per epoch. A pure function of
/// (budget, shape, tiers); its fields go into the run manifest.
///
/// Rule (docs/RECORDING.md, "Budget"): T0 is fixed by the shape; of the rest R, sketches get 10 %
/// (count-min 4 rows × a power-of-two width, per-neuron Space-Saving k, weighted sample m per
/// step), T1 20 %, trajectories what is left: 16-bit codes every step if that fits, else 8-bit
/// codes every `stride` steps with the smallest stride that fits. Every estimate is an upper
/// bound on the stored bytes (zstd only shrinks), so `totalBytesPerEpoch ≤ budget`.
package struct RecordingPlan: Equatable, Sendable {
    /// One line of the size table.
    package struct Item: Equatable, Sendable {
        package var tier: String
        package var column: String
        package var bytesPerEpoch: Int
    }

    package var budgetBytesPerEpoch: Int
    package var tiers: RecordedTiers
    package var t1Count: Int
    package var trajectoryStride: Int
    package var trajectoryBits: Int
    package var histogramMantissaBits: Int
    package var thresholdCount: Int
    package var spaceSavingPerNeuron: Int
    package var weightHeavyHitters: Int
    package var countMinDepth: Int
    package var countMinWidth: Int
    package var sampledContributionsPerStep: Int
    package var checkpointsPerEpoch: Int
    package var items: [Item]
    /// Estimated recorder-thread work per step (ns), from `CostModel` (docs/RECORDING.md).
    package var recorderNanosecondsPerStep: Double
    /// Estimated extra work on the training thread per step (ns): the hand-off copies.
    package var trainingThreadNanosecondsPerStep: Double

    package var totalBytesPerEpoch: Int { items.reduce(0) { $0 + $1.bytesPerEpoch } }

    /// Bytes per epoch of one tier ("T0" … "T3").
    /// - Complexity: O(items).
    package func bytes(ofTier tier: String) -> Int {
        items.filter { $0.tier == tier }.reduce(0) { $0 + $1.bytesPerEpoch }
    }

    /// The largest trajectory stride a recorder time limit may impose (a budget may impose more).
    package static let maximumTimeLimitedStride = 50

    /// Log-histogram exponent range assumed for the size estimate: 2^−40 … 2^8.
    static let histogramExponents = 49

    /// Plans a run.
    /// - Throws: `RecorderError.budgetTooSmall` when T0 alone exceeds the budget;
    ///   `.invalidConfiguration` for an empty shape.
    /// - Complexity: O(layers).
    package init(budget: RecordingBudget, shape: RunShape, tiers: RecordedTiers = .default,
                 thresholdCount: Int = 8, histogramMantissaBits: Int = 6, checkpointsPerEpoch: Int = 2,
                 recorderNanosecondsPerStepLimit: Double? = nil, costs: CostModel = .measured, factorEpochs: Int? = nil) throws {
        guard shape.parameterCount > 0, shape.samples > 0, shape.batchSize > 0, shape.epochs > 0 else {
            throw RecorderError.invalidConfiguration(field: "shape", message: "empty model or data")
        }
        let p = shape.parameterCount, steps = shape.stepsPerEpoch, n = shape.samples, b = shape.batchSize
        let budgetBytes = budget.bytesPerEpoch(for: shape)
        var items: [Item] = []
        // T0: exact, fixed by the shape.
        items.append(Item(tier: "T0", column: "t0/order (UInt32 per sample)", bytesPerEpoch: 4 * n))
        items.append(Item(tier: "T0", column: "t0/step scalars (5 × Float32)", bytesPerEpoch: 20 * steps))
        items.append(Item(tier: "T0", column: "t0/above (UInt32 per threshold)", bytesPerEpoch: 4 * thresholdCount * steps))
        let histogramBytes = 4 * (Self.histogramExponents << histogramMantissaBits) + 24
        items.append(Item(tier: "T0", column: "t0/gradhist (log-bucket counts)", bytesPerEpoch: histogramBytes * steps))
        items.append(Item(tier: "T0", column: "t0/sample (loss F32, correct U8, ‖g_s‖ F32)", bytesPerEpoch: 9 * n))
        items.append(Item(tier: "T0", column: "t0/epoch weight stats (4 × Float32 × P)", bytesPerEpoch: 16 * p))
        items.append(Item(tier: "T0", column: "checkpoints (weights + state)",
                          bytesPerEpoch: checkpointsPerEpoch * 4 * p * (1 + shape.optimizerStateFloats)))
        let t0 = items.reduce(0) { $0 + $1.bytesPerEpoch }
        guard t0 <= budgetBytes else { throw RecorderError.budgetTooSmall(bytesPerEpoch: budgetBytes, requiredForT0: t0) }
        var rest = budgetBytes - t0
        if tiers.contains(.t3) {
            // Optional factors in Float16 for the epochs chosen (averaged over the run's epochs),
            // with a Float32 scale per sample, layer and factor; fc1's input is the data set itself
            // and is not stored. Reserved first: the other tiers shrink to make room.
            let floats = shape.factorFloatsPerSample - (shape.layers.first?.inputs ?? 0)
            let chosen = min(max(factorEpochs ?? shape.epochs, 0), shape.epochs)
            let t3 = (2 * floats + 4 * (2 * shape.layers.count - 1)) * n * chosen / max(shape.epochs, 1) + 4 * steps
            guard t3 <= rest else {
                throw RecorderError.invalidConfiguration(field: "tiers", message: "T3 needs \(t3) bytes per epoch, only \(rest) remain after T0")
            }
            items.append(Item(tier: "T3", column: "t3/factors (Float16)", bytesPerEpoch: t3))
            rest -= t3
        }

        // Sketches (T2 except trajectories): 10 % of the rest.
        var ssK = 0, hhK = 0, cmDepth = 0, cmWidth = 0, m = 0
        if tiers.contains(.t2) {
            let sketchBytes = rest / 10
            // count-min: up to half of it, 4 rows of Float32 counters, a power-of-two width capped at
            // 2^16 (1 MiB: it is updated B × neurons times per step, so it must stay in L2; at 2^18
            // the wired recorder measured ~1.5 ms per seed-scale step in count-min cache misses).
            cmDepth = 4
            cmWidth = Self.powerOfTwo(atMost: sketchBytes / 2 / (cmDepth * 4), clampedTo: 1 << 10...1 << 16)
            // per-neuron Space-Saving: a quarter; 12 bytes per counter (id, count, error).
            // Capped at 256: every offer above a neuron's minimum counter is an O(log k) heap and
            // table update, and a larger k admits more of them (at k = 1024 the wired recorder
            // spent ~10 % of its seed-scale time in Space-Saving updates).
            ssK = Self.powerOfTwo(atMost: sketchBytes / 4 / (shape.neurons * 12), clampedTo: 8...256)
            // weighted sample of contributions: a quarter; 20 bytes per tuple
            // (sample U32, weight U32, contribution F32, uniform F64).
            m = min(max(sketchBytes / 4 / (steps * 20), 16), 1 << 20)
            hhK = min(4096, p)
            items.append(Item(tier: "T2", column: "t2/cm (count-min, sample × neuron)", bytesPerEpoch: cmDepth * cmWidth * 4))
            items.append(Item(tier: "T2", column: "t2/ss (Space-Saving per neuron)", bytesPerEpoch: shape.neurons * ssK * 12))
            items.append(Item(tier: "T2", column: "t2/contrib (weighted sample)", bytesPerEpoch: m * steps * 20))
            items.append(Item(tier: "T2", column: "t2/hh (weights by Σ|Δw|, whole run)", bytesPerEpoch: hhK * 12))
            rest -= items.suffix(4).reduce(0) { $0 + $1.bytesPerEpoch }
        }

        // T1: 20 % of the rest (all of what trajectories would not use when T2 is off).
        var t1 = 0
        if tiers.contains(.t1) {
            let perWeight = steps * (4 * (2 + shape.optimizerStateFloats) + 4 * b)
            let share = tiers.contains(.t2) ? rest / 5 : rest
            t1 = min(p, share / perWeight)
            items.append(Item(tier: "T1", column: "t1/value,update,state (Float32 per step)",
                              bytesPerEpoch: t1 * steps * 4 * (2 + shape.optimizerStateFloats)))
            items.append(Item(tier: "T1", column: "t1/contrib (Float32 per sample per step)", bytesPerEpoch: t1 * steps * 4 * b))
            rest -= t1 * perWeight
        }

        // Trajectories: what is left (and, with a time limit, no more than the recorder thread
        // can compress and quantize in time).
        var stride = 0, bits = 0
        let bytesBeforeTrajectories = items.reduce(0) { $0 + $1.bytesPerEpoch }
        func recorderTime(trajectoryBytes: Int, snapshotsPerEpoch: Int) -> Double {
            costs.recorderNanosecondsPerStep(shape: shape, t1Count: t1, countMinDepth: cmDepth,
                                             sketchesOn: tiers.contains(.t2), t3On: tiers.contains(.t3),
                                             storedBytesPerEpoch: bytesBeforeTrajectories + trajectoryBytes,
                                             snapshotsPerEpoch: snapshotsPerEpoch)
        }
        if tiers.contains(.t2) {
            if p * steps * 2 <= rest {
                stride = 1; bits = 16
            } else {
                bits = 8
                stride = max(1, (p * steps + rest - 1) / max(rest, 1))
                while p * ((steps + stride - 1) / stride) > rest { stride += 1 }
                if rest < p { stride = steps * shape.epochs + 1 } // not even one snapshot fits
            }
            var snapshots = stride > steps * shape.epochs ? 0 : (steps + stride - 1) / stride
            if let limit = recorderNanosecondsPerStepLimit {
                // The limit raises the stride up to `maximumTimeLimitedStride` at most: past it the
                // trajectories would say little, and the other costs do not shrink with the stride.
                let ceiling = max(stride, Self.maximumTimeLimitedStride)
                while snapshots > 0 && stride < ceiling
                        && recorderTime(trajectoryBytes: snapshots * p * bits / 8, snapshotsPerEpoch: snapshots) > limit {
                    if bits == 16 { bits = 8 } else { stride += 1 }
                    snapshots = stride > steps * shape.epochs ? 0 : (steps + stride - 1) / stride
                }
            }
            items.append(Item(tier: "T2", column: "t2/traj (closed-loop codes)", bytesPerEpoch: snapshots * p * bits / 8))
        }
        self.budgetBytesPerEpoch = budgetBytes
        self.tiers = tiers
        self.t1Count = t1
        self.trajectoryStride = stride
        self.trajectoryBits = bits
        self.histogramMantissaBits = histogramMantissaBits
        self.thresholdCount = thresholdCount
        self.spaceSavingPerNeuron = ssK
        self.weightHeavyHitters = hhK
        self.countMinDepth = cmDepth
        self.countMinWidth = cmWidth
        self.sampledContributionsPerStep = m
        self.checkpointsPerEpoch = checkpointsPerEpoch
        self.items = items
        let trajectoryBytes = items.last { $0.column.hasPrefix("t2/traj") }?.bytesPerEpoch ?? 0
        let snapshotCount = stride == 0 || stride > steps * shape.epochs ? 0 : (steps + stride - 1) / stride
        self.recorderNanosecondsPerStep = recorderTime(trajectoryBytes: trajectoryBytes, snapshotsPerEpoch: snapshotCount)
        self.trainingThreadNanosecondsPerStep = costs.trainingThreadNanosecondsPerStep(shape: shape, t3On: tiers.contains(.t3))
    }

    private static func powerOfTwo(atMost x: Int, clampedTo range: ClosedRange<Int>) -> Int {
        var v = range.lowerBound
        while v * 2 <= x && v * 2 <= range.upperBound { v *= 2 }
        return v
    }
}

/// Nanosecond costs of the recorder's work, measured on the development machine with
/// `kymo-ratios recorder` (docs/RECORDING.md); the plan uses them to keep the recorder thread
/// within a step's time. Scale them for another machine by the ratio of a plain step's time.
package struct CostModel: Equatable, Sendable {
    /// T0 pass over all P (accumulators, histogram, snapped thresholds, norms), per parameter.
    package var t0PassPerParameter: Double
    /// Per-sample norms, masses and the contribution sampler, per factor float (B·Σ(in+out)).
    package var factorWorkPerFloat: Double
    /// One count-min row update.
    package var countMinPerRowUpdate: Double
    /// One Space-Saving offer (mostly rejected by the threshold test).
    package var spaceSavingPerOffer: Double
    /// Quantizing one weight for a trajectory snapshot.
    package var trajectoryPerParameter: Double
    /// Compressing (zstd level 1) and appending one stored byte.
    package var storePerByte: Double
    /// Copying one float from the training thread into a slot.
    package var copyPerFloat: Double

    /// Measured 2026-11-29 on the 2-core AMD EPYC development VM (see docs/RECORDING.md);
    /// count-min and Space-Saving from DESIGN.md's anchors, zstd at 400 MB/s.
    package static let measured = CostModel(
        t0PassPerParameter: 2.0, factorWorkPerFloat: 2.8, countMinPerRowUpdate: 2.5,
        spaceSavingPerOffer: 3, trajectoryPerParameter: 1.0, storePerByte: 2.5, copyPerFloat: 0.33)

    /// - Complexity: O(layers).
    package func recorderNanosecondsPerStep(shape: RunShape, t1Count: Int, countMinDepth: Int, sketchesOn: Bool,
                                            t3On: Bool, storedBytesPerEpoch: Int, snapshotsPerEpoch: Int) -> Double {
        let p = Double(shape.parameterCount), b = Double(shape.batchSize), steps = Double(shape.stepsPerEpoch)
        var ns = t0PassPerParameter * p
        ns += factorWorkPerFloat * b * Double(shape.factorFloatsPerSample)
        if sketchesOn {
            let offers = b * Double(shape.neurons)
            ns += offers * (countMinPerRowUpdate * Double(countMinDepth) + spaceSavingPerOffer)
            ns += trajectoryPerParameter * p * Double(snapshotsPerEpoch) / steps
        }
        ns += Double(t1Count) * b // T1 contributions, ~1 ns each
        ns += storePerByte * Double(storedBytesPerEpoch) / steps
        return ns
    }

    /// The training thread's extra work per step: copying g, Δw and the factors into a slot.
    /// - Complexity: O(layers).
    package func trainingThreadNanosecondsPerStep(shape: RunShape, t3On: Bool) -> Double {
        copyPerFloat * (2 * Double(shape.parameterCount) + Double(shape.batchSize * shape.factorFloatsPerSample))
    }
}
