import KymoCore
import KymoEngine
import KymoSketches

/// What a run is: its shape and which tiers it holds. Steps and epochs count from 1 (as queries
/// write them); step t of epoch e is `(e−1)·stepsPerEpoch < t ≤ e·stepsPerEpoch`.
package struct RunCatalog: Sendable {
    package var name: String
    package var layout: ParameterLayout
    package var batchSize: Int
    package var sampleCount: Int
    package var stepsPerEpoch: Int
    /// Epochs planned (the config); `steps` says how far the run got.
    package var plannedEpochs: Int
    /// Steps committed so far.
    package var steps: Int
    /// True when the run is complete (no more commits will come).
    package var isFinished: Bool
    /// T1 weight ids, sorted ascending.
    package var t1Ids: [Int]
    /// Record-time |g| thresholds θ_k (ascending), counted exactly per step in `aboveCounts`.
    package var thresholds: [Float]
    /// Probe evaluation period in steps (0: none).
    package var probeEvery: Int
    /// Steps after which a trajectory row is recorded (0 = the initial weights), ascending.
    package var trajectorySteps: [Int]
    /// Steps after which a checkpoint (exact weights) exists (0 = initial), ascending.
    package var checkpointSteps: [Int]
    /// Tiers recorded: "t0", "t1", "t2", "t3".
    package var tiers: [String]
    /// Seconds one training step takes, for replay cost estimates (measured or estimated).
    package var secondsPerStep: Double
    /// Epochs (1-based, ascending) whose T3 factors are recorded.
    package var factorEpochs: [Int] = []
    /// Whether the optimizer's contribution scale is one k per step (SGD, momentum, Nesterov), so
    /// T3's factors give contributions; Adam's per-parameter k is not in T3.
    package var uniformContributionScale = false

    /// Epochs with at least one committed step.
    package var epochs: Int { (steps + stepsPerEpoch - 1) / stepsPerEpoch }
    /// Epochs whose last step is committed (per-epoch columns exist for these).
    package var completeEpochs: Int { steps / stepsPerEpoch }

    /// The steps of epoch `e` (1-based), clipped to what is recorded.
    /// - Complexity: O(1).
    package func steps(ofEpoch e: Int) -> ClosedRange<Int> {
        let lo = (e - 1) * stepsPerEpoch + 1
        return lo...max(lo - 1, min(e * stepsPerEpoch, steps))
    }

    /// The epoch (1-based) step `t` belongs to.
    /// - Complexity: O(1).
    package func epoch(ofStep t: Int) -> Int { (t - 1) / stepsPerEpoch + 1 }

    /// Whether weight `id` is a T1 weight.
    /// - Complexity: O(log n₁).
    package func isT1(_ id: Int) -> Bool { t1Index(of: id) != nil }

    /// Position of `id` in `t1Ids`.
    /// - Complexity: O(log n₁).
    package func t1Index(of id: Int) -> Int? {
        var lo = 0, hi = t1Ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if t1Ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < t1Ids.count && t1Ids[lo] == id ? lo : nil
    }
}

/// The T0 scalars of one step.
package struct StepScalars: Sendable, Equatable {
    package var loss: Float
    package var accuracy: Float
    package var learningRate: Float
    package var gradientNorm: Float
    package var updateNorm: Float

    package init(loss: Float, accuracy: Float, learningRate: Float, gradientNorm: Float, updateNorm: Float) {
        self.loss = loss
        self.accuracy = accuracy
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.updateNorm = updateNorm
    }
}

/// The per-sample T0 values of one step, in batch order.
package struct SampleStats: Sendable, Equatable {
    /// Data-set ids of the batch (the data order).
    package var ids: [Int]
    package var loss: [Float]
    package var correct: [UInt8]
    package var gradientNorm: [Float]
}

/// One epoch's exact per-weight sums (T0), each `P` long in `ParameterLayout` order.
package struct EpochSums: Sendable, Equatable {
    /// Σ_t |Δw_t|
    package var sumAbs: [Float]
    /// Σ_t Δw_t
    package var sum: [Float]
    /// Σ_t g_t²
    package var sumSquares: [Float]
    /// max_t |g_t|
    package var maxAbs: [Float]
}

/// One decoded trajectory row: ŵ for every parameter and a bound b with |ŵ − w| ≤ b.
package struct TrajectoryRow: Sendable, Equatable {
    package var values: [Float]
    package var bounds: [Float]

    package init(values: [Float], bounds: [Float]) {
        self.values = values
        self.bounds = bounds
    }
}

