/// What one training step did, as `Trainer.step()` returns it.
package struct StepSummary: Sendable, Equatable {
    /// 0-based index of the step just taken (the run's t−1 in Adam's bias correction).
    package var step: Int
    /// 0-based epoch the batch came from.
    package var epoch: Int
    /// Number of samples in the batch (the last batch of an epoch may be smaller).
    package var batchSize: Int
    /// Mean softmax cross-entropy over the batch (before the update).
    package var loss: Float
    /// Fraction of the batch classified correctly (before the update).
    package var accuracy: Float
    /// ‖g‖₂ of the batch-mean loss gradient over all parameters (weight decay excluded).
    package var gradientNorm: Float
    /// ‖Δw‖₂ of the update applied.
    package var updateNorm: Float
    /// η_t used by this step.
    package var learningRate: Float
}

/// Receives every training step, for the recorder.
///
/// `observe(_:)` is called on the training thread, synchronously, once per step, after the
/// optimizer update has been applied and before `Trainer.step()` returns. The trace's buffers belong
/// to the trainer and are overwritten by the next step: an observer copies what it keeps before
/// returning (or hands copies to its own thread). When no observer is attached the trainer does none
/// of the extra work (no parameter snapshot, no per-sample norms).
package protocol StepObserver: AnyObject {
    /// - Parameter trace: valid only for the duration of the call.
    func observe(_ trace: StepTrace)

    /// Memory for the next step's batch gradient and update, lent by the observer so that it need
    /// not copy them out in `observe(_:)`: when non-nil, the trainer's optimizer pass streams that
    /// step's Δw and a copy of g into it (both P = `parameterCount` floats; the products write g
    /// into the trainer's own warm buffer) and the trace's `gradient`/`update` point there. Called on the training thread at the start of each step, before any work; the
    /// trainer keeps no reference past the step. Default: nil (the trainer's own buffers).
    /// Which memory is used never changes a bit of training.
    func buffersForNextStep(parameterCount: Int) -> LentStepBuffers?

    /// The parameter ids whose pre-update values the observer reads from
    /// `StepTrace.parametersBefore`; nil (the default) means all P, an O(P) snapshot per step.
    /// With a list, the trainer copies only those ids and the other entries of
    /// `parametersBefore` are unspecified (and `weightDecayPart`/`carriedPart` valid only there).
    var parametersBeforeIds: [Int]? { get }
}

extension StepObserver {
    package func buffersForNextStep(parameterCount: Int) -> LentStepBuffers? { nil }
    package var parametersBeforeIds: [Int]? { nil }
}

/// One Dense layer's view of a step: the rank-one factors of every sample's weight gradient,
/// `g_s = δ_s ⊗ a_s` (weight) and `δ_s` (bias), and the batch gradient.
///
/// All pointers are valid only during `StepObserver.observe(_:)`.
package struct LayerTrace {
    /// 0-based Dense layer index; `name` is "fc\(index + 1)".
    package let index: Int
    package let name: String
    package let inFeatures: Int
    package let outFeatures: Int
    /// Global parameter id of `name[0,0]` and of `name.bias[0]` (see `ParameterLayout`).
    package let weightOffset: Int
    package let biasOffset: Int
    /// a: (B, inFeatures), row s = the layer input of the batch's sample s (after the previous
    /// layer's activation and dropout; the raw features for fc1).
    package let inputs: UnsafeBufferPointer<Float>
    /// δ: (B, outFeatures), row s = ∂ℓ_s/∂z_s, the gradient of sample s's OWN loss (not divided
    /// by B) with respect to this layer's pre-activation output z = a·Wᵀ + b.
    package let outputGradients: UnsafeBufferPointer<Float>
    /// dW: (outFeatures, inFeatures) = (1/B)·Σ_s δ_s ⊗ a_s, the batch-mean gradient (no decay).
    package let weightGradient: UnsafeBufferPointer<Float>
    /// db: (outFeatures) = (1/B)·Σ_s δ_s.
    package let biasGradient: UnsafeBufferPointer<Float>

    /// Sample s's own gradient for weight (row, column): δ_s[row]·a_s[column].
    /// - Complexity: O(1).
    package func sampleGradient(sample s: Int, row: Int, column: Int) -> Float {
        outputGradients[s * outFeatures + row] * inputs[s * inFeatures + column]
    }
}

