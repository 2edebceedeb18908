/// Which update rule the trainer applies.
package enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// `Δw = −η (g + λw)`.
    case sgd
    /// Heavy ball: `v ← μv + (g + λw)`, `Δw = −η v`.
    case momentum
    /// Nesterov: `v ← μv + (g + λw)`, `Δw = −η (g + λw + μ v)`.
    case nesterov
    /// Adam with L2 weight decay folded into the gradient: `g' = g + λw`,
    /// `m ← β1 m + (1−β1) g'`, `v ← β2 v + (1−β2) g'²`, `Δw = −η m̂ / (√v̂ + ε)`,
    /// `m̂ = m / (1−β1^t)`, `v̂ = v / (1−β2^t)`, t = 1, 2, ….
    case adam
    /// AdamW: Adam on g alone, plus decoupled decay: `Δw = −η (m̂ / (√v̂ + ε) + λw)`.
    case adamw

    /// Number of per-parameter state vectors (momentum buffer; Adam's m and v).
    package var slotCount: Int {
        switch self {
        case .sgd: 0
        case .momentum, .nesterov: 1
        case .adam, .adamw: 2
        }
    }
}

/// The optimizer and its hyper-parameters. Unused ones are ignored (momentum for Adam, betas for SGD).
package struct OptimizerConfig: Codable, Sendable, Equatable {
    package var kind: OptimizerKind = .sgd
    /// Base learning rate η (the schedule multiplies it).
    package var learningRate: Float = 0.05
    /// μ for momentum and Nesterov.
    package var momentum: Float = 0.9
    package var beta1: Float = 0.9
    package var beta2: Float = 0.999
    package var epsilon: Float = 1e-8
    /// λ; applies to weights and biases alike.
    package var weightDecay: Float = 0

    package init(kind: OptimizerKind = .sgd, learningRate: Float = 0.05, momentum: Float = 0.9,
                 beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OptimizerConfig()
        kind = try c.decodeIfPresent(OptimizerKind.self, forKey: .kind) ?? d.kind
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? d.momentum
        beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1) ?? d.beta1
        beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2) ?? d.beta2
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? d.epsilon
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
    }

    /// - Throws: `EngineError.invalidSpec` for a non-positive or non-finite learning rate,
    ///   momentum or betas outside [0, 1), negative epsilon or weight decay.
    /// - Complexity: O(1).
    package func validate() throws(EngineError) {
        guard learningRate.isFinite, learningRate > 0 else { throw .invalidSpec("learning rate must be positive, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw .invalidSpec("momentum must be in [0, 1), got \(momentum)") }
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else { throw .invalidSpec("Adam betas must be in [0, 1), got \(beta1), \(beta2)") }
        guard epsilon >= 0, epsilon.isFinite else { throw .invalidSpec("epsilon must be ≥ 0, got \(epsilon)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw .invalidSpec("weight decay must be ≥ 0, got \(weightDecay)") }
    }
}
