#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The contribution definitions of docs/ATTRIBUTION.md for one weight at one step, as pure
/// functions of the optimizer's hyper-parameters and state. The recorder uses them for T1 and
/// for the scale of the factor-based sketches; tests check the identity
/// `Σ_s immediate(s) + carried + regularization = Δw`.
///
/// Notation: `g_s` is the gradient of sample s's own loss (not divided by B); the batch gradient
/// is `g = (1/B)·Σ_s g_s`; η_t the step's learning rate; λ the weight-decay coefficient;
/// `w` the weight before the step.
package enum ContributionRule: Equatable, Sendable {
    /// Plain SGD with coupled L2 weight decay: `Δw = −η(g + λw)`.
    case sgd(weightDecay: Float)
    /// SGD with (heavy-ball, PyTorch-style) momentum: `v_t = μ·v_{t−1} + g + λw`, `Δw = −η·v_t`.
    case momentum(momentum: Float, weightDecay: Float)
    /// Nesterov momentum (PyTorch): `v_t = μ·v_{t−1} + ĝ`, `Δw = −η·(ĝ + μ·v_t)`, `ĝ = g + λw`,
    /// i.e. `Δw = −η(1+μ)·ĝ − ημ²·v_{t−1}`.
    case nesterov(momentum: Float, weightDecay: Float)
    /// Adam (L2 decay coupled into g) or AdamW (decay decoupled): first moment
    /// `m_t = β1·m_{t−1} + (1−β1)·g`, preconditioner `P_t = 1/(√v̂_t + ε)` held fixed.
    case adam(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool)

    /// The per-parameter contribution scale k such that sample s's immediate contribution is
    /// `k·g_s[w] = k·δ_s[row]·a_s[col]`.
    /// - SGD, momentum: `k = −η/B`; Nesterov: `k = −η(1+μ)/B`.
    /// - Adam/AdamW: `k = −η·(1−β1)/(1−β1^t) / (B·(√v̂_t + ε))`, with `v̂_t = v_t/(1−β2^t)`
    ///   the step's second moment *after* its update (the preconditioner the step applied).
    /// - Parameters:
    ///   - step: t, counted from 1 (Adam's bias correction).
    ///   - secondMoment: v_t after the step's update (ignored for SGD and momentum).
    /// - Complexity: O(1).
    package func scale(learningRate: Float, batchSize: Int, step: Int, secondMoment: Float = 0) -> Float {
        let b = Float(batchSize)
        switch self {
        case .sgd, .momentum:
            return -learningRate / b
        case let .nesterov(mu, _):
            return -learningRate * (1 + mu) / b
        case let .adam(beta1, beta2, epsilon, _, _):
            let t = Float(step)
            let c1 = 1 - powf(beta1, t)
            let c2 = 1 - powf(beta2, t)
            let vHat = secondMoment / c2
            return -learningRate * (1 - beta1) / c1 / (b * (vHat.squareRoot() + epsilon))
        }
    }

    /// The weight-decay pseudo-sample's contribution at this step.
    /// - SGD, momentum: `−η·λ·w` (momentum: what decay adds to v_t lands like a sample's
    ///   gradient; its carried part is in `carried`). Nesterov: `−η(1+μ)·λ·w`.
    /// - Adam (coupled): `−η·(1−β1)/(1−β1^t)·λw·P_t`; AdamW (decoupled): `−η·λ·w`.
    /// - Complexity: O(1).
    package func regularization(learningRate: Float, weight: Float, step: Int, secondMoment: Float = 0) -> Float {
        switch self {
        case let .sgd(lambda), let .momentum(_, lambda):
            return -learningRate * lambda * weight
        case let .nesterov(mu, lambda):
            return -learningRate * (1 + mu) * lambda * weight
        case let .adam(_, _, _, lambda, decoupled):
            if decoupled { return -learningRate * lambda * weight }
            return scale(learningRate: learningRate, batchSize: 1, step: step, secondMoment: secondMoment) * lambda * weight
        }
    }

    /// The part of Δw that earlier steps' optimizer state carries into this step, attributed to
    /// this step (docs/ATTRIBUTION.md: "carried momentum lands where it lands").
    /// - SGD: 0. Momentum: `−η·μ·v_{t−1}`. Nesterov: `−η·μ²·v_{t−1}`. Adam/AdamW: `−η·β1·m_{t−1}/(1−β1^t)·P_t`.
    /// - Parameters:
    ///   - state: v_{t−1} (momentum) or m_{t−1} (Adam), before the step.
    /// - Complexity: O(1).
    package func carried(learningRate: Float, state: Float, step: Int, secondMoment: Float = 0) -> Float {
        switch self {
        case .sgd:
            return 0
        case let .momentum(mu, _):
            return -learningRate * mu * state
        case let .nesterov(mu, _):
            return -learningRate * mu * mu * state
        case let .adam(beta1, beta2, epsilon, _, _):
            let t = Float(step)
            let c1 = 1 - powf(beta1, t)
            let c2 = 1 - powf(beta2, t)
            let vHat = secondMoment / c2
            return -learningRate * beta1 * state / c1 / (vHat.squareRoot() + epsilon)
        }
    }

    /// The decay factor with which a contribution made at step τ is carried into step t ≥ τ, per
    /// unit of immediate contribution at τ, when the learning rate and preconditioner are those of
    /// step t (constant η): momentum `μ^(t−τ)`, Nesterov `μ^(t−τ+1)/(1+μ)` for t > τ, Adam
    /// `β1^(t−τ)·…` (see docs/ATTRIBUTION.md); SGD 0 for t > τ. This is the "decay factor" stored
    /// beside carried contributions.
    /// - Complexity: O(1).
    package func decay(stepsLater: Int) -> Float {
        switch self {
        case .sgd: stepsLater == 0 ? 1 : 0
        case let .momentum(mu, _): powf(mu, Float(stepsLater))
        case let .nesterov(mu, _): stepsLater == 0 ? 1 : powf(mu, Float(stepsLater + 1)) / (1 + mu)
        case let .adam(beta1, _, _, _, _): powf(beta1, Float(stepsLater))
        }
    }
}
