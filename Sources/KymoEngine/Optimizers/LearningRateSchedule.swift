/// A learning-rate multiplier as a function of the 0-based step index, evaluated in Double with
/// deterministic arithmetic (`DeterministicMath.cos`), then rounded once: `η_t = Float(η · f(t))`.
///
/// Text forms (CLI `--schedule`, config `"schedule"`):
/// `constant`; `step:EVERY:GAMMA` (×GAMMA every EVERY steps); `cosine` or `cosine:MIN` (from 1 down
/// to MIN, default 0, over all steps of the run); `warmup:N` (linear from 1/N to 1 over N steps,
/// then constant) or `warmup:N+cosine…` / `warmup:N+step:…` (warm-up, then the other schedule,
/// whose own clock starts after warm-up).
package indirect enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant
    case step(every: Int, gamma: Double)
    case cosine(minimum: Double)
    case warmup(steps: Int, then: LearningRateSchedule)

    /// - Throws: `EngineError.invalidSpec` naming the part that does not parse.
    /// - Complexity: O(length of text).
    package init(parsing text: String) throws(EngineError) {
        let trimmed = text.lowercased()
        if trimmed.hasPrefix("warmup:") {
            let body = trimmed.dropFirst("warmup:".count)
            let parts = body.split(separator: "+", maxSplits: 1)
            guard let first = parts.first, let n = Int(first), n > 0 else {
                throw .invalidSpec("schedule '\(text)': warm-up needs a positive step count (warmup:N[+SCHEDULE])")
            }
            let inner = parts.count == 2 ? try LearningRateSchedule(parsing: String(parts[1])) : .constant
            self = .warmup(steps: n, then: inner)
            return
        }
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "constant" where parts.count == 1:
            self = .constant
        case "step":
            guard parts.count == 3, let every = Int(parts[1]), every > 0,
                  let gamma = Double(parts[2]), gamma > 0, gamma.isFinite else {
                throw .invalidSpec("schedule '\(text)': expected step:EVERY:GAMMA with EVERY > 0 and GAMMA > 0")
            }
            self = .step(every: every, gamma: gamma)
        case "cosine":
            if parts.count == 1 { self = .cosine(minimum: 0); return }
            guard parts.count == 2, let minimum = Double(parts[1]), minimum >= 0, minimum <= 1 else {
                throw .invalidSpec("schedule '\(text)': expected cosine or cosine:MIN with MIN in [0, 1]")
            }
            self = .cosine(minimum: minimum)
        default:
            throw .invalidSpec("unknown schedule '\(text)' (constant, step:EVERY:GAMMA, cosine[:MIN], warmup:N[+SCHEDULE])")
        }
    }

    /// The text form `init(parsing:)` reads.
    package var text: String {
        switch self {
        case .constant: "constant"
        case let .step(every, gamma): "step:\(every):\(gamma)"
        case let .cosine(minimum): minimum == 0 ? "cosine" : "cosine:\(minimum)"
        case let .warmup(steps, then): then == .constant ? "warmup:\(steps)" : "warmup:\(steps)+\(then.text)"
        }
    }

    /// The multiplier f(t) at 0-based step `step` of a run of `totalSteps` steps.
    /// - Complexity: O(log step) (step decay uses exponentiation by squaring).
    package func factor(step: Int, totalSteps: Int) -> Double {
        switch self {
        case .constant:
            return 1
        case let .step(every, gamma):
            return DeterministicMath.power(gamma, step / every)
        case let .cosine(minimum):
            let span = max(totalSteps - 1, 1)
            let progress = Double(min(step, span)) / Double(span)
            return minimum + (1 - minimum) * 0.5 * (1 + DeterministicMath.cos(Double.pi * progress))
        case let .warmup(steps, then):
            if step < steps { return Double(step + 1) / Double(steps) }
            return then.factor(step: step - steps, totalSteps: max(totalSteps - steps, 1))
        }
    }

    /// `Float(base · f(t))`.
    /// - Complexity: as `factor`.
    package func rate(base: Float, step: Int, totalSteps: Int) -> Float {
        Float(Double(base) * factor(step: step, totalSteps: totalSteps))
    }

    // Codable as its text form, so config files read naturally: "schedule": "warmup:100+cosine".
    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try LearningRateSchedule(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}