/// One step of T1: the sampled weights' values, updates and per-sample contributions.
package struct T1Step: Sendable, Equatable {
    /// w_{t−1} per T1 weight (order of `t1Ids`).
    package var value: [Float]
    /// Δw_t per T1 weight.
    package var update: [Float]
    /// c(s, w, t), weight-major: `contributions[i·B + s]` for T1 weight i and batch position s.
    package var contributions: [Float]
}

/// One kept tuple of the weighted contribution sample (T2): kept with probability
/// `min(1, |c|/τ_t)` independently, so every (sample, weight) pair of the step that was NOT kept
/// has `|c| < τ_t` (a deterministic fact the executor's bounds rest on).
package struct ContributionTuple: Sendable, Equatable {
    package var sample: Int
    package var weight: Int
    package var contribution: Float
    package var uniform: Double

    package init(sample: Int, weight: Int, contribution: Float, uniform: Double) {
        self.sample = sample
        self.weight = weight
        self.contribution = contribution
        self.uniform = uniform
    }
}

/// One step of the contribution sample: the kept tuples and the threshold τ_t.
package struct ContributionSampleStep: Sendable, Equatable {
    package var tuples: [ContributionTuple]
    package var tau: Float
}

/// Per epoch, per neuron (Σ out over layers, in layer order), the samples' contribution mass
/// `|k|·|δ_s[row]|·(‖a_s‖₁ + 1)` — an upper bound on `|c(s, w, t)|` for every weight w of the row
/// (`|a_col| ≤ ‖a_s‖₁`, and the bias column has a = 1).
package struct NeuronMassSketches: Sendable {
    /// One Space-Saving sketch per neuron, keyed by sample id (decoded on first use).
    package var spaceSaving: NeuronSketchList?
    /// Count-min over key `sample·neurons + neuron`.
    package var countMin: CountMinSketch?
    /// Total neurons (the key stride of `countMin`).
    package var neurons: Int
}

/// The per-neuron Space-Saving sketches of an epoch, decoded one at a time on first use: a query
/// about one weight reads one neuron's sketch, not all of them. A store's list may also defer
/// reading the blob until a sketch is asked for, answering `largestUpperBound` from the recorded
/// per-neuron maxima (`t2/ssmax`) meanwhile.
package final class NeuronSketchList: @unchecked Sendable {
    package let count: Int
    private var decoded: [Int: SpaceSavingSketch] = [:]
    private var bytes: [UInt8]
    private var spans: [Range<Int>]
    private let source: String
    /// Per neuron, the largest upper bound its sketch states for any key (rounded up), if recorded.
    private let maxima: [Float]?
    /// Reads the blob on first use (nil once read, or for a list built from a blob or sketches).
    private var loader: (() throws -> [UInt8])?

    /// A list whose blob is read on first use of a sketch; `maxima` (one per neuron) answers
    /// `largestUpperBound` without it.
    /// - Complexity: O(1).
    package init(count: Int, maxima: [Float]?, source: String, loader: @escaping () throws -> [UInt8]) {
        self.count = count
        self.maxima = maxima
        self.loader = loader
        bytes = []
        spans = []
        self.source = source
    }

    /// The largest upper bound neuron `i`'s sketch states for any key: its top entry's.
    /// - Complexity: O(1) from the recorded maxima, else that of decoding the sketch and its topK(1).
    package func largestUpperBound(_ i: Int) throws -> Double {
        if let maxima, maxima.indices.contains(i) { return Double(maxima[i]) }
        return try self[i].topK(1).first?.upperBound ?? 0
    }

    private func load() throws {
        guard let loader else { return }
        self.loader = nil
        let blob = try loader()
        let (n, spans) = try Self.spans(of: blob, source: source)
        guard n == count else {
            throw QueryError.invalid(location: nil, message: "\(source): \(n) sketches, the run has \(count) neurons")
        }
        bytes = blob
        self.spans = spans
    }

    private static func spans(of blob: [UInt8], source: String) throws -> (Int, [Range<Int>]) {
        var r = ByteReader(blob, source: source)
        let n = Int(try r.read(UInt32.self, "neuron count"))
        var spans: [Range<Int>] = []
        spans.reserveCapacity(n)
        for _ in 0..<n {
            let length = Int(try r.read(UInt64.self, "sketch length"))
            let start = r.offset
            _ = try r.readRaw(count: length, "sketch")
            spans.append(start..<(start + length))
        }
        return (n, spans)
    }

    /// Already decoded sketches.
    /// - Complexity: O(n).
    package init(_ sketches: [SpaceSavingSketch]) {
        count = sketches.count
        for (i, s) in sketches.enumerated() { decoded[i] = s }
        bytes = []
        spans = []
        source = ""
        maxima = nil
    }

    /// The `t2/ss` blob: neuron count U32, then per neuron a U64 byte length and the sketch.
    /// Only the lengths are read here.
    /// - Throws: `CoreError` naming the field of a truncated blob.
    /// - Complexity: O(neurons).
    package init(blob: [UInt8], source: String) throws {
        let (n, spans) = try Self.spans(of: blob, source: source)
        count = n
        bytes = blob
        self.spans = spans
        self.source = source
        maxima = nil
    }

    /// Neuron `i`'s sketch.
    /// - Complexity: O(sketch size) the first time, then O(1).
    package subscript(i: Int) -> SpaceSavingSketch {
        get throws {
            if let s = decoded[i] { return s }
            try load()
            let s = try SpaceSavingSketch(deserializing: Array(bytes[spans[i]]))
            decoded[i] = s
            return s
        }
    }
}