/// Everything the recorder needs about one step. Indices `s` are positions in the batch
/// (0..<batchSize); `sampleIDs[s]` is the sample's index in the training Dataset.
///
/// All buffers are valid only during `StepObserver.observe(_:)`.
///
/// **Contributions** (DESIGN.md "contribution"). Sample s's part of the update of parameter w is
/// `c(s,w,t) = contributionScale(of: w) · g_s[w]`, g_s[w] = δ_s[row]·a_s[col] (weight) or δ_s[row]
/// (bias). The scale is the immediate coefficient of the sample's gradient in Δw:
/// - SGD, momentum: `−η_t/B`; Nesterov: `−η_t(1+μ)/B`;
/// - Adam, AdamW: `−η_t(1−β1)/(1−β1^t) / (B(√v̂_t+ε))`, with this step's v̂ held fixed (a
///   definition, first order).
/// Weight decay is a pseudo-sample with part `weightDecayPart(of:)`; what momentum or Adam's m
/// carries from earlier steps is `carriedPart(of:)`, so that for every w
/// `update[w] = Σ_s c(s,w,t) + weightDecayPart(w) + carriedPart(w)` up to float rounding
/// (`carriedPart` is 0 for SGD).
package struct StepTrace {
    /// 0-based step index; `epoch` 0-based.
    package let step: Int
    package let epoch: Int
    /// Index in the epoch's data order of the batch's first sample.
    package let positionInEpoch: Int
    package let batchSize: Int
    /// (B) sample ids (indices into the training Dataset).
    package let sampleIDs: UnsafeBufferPointer<Int>
    /// (B) each sample's cross-entropy loss ℓ_s.
    package let sampleLosses: UnsafeBufferPointer<Float>
    /// (B) 1 when the sample's arg-max prediction equals its label, else 0.
    package let sampleCorrect: UnsafeBufferPointer<UInt8>
    /// (B) ‖g_s‖₂ over all parameters, from the factors:
    /// ‖g_s‖² = Σ_l ‖δ_s,l‖²·(‖a_s,l‖² + 1) (the +1 is the bias).
    package let sampleGradientNorms: UnsafeBufferPointer<Float>
    /// The same as the step's `StepSummary`.
    package let summary: StepSummary
    /// One entry per Dense layer, fc1 first.
    package let layers: [LayerTrace]
    package let layout: ParameterLayout
    /// (P) global parameter vector before and after this step's update.
    package let parametersBefore: UnsafeBufferPointer<Float>
    package let parametersAfter: UnsafeBufferPointer<Float>
    /// (P) Δw as computed; `parametersAfter[w] == parametersBefore[w] + update[w]` in Float.
    package let update: UnsafeBufferPointer<Float>
    /// (P) batch-mean loss gradient (weight decay excluded), global ids.
    package let gradient: UnsafeBufferPointer<Float>
    package let optimizer: OptimizerConfig
    /// Adam's t (1-based) for this step: `step + 1`.
    package var optimizerStep: Int { summary.step + 1 }
    /// The optimizer's per-parameter state after the update: [] for SGD; [velocity] for momentum
    /// and Nesterov; [m, v] for Adam and AdamW.
    package let optimizerState: [UnsafeBufferPointer<Float>]
    /// Precomputed 1/(1−β1^t) and 1/(1−β2^t) (Adam; 1 otherwise).
    package let biasCorrection1: Float
    package let biasCorrection2: Float

    package var learningRate: Float { summary.learningRate }

    /// The optimizer state of parameter `id` after the update: [] (SGD), [velocity] (momentum,
    /// Nesterov), [m, v] (Adam, AdamW).
    /// - Complexity: O(1).
    package func optimizerValues(of id: Int) -> [Float] { optimizerState.map { $0[id] } }

    /// The scale turning g_s[w] into c(s,w,t) (see the type's doc).
    /// - Complexity: O(1).
    package func contributionScale(of id: Int) -> Float {
        let eta = summary.learningRate
        let b = Float(batchSize)
        switch optimizer.kind {
        case .sgd, .momentum:
            return -eta / b
        case .nesterov:
            return -eta * (1 + optimizer.momentum) / b
        case .adam, .adamw:
            let vHat = optimizerState[1][id] * biasCorrection2
            return -eta * (1 - optimizer.beta1) * biasCorrection1 / (b * (vHat.squareRoot() + optimizer.epsilon))
        }
    }

    /// The scale shared by every parameter when it does not depend on the parameter (SGD, momentum,
    /// Nesterov); nil for Adam and AdamW, whose scale depends on each parameter's v̂.
    /// - Complexity: O(1).
    package var uniformContributionScale: Float? {
        switch optimizer.kind {
        case .sgd, .momentum, .nesterov: contributionScale(of: 0)
        case .adam, .adamw: nil
        }
    }

    /// `contributionScale(of:)` for every id in `ids`, in order (for a layer: `layers[l]`'s
    /// weight ids are `weightOffset ..< weightOffset + outFeatures·inFeatures`, row-major).
    /// - Complexity: O(ids.count).
    package func contributionScales(for ids: Range<Int>) -> [Float] {
        if let uniform = uniformContributionScale { return [Float](repeating: uniform, count: ids.count) }
        return ids.map { contributionScale(of: $0) }
    }

    /// c(s, w, t) for batch position `s` and global id `id`.
    /// - Complexity: O(layers).
    package func contribution(sample s: Int, parameter id: Int) -> Float {
        contributionScale(of: id) * sampleGradient(sample: s, parameter: id)
    }

    /// g_s[w]: δ_s[row]·a_s[col] for a weight, δ_s[row] for a bias.
    /// - Complexity: O(layers).
    package func sampleGradient(sample s: Int, parameter id: Int) -> Float {
        switch layout.location(of: id) {
        case let .weight(l, row, column): layers[l].sampleGradient(sample: s, row: row, column: column)
        case let .bias(l, row): layers[l].outputGradients[s * layers[l].outFeatures + row]
        }
    }

    /// The weight-decay pseudo-sample's part of Δw (0 when λ = 0): −ηλw for SGD, momentum and
    /// AdamW; −η(1+μ)λw for Nesterov; `contributionScale·B·λw` for Adam (L2 through the moments).
    /// - Complexity: O(1).
    package func weightDecayPart(of id: Int) -> Float {
        let lambda = optimizer.weightDecay
        if lambda == 0 { return 0 }
        let w = parametersBefore[id]
        let eta = summary.learningRate
        switch optimizer.kind {
        case .sgd, .momentum, .adamw: return -eta * lambda * w
        case .nesterov: return -eta * (1 + optimizer.momentum) * lambda * w
        case .adam: return contributionScale(of: id) * Float(batchSize) * lambda * w
        }
    }

    /// What earlier steps carry into this Δw through momentum or Adam's first moment:
    /// `update − Σ_s c(s,w,t) − weightDecayPart` by definition, computed directly from the state
    /// (−ημ·v_{t−1} for momentum, −ημ²·v_{t−1} for Nesterov, the β1·m_{t−1} term for Adam).
    /// 0 for SGD.
    /// - Complexity: O(1).
    package func carriedPart(of id: Int) -> Float {
        let eta = summary.learningRate
        switch optimizer.kind {
        case .sgd:
            return 0
        case .momentum, .nesterov:
            // v_t = μ v_{t−1} + g'  ⇒  μ v_{t−1} = v_t − g'.
            let gPrime = gradient[id] + optimizer.weightDecay * parametersBefore[id]
            let carried = optimizerState[0][id] - gPrime
            return optimizer.kind == .momentum ? -eta * carried : -eta * optimizer.momentum * carried
        case .adam, .adamw:
            let immediate = contributionScale(of: id) * Float(batchSize) * gradient[id]
            let decay = weightDecayPart(of: id)
            return update[id] - immediate - decay
        }
    }
}
