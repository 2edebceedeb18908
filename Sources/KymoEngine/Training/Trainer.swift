import KymoCore

/// Stream ids under `CounterRNG(key: seed)`; each purpose has its own independent stream.
package enum RandomStream {
    /// Per-epoch data order: `.stream(dataOrder).stream(epoch)` shuffles 0..<count.
    package static let dataOrder: UInt64 = 1
    /// Dropout masks: `.stream(dropout).stream(layer)` then `Dropout.makeMask(step:)`.
    package static let dropout: UInt64 = 2
    /// Weight initialization: `.stream(initialization).stream(layer)`.
    package static let initialization: UInt64 = 3
}

/// Trains an MLP deterministically: the same config, seed and data give the same bits on any
/// machine and any thread count.
///
/// **Data order.** Epoch e visits the training samples in the order
/// `CounterRNG(key: seed).stream(dataOrder).stream(e).shuffle(0..<count)`; step k of the epoch takes
/// positions `k·B ..< min((k+1)·B, count)`. The last batch of an epoch keeps the remainder (it is
/// smaller, and its gradient is the mean over its own size); `stepsPerEpoch = ⌈count / B⌉`.
///
/// **Initialization.** Weights uniform in ±√(6/in) (He, ReLU) or ±√(6/(in+out)) (Glorot, tanh),
/// drawn row-major from `stream(initialization).stream(layer)`; biases 0.
///
/// **A step.** Gather the batch; forward (Dense via GEMM, activation, dropout) to the logits;
/// per-sample softmax cross-entropy; if the mean loss is not finite, throw before touching any state;
/// backward, producing every layer's δ (the per-sample factors) and the batch-mean gradient; check
/// the gradient norm; apply the optimizer; call the observer.
package final class Trainer {
    package let config: TrainingConfig
    package let layout: ParameterLayout
    package let training: Dataset
    /// GEMM threads; changing it never changes a bit.
    package var threads: Int
    /// Called once per step after the update (see `StepObserver`). Held strongly.
    package var observer: (any StepObserver)?
    /// Whether the products whose left operand went through a ReLU or dropout (a hidden layer's
    /// input in the forward pass, its δ in the backward pass) use `GEMM.multiplySkippingZeros`;
    /// the test hook that shows it never changes a bit.
    var skipsZeros = true
    /// Whether ‖g‖² may be taken in the optimizer's pass when a bound shows it finite (see
    /// `gradientNormIsCertainlyFinite`); the test hook that shows it never changes a bit.
    var fusesGradientNorm = true

    /// Steps completed so far (the next step's 0-based index).
    package private(set) var completedSteps: Int = 0
    /// The epoch of the next step.
    package private(set) var epoch: Int = 0
    /// Position in the epoch's data order of the next step's first sample.
    package private(set) var position: Int = 0

    /// `training.fingerprint`, hashed once (every checkpoint records it; hashing a seed-scale data
    /// set takes tens of milliseconds).
    package private(set) lazy var trainingFingerprint: UInt64 = training.fingerprint

    /// max |x| over the training features (+∞ if any is not finite), computed once: bounds every
    /// batch's input for `gradientNormIsCertainlyFinite`.
    private lazy var trainingMagnitude: Float = training.features.withUnsafeBufferPointer {
        VectorMath.maximumMagnitude($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: $0.count)
    }

    package var stepsPerEpoch: Int { (training.count + config.batchSize - 1) / config.batchSize }
    package var totalSteps: Int { stepsPerEpoch * config.epochs }
    /// True once `config.epochs` epochs are done.
    package var isFinished: Bool { epoch >= config.epochs }

    let dataOrderKey: CounterRNG
    let dropoutKeys: [CounterRNG]
    private var order: [Int] = []
    private var orderEpoch = -1

    let parameters: FloatBuffer
    let gradient: FloatBuffer
    let update: FloatBuffer
    let before: FloatBuffer
    let slots: [FloatBuffer]
    /// Where this step's g and Δw are handed to the observer: an observer's `LentStepBuffers`
    /// for the duration of one step (`StepObserver.buffersForNextStep`), else nil and the trace
    /// points at `gradient`/`update`. The products always write g into `gradient`, which stays
    /// warm in this thread's cache; the optimizer's pass streams the copy out.
    private var handOff: LentStepBuffers?
    private var workspace: Workspace?
    private var lastSummary: StepSummary?

    /// A fresh run.
    /// - Throws: `EngineError.invalidSpec` when the config is invalid or does not fit the data
    ///   (empty data set, first width ≠ featureCount, last width < classCount).
    /// - Complexity: O(P + count).
    package init(config: TrainingConfig, training: Dataset) throws(EngineError) {
        try config.validate()
        try config.model.check(featureCount: training.featureCount, classCount: training.classCount, dataName: training.name)
        guard training.count > 0 else { throw .invalidSpec("the training set \(training.name) is empty") }
        self.config = config
        self.training = training
        self.threads = config.threads
        let layout = ParameterLayout(config.model)
        self.layout = layout
        let root = CounterRNG(key: config.seed)
        dataOrderKey = root.stream(RandomStream.dataOrder)
        let dropoutRoot = root.stream(RandomStream.dropout)
        dropoutKeys = (0..<config.model.denseCount).map { dropoutRoot.stream(UInt64($0)) }
        parameters = FloatBuffer(count: layout.count)
        gradient = FloatBuffer(count: layout.count)
        update = FloatBuffer(count: layout.count)
        before = FloatBuffer(count: layout.count)
        slots = (0..<config.optimizer.kind.slotCount).map { _ in FloatBuffer(count: layout.count) }
        initializeParameters(root.stream(RandomStream.initialization))
    }

    private func initializeParameters(_ root: CounterRNG) {
        for (l, layer) in layout.layers.enumerated() {
            var rng = root.stream(UInt64(l))
            let fanSum = config.model.activation == .relu ? layer.inFeatures : layer.inFeatures + layer.outFeatures
            let limit = (6 / Float(fanSum)).squareRoot()
            let w = parameters.base
            for i in layer.weightRange { w[i] = (2 * rng.nextFloat() - 1) * limit }
            for i in layer.biasRange { w[i] = 0 }
        }
    }

    // MARK: - Data order

    /// The permutation of 0..<count visited in `epoch`.
    /// - Complexity: O(count).
    package func dataOrder(epoch: Int) -> [Int] {
        var rng = dataOrderKey.stream(UInt64(epoch))
        var permutation = Array(0..<training.count)
        rng.shuffle(&permutation)
        return permutation
    }

    // MARK: - Parameters

    /// A copy of the parameter vector (global ids, see `ParameterLayout`).
    /// - Complexity: O(P).
    package var parameterValues: [Float] { parameters.array(layout.count) }

    /// A copy of optimizer state slot `index` ([velocity] or [m, v]).
    /// - Complexity: O(P).
    package func optimizerSlot(_ index: Int) -> [Float] { slots[index].array(layout.count) }

    // MARK: - Training

    private func workspace(for batch: Int) -> Workspace {
        if let ws = workspace, ws.batch == batch { return ws }
        let ws = Workspace(batch: batch, widths: config.model.widths, dropout: config.model.dropout > 0)
        workspace = ws
        return ws
    }

    /// Forward pass of `ws.batch` gathered samples to the per-sample losses. With `dropoutStep`
    /// non-nil, applies that step's dropout masks; without it (evaluation) dropout is the identity.
    private func forward(_ ws: Workspace, dropoutStep: Int?, computeGradient: Bool) {
        let widths = config.model.widths
        let layerCount = widths.count - 1
        let b = ws.batch
        let w = parameters.readOnly
        let sparse = hiddenZeros
        for l in 0..<layerCount {
            let layer = layout.layers[l]
            Dense.forward(batch: b, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures,
                          input: ws.input(l).readOnly, weight: w + layer.weightOffset, bias: w + layer.biasOffset,
                          output: ws.z[l].base, sparseInput: sparse && l > 0, threads: threads)
            if l == layerCount - 1 { break }
            let n = b * layer.outFeatures
            switch config.model.activation {
            case .relu: ReLU.forward(ws.z[l].readOnly, ws.act[l].base, count: n)
            case .tanh: Tanh.forward(ws.z[l].readOnly, ws.act[l].base, count: n)
            }
            if !ws.dropped.isEmpty {
                let out = ws.dropped[l].base
                if let dropoutStep {
                    Dropout.makeMask(key: dropoutKeys[l], step: dropoutStep, probability: config.model.dropout,
                                     batch: b, units: layer.outFeatures, mask: ws.mask[l].base)
                    for i in 0..<n { out[i] = ws.act[l].base[i] * ws.mask[l].base[i] }
                } else {
                    out.update(from: ws.act[l].readOnly, count: n)
                }
            }
        }
        SoftmaxCrossEntropy.forwardBackward(
            batch: b, classes: widths[layerCount], logits: ws.z[layerCount - 1].readOnly,
            labels: UnsafePointer(ws.labels.baseAddress!), losses: ws.losses.base,
            correct: ws.correct.baseAddress!, gradient: computeGradient ? ws.delta[layerCount - 1].base : nil)
    }

    private func gather(_ ws: Workspace, from data: Dataset) {
        let f = data.featureCount
        data.features.withUnsafeBufferPointer { features in
            for s in 0..<ws.batch {
                let id = ws.ids[s]
                (ws.x.base + s * f).update(from: features.baseAddress! + id * f, count: f)
                ws.labels[s] = data.labels[id]
            }
        }
    }

    /// Whether hidden activations and their δ have many exact zeros (ReLU, or any dropout), so
    /// that the products reading them skip the zeros.
    private var hiddenZeros: Bool {
        skipsZeros && (config.model.activation == .relu || config.model.dropout > 0)
    }

    /// Backward from the loss gradient in `ws.delta[L−1]` to every layer's δ and the batch-mean
    /// gradient (scaled by 1/B as it is stored) in `gradient`.
    private func backward(_ ws: Workspace) {
        let layerCount = layout.layers.count
        let b = ws.batch
        let w = parameters.readOnly
        let sparse = hiddenZeros
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let layer = layout.layers[l]
            Dense.backward(batch: b, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures,
                           input: ws.input(l).readOnly, weight: w + layer.weightOffset,
                           outputGradient: ws.delta[l].readOnly,
                           weightGradient: gradient.base + layer.weightOffset,
                           biasGradient: gradient.base + layer.biasOffset,
                           inputGradient: l > 0 ? ws.delta[l - 1].base : nil,
                           scale: 1 / Float(b), sparseOutputGradient: sparse && l < layerCount - 1,
                           threads: threads)
            if l == 0 { break }
            let n = b * layer.inFeatures
            let d = ws.delta[l - 1].base
            if !ws.mask.isEmpty { Dropout.backward(d, mask: ws.mask[l - 1].readOnly, count: n) }
            switch config.model.activation {
            case .relu: ReLU.backward(ws.z[l - 1].readOnly, d, count: n)
            case .tanh: Tanh.backward(ws.act[l - 1].readOnly, d, count: n)
            }
        }
    }


    /// Takes one optimizer step on the next batch of the data order.
    /// - Throws: `EngineError.nonFiniteLoss` when the batch loss or gradient is NaN or infinite;
    ///   then nothing of the step is applied (weights, optimizer state, step, position unchanged).
    /// - Complexity: O(B·P) (the GEMMs), plus O(count) at an epoch's first step (the shuffle).
    @discardableResult
    package func step() throws(EngineError) -> StepSummary {
        if orderEpoch != epoch {
            order = dataOrder(epoch: epoch)
            orderEpoch = epoch
        }
        let n = training.count
        let b = min(config.batchSize, n - position)
        let ws = workspace(for: b)
        // This step's g and Δw for the observer: its lent buffers (no copy-out) or the trainer's
        // own. Dropped when the step ends, however it ends.
        if let lent = observer?.buffersForNextStep(parameterCount: layout.count) {
            precondition(lent.count == layout.count, "lent step buffers hold \(lent.count) floats, the model has \(layout.count)")
            handOff = lent
        }
        defer { handOff = nil }
        for s in 0..<b { ws.ids[s] = order[position + s] }
        gather(ws, from: training)
        forward(ws, dropoutStep: config.model.dropout > 0 ? completedSteps : nil, computeGradient: true)

        var lossSum: Double = 0
        var correctCount = 0
        for s in 0..<b {
            lossSum += Double(ws.losses.base[s])
            correctCount += Int(ws.correct[s])
        }
        let loss = Float(lossSum / Double(b))
        guard loss.isFinite else { throw .nonFiniteLoss(step: completedSteps, epoch: epoch, loss: loss) }

        backward(ws)
        // dW and db hold the batch mean (Σ_s scaled by 1/B as it was stored). When a bound from
        // the factors shows ‖g‖ finite, ‖g‖² is taken in the optimizer's pass (same order, same
        // bits) instead of a pass of its own; otherwise it is taken first and checked.
        let normIsCertainlyFinite = fusesGradientNorm && gradientNormIsCertainlyFinite(ws)
        var gradientNorm: Float = 0
        if !normIsCertainlyFinite {
            gradientNorm = Float(VectorMath.sumOfSquares(gradient.readOnly, count: layout.count).squareRoot())
            guard gradientNorm.isFinite else { throw .nonFiniteLoss(step: completedSteps, epoch: epoch, loss: loss) }
        }

        let eta = config.schedule.rate(base: config.optimizer.learningRate, step: completedSteps, totalSteps: totalSteps)
        // The observer's w_{t−1}: all P in the update's pass, or only the ids it asks for.
        let beforeIds = observer?.parametersBeforeIds
        if let beforeIds {
            let w = parameters.readOnly, saved = before.base
            for id in beforeIds { saved[id] = w[id] }
        }
        let fullSnapshot = observer != nil && beforeIds == nil
        // One pass: the snapshot, the update, and ‖Δw‖² in VectorMath's order; Δw itself is
        // stored only for an observer (nothing else reads it), streamed with a copy of g into
        // the observer's lent buffers when it lends them.
        let updateSquares: Double
        if let handOff {
            let squares = OptimizerUpdate.applyHandingOver(
                config.optimizer, learningRate: eta, step: completedSteps + 1, count: layout.count,
                parameters: parameters.base, gradient: gradient.readOnly, slots: slots.map(\.base),
                handOff: handOff, saveBefore: fullSnapshot ? before.base : nil,
                summingGradient: normIsCertainlyFinite)
            updateSquares = squares.update
            if normIsCertainlyFinite {
                gradientNorm = Float(squares.gradient.squareRoot())
                precondition(gradientNorm.isFinite, "the gradient norm bound failed at step \(completedSteps)")
            }
        } else if normIsCertainlyFinite {
            let squares = OptimizerUpdate.applySummingGradient(
                config.optimizer, learningRate: eta, step: completedSteps + 1, count: layout.count,
                parameters: parameters.base, gradient: gradient.readOnly,
                slots: slots.map(\.base), update: observer != nil ? update.base : nil,
                saveBefore: fullSnapshot ? before.base : nil)
            updateSquares = squares.update
            gradientNorm = Float(squares.gradient.squareRoot())
            precondition(gradientNorm.isFinite, "the gradient norm bound failed at step \(completedSteps)")
        } else {
            updateSquares = OptimizerUpdate.apply(
                config.optimizer, learningRate: eta, step: completedSteps + 1, count: layout.count,
                parameters: parameters.base, gradient: gradient.readOnly,
                slots: slots.map(\.base), update: observer != nil ? update.base : nil,
                saveBefore: fullSnapshot ? before.base : nil)
        }
        let summary = StepSummary(
            step: completedSteps, epoch: epoch, batchSize: b, loss: loss,
            accuracy: Float(correctCount) / Float(b),
            gradientNorm: gradientNorm, updateNorm: Float(updateSquares.squareRoot()),
            learningRate: eta)
        if let observer { observer.observe(makeTrace(ws, summary: summary)) }
        lastSummary = summary

        completedSteps += 1
        position += b
        if position >= n {
            position = 0
            epoch += 1
        }
        return summary
    }

    /// True when this step's gradient norm is certainly finite, judged from the factors alone:
    /// dW = (1/B)·δᵀ·a and db = (1/B)·Σ_s δ_s. With Mδ = max|δ| and Ma = max(max|a|, 1) per layer
    /// (for the first layer max|x| over the whole training set, taken once),
    /// every partial sum of an element's chain is at most B·Mδ·Ma·(1 + B·u) (u = 2⁻²⁴) and every
    /// stored element at most 2·Mδ·Ma (for B < 2²²), so if 2·B·Mδ·Ma < Float.max in every layer no
    /// chain overflows, and if Σ_layers out·(in+1)·(2·Mδ·Ma)² < Float.max²/4 the sum of squares
    /// (exact squares, Double sums) and its root stay finite. Non-finite factors give +∞ and
    /// fail the test. False only costs the separate pass; true is never wrong.
    /// - Complexity: O(B·Σ widths).
    private func gradientNormIsCertainlyFinite(_ ws: Workspace) -> Bool {
        let b = ws.batch
        guard b < 1 << 22 else { return false }
        let limit = Double(Float.greatestFiniteMagnitude)
        var bound = 0.0
        for (l, layer) in layout.layers.enumerated() {
            // The first layer's input is a batch of the training set: its bound is the set's.
            let inputMagnitude = l == 0
                ? trainingMagnitude : VectorMath.maximumMagnitude(ws.input(l).readOnly, count: b * layer.inFeatures)
            let maxA = Double(max(inputMagnitude, 1))
            let maxD = Double(VectorMath.maximumMagnitude(ws.delta[l].readOnly, count: b * layer.outFeatures))
            guard 2 * Double(b) * maxD * maxA < limit else { return false }
            let element = 2 * maxD * maxA
            bound += Double(layer.outFeatures) * Double(layer.inFeatures + 1) * element * element
        }
        return bound < limit * limit / 4
    }

    private func makeTrace(_ ws: Workspace, summary: StepSummary) -> StepTrace {
        let b = ws.batch
        let stepGradient = handOff.map { UnsafePointer($0.gradient.baseAddress!) } ?? gradient.readOnly
        let stepUpdate = handOff.map { UnsafePointer($0.update.baseAddress!) } ?? update.readOnly
        let norms = ws.sampleNorms.base
        for s in 0..<b { norms[s] = 0 }
        var layers: [LayerTrace] = []
        layers.reserveCapacity(layout.layers.count)
        for (l, layer) in layout.layers.enumerated() {
            let a = ws.input(l).readOnly
            let d = ws.delta[l].readOnly
            for s in 0..<b {
                let a2 = VectorMath.sumOfSquares(a + s * layer.inFeatures, count: layer.inFeatures)
                let d2 = VectorMath.sumOfSquares(d + s * layer.outFeatures, count: layer.outFeatures)
                norms[s] += Float(d2 * (a2 + 1))
            }
            layers.append(LayerTrace(
                index: l, name: layer.name, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures,
                weightOffset: layer.weightOffset, biasOffset: layer.biasOffset,
                inputs: UnsafeBufferPointer(start: a, count: b * layer.inFeatures),
                outputGradients: UnsafeBufferPointer(start: d, count: b * layer.outFeatures),
                weightGradient: UnsafeBufferPointer(start: stepGradient + layer.weightOffset, count: layer.weightCount),
                biasGradient: UnsafeBufferPointer(start: stepGradient + layer.biasOffset, count: layer.outFeatures)))
        }
        for s in 0..<b { norms[s] = norms[s].squareRoot() }
        let t = summary.step + 1
        let adam = config.optimizer.kind == .adam || config.optimizer.kind == .adamw
        return StepTrace(
            step: summary.step, epoch: summary.epoch, positionInEpoch: position, batchSize: b,
            sampleIDs: UnsafeBufferPointer(ws.ids), sampleLosses: ws.losses.view(b),
            sampleCorrect: UnsafeBufferPointer(ws.correct), sampleGradientNorms: ws.sampleNorms.view(b),
            summary: summary, layers: layers, layout: layout,
            parametersBefore: before.view(layout.count), parametersAfter: parameters.view(layout.count),
            update: UnsafeBufferPointer(start: stepUpdate, count: layout.count),
            gradient: UnsafeBufferPointer(start: stepGradient, count: layout.count),
            optimizer: config.optimizer, optimizerState: slots.map { $0.view(layout.count) },
            biasCorrection1: adam ? OptimizerUpdate.biasCorrection(config.optimizer.beta1, step: t) : 1,
            biasCorrection2: adam ? OptimizerUpdate.biasCorrection(config.optimizer.beta2, step: t) : 1)
    }

    /// Mean loss and accuracy of the current weights on `data` (no dropout), in batches of 256,
    /// summed in sample order in Double.
    /// - Throws: `EngineError.invalidSpec` when `data` does not fit the model.
    /// - Complexity: O(count·P).
    package func evaluate(on data: Dataset) throws(EngineError) -> (loss: Float, accuracy: Float) {
        try config.model.check(featureCount: data.featureCount, classCount: data.classCount, dataName: data.name)
        guard data.count > 0 else { return (0, 0) }
        var lossSum: Double = 0
        var correct = 0
        var start = 0
        var ws: Workspace?
        while start < data.count {
            let b = min(256, data.count - start)
            if ws?.batch != b { ws = Workspace(batch: b, widths: config.model.widths, dropout: config.model.dropout > 0) }
            let w = ws!
            for s in 0..<b { w.ids[s] = start + s }
            gather(w, from: data)
            forward(w, dropoutStep: nil, computeGradient: false)
            for s in 0..<b {
                lossSum += Double(w.losses.base[s])
                correct += Int(w.correct[s])
            }
            start += b
        }
        return (Float(lossSum / Double(data.count)), Float(correct) / Float(data.count))
    }

    /// Repeats, for the last step, the work an attached observer adds to a step apart from
    /// storing Δw in the optimizer's pass (the parameter snapshot and the trace with its
    /// per-sample norms), without training: lets a benchmark time that overhead precisely on a
    /// noisy machine.
    func repeatFactorCollection() {
        guard let ws = workspace, let summary = lastSummary else { return }
        before.base.update(from: parameters.readOnly, count: layout.count)
        let trace = makeTrace(ws, summary: summary)
        observer?.observe(trace)
    }

    // MARK: - State (used by TrainerState)

    func restore(step: Int, epoch: Int, position: Int, parameters values: [Float], slots slotValues: [[Float]]) {
        self.completedSteps = step
        self.epoch = epoch
        self.position = position
        parameters.copy(from: values)
        for (buffer, values) in zip(slots, slotValues) { buffer.copy(from: values) }
        orderEpoch = -1
    }
}