/// Everything the executor reads about one run. Methods return nil when the run did not record
/// that column (or not yet); they throw only on damaged data. Steps and epochs are 1-based.
package protocol RunData: AnyObject {
    /// The run's shape; refreshed by `refresh()`.
    /// - Complexity: O(1).
    var catalog: RunCatalog { get }
    /// Looks for new commits; true when the run grew.
    /// - Complexity: O(new commits).
    func refresh() throws -> Bool
    /// T0 scalars for each step in `steps`.
    /// - Complexity: O(steps).
    func scalars(steps: ClosedRange<Int>) throws -> [StepScalars]
    /// Probe loss and accuracy at the latest probe evaluation at or before `step`, with its step.
    /// - Complexity: O(probe evaluations).
    func probe(atOrBefore step: Int) throws -> (step: Int, loss: Float, accuracy: Float)?
    /// Per-sample values of `step` (batch order, ids).
    /// - Complexity: O(B).
    func samples(step: Int) throws -> SampleStats
    /// The data-set ids of `step`'s batch, in batch order (the data order) — `samples(step:).ids`
    /// without reading the per-sample values.
    /// - Complexity: O(B).
    func batch(step: Int) throws -> [Int]
    /// The label of data-set sample `id`, when the data set is at hand.
    /// - Complexity: O(1).
    func label(ofSample id: Int) -> Int?
    /// The exact per-weight sums of epoch `e` (complete epochs only).
    /// - Complexity: O(P).
    func epochSums(epoch e: Int) throws -> EpochSums?
    /// One of epoch `e`'s sums (`\.sumAbs`, `\.sum`, `\.sumSquares`, `\.maxAbs`), without
    /// reading the other three.
    /// - Complexity: O(P).
    func epochSum(_ which: KeyPath<EpochSums, [Float]>, epoch e: Int) throws -> [Float]?
    /// T1 values, updates and contributions at `step`.
    /// - Complexity: O(n₁·B).
    func t1(step: Int) throws -> T1Step?
    /// Exact counts of weights with |g| > θ_k at `step` (order of `catalog.thresholds`).
    /// - Complexity: O(thresholds).
    func aboveCounts(step: Int) throws -> [UInt32]?
    /// The |g| quantile sketch of `step`.
    /// - Complexity: O(sketch size).
    func gradientQuantiles(step: Int) throws -> MagnitudeQuantiles?
    /// The decoded trajectory row recorded after step `catalog.trajectorySteps[index]`.
    /// - Complexity: O(P) per row decoded (a store decodes rows in order from the last one read).
    func trajectory(index: Int) throws -> TrajectoryRow?
    /// Row `index` of the trajectory for the parameters `ids` only (ascending; nil: all), in
    /// their order — what a query about a few weights needs without decoding all P.
    /// - Complexity: O(ids) for a decoded row; a store decodes only the ids' blocks.
    func trajectoryValues(index: Int, ids: [Int]?) throws -> TrajectoryRow?
    /// The contribution sample of `step`.
    /// - Complexity: O(kept tuples).
    func contributionSample(step: Int) throws -> ContributionSampleStep?
    /// The contribution sample of `step`, only the tuples of `weights` (τ_t as recorded).
    /// - Complexity: O(kept tuples).
    func contributionSample(step: Int, weights: [Int]) throws -> ContributionSampleStep?
    /// An interval holding ŵ ± bound of weight `id` at every trajectory snapshot of epoch `e`
    /// (so a condition that no value in it meets holds at no snapshot of the epoch); nil when
    /// not recorded.
    /// - Complexity: O(1) amortized.
    func trajectoryEnvelope(epoch e: Int, id: Int) throws -> (lower: Float, upper: Float)?
    /// τ_t of the contribution sample at `step` (what planning needs, without the tuples).
    /// - Complexity: O(1).
    func contributionThreshold(step: Int) throws -> Float?
    /// The per-neuron mass sketches of epoch `e`.
    /// - Complexity: O(sketch sizes).
    func neuronMass(epoch e: Int) throws -> NeuronMassSketches?
    /// Exact weights after `step` when `step` is in `catalog.checkpointSteps`.
    /// - Complexity: O(P).
    func checkpointWeights(step: Int) throws -> [Float]?
    /// T3: layer `layer`'s per-sample factors at each step of `steps`, decoded, when recorded.
    /// - Complexity: O(steps·B·(in + out)) plus the chunks' decoding.
    func factors(layer: Int, steps: ClosedRange<Int>) throws -> [StepFactors]?
}

/// One step's T3 factors of one dense layer, decoded (docs/RECORDING.md, "T3"): sample s's
/// δ_s[row] is `deltas[s·out + row]` within `FactorEncoding.bound(decoded:scale: deltaScales[s])`,
/// and a_s[col] is `inputs[s·in + col]` within the bound for `inputScales[s]` — exact (no scales)
/// for the first layer, whose inputs are the data set's values.
package struct StepFactors: Sendable {
    package var deltas: [Float]
    package var deltaScales: [Float]
    package var inputs: [Float]
    package var inputScales: [Float]?
    /// The step's uniform contribution scale k (NaN: per-parameter, not in T3).
    package var scale: Float
}

extension RunData {
    /// Default: no T3 factors.
    /// - Complexity: O(1).
    package func factors(layer: Int, steps: ClosedRange<Int>) throws -> [StepFactors]? { nil }

    /// Default: all four sums, then the one asked for.
    /// - Complexity: that of `epochSums(epoch:)`.
    package func epochSum(_ which: KeyPath<EpochSums, [Float]>, epoch e: Int) throws -> [Float]? {
        try epochSums(epoch: e)?[keyPath: which]
    }

    /// Default: the whole step, then the tuples of `weights` picked from it.
    /// - Complexity: that of `contributionSample(step:)`.
    package func contributionSample(step: Int, weights: [Int]) throws -> ContributionSampleStep? {
        guard var s = try contributionSample(step: step) else { return nil }
        let wanted = Set(weights)
        s.tuples.removeAll { !wanted.contains($0.weight) }
        return s
    }

    /// Default: not recorded.
    /// - Complexity: O(1).
    package func trajectoryEnvelope(epoch e: Int, id: Int) throws -> (lower: Float, upper: Float)? { nil }

    /// Default: the whole row, then the ids picked from it.
    /// - Complexity: that of `trajectory(index:)` plus O(ids).
    package func trajectoryValues(index: Int, ids: [Int]?) throws -> TrajectoryRow? {
        guard let row = try trajectory(index: index) else { return nil }
        guard let ids else { return row }
        return TrajectoryRow(values: ids.map { row.values[$0] }, bounds: ids.map { row.bounds[$0] })
    }
}

/// A lab's runs as the executor sees them (and as the semantic checker needs them).
package final class RunSet: QueryCatalog {
    package private(set) var runs: [(name: String, data: any RunData)]
    package var defaultRun: String?

    /// - Complexity: O(1).
    package init(runs: [(name: String, data: any RunData)], defaultRun: String? = nil) {
        self.runs = runs
        self.defaultRun = defaultRun ?? runs.last?.name
    }

    package var runNames: [String] { runs.map(\.name) }
    /// - Complexity: O(runs).
    package func run(_ name: String) -> (any RunData)? { runs.first { $0.name == name }?.data }
    package var layerNames: [String] { runs.first?.data.catalog.layout.layers.map(\.name) ?? [] }
    package func shape(ofLayer layer: String) -> LayerShape? {
        guard let l = runs.first?.data.catalog.layout.layers.first(where: { $0.name == layer }) else { return nil }
        return LayerShape(rows: l.outFeatures, columns: l.inFeatures, hasBias: true)
    }
    package func stepCount(ofRun run: String) -> Int? { self.run(run)?.catalog.steps }
    package func epochCount(ofRun run: String) -> Int? { self.run(run)?.catalog.epochs }
}
