/// Where a value came from (DESIGN.md, "Answers carry their error").
package enum Source: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// T0 run log or T1 sampled weights: exact up to float rounding.
    case exact
    /// T3 factored per-sample gradients: exact to float16.
    case factored
    /// A T2 sketch; `kind` names it as written in answers: `count-min`, `space-saving`, `kll`, …
    case sketch(String)
    /// T2 quantized trajectories: `|ŵ − w| ≤ q/2` at every recorded step.
    case trajectory
    /// Re-executed from a checkpoint: exact.
    case replay

    /// `exact`, `factored`, `sketch:<kind>`, `trajectory`, `replay`.
    package var description: String {
        switch self {
        case .exact: return "exact"
        case .factored: return "factored"
        case .sketch(let kind): return "sketch:\(kind)"
        case .trajectory: return "trajectory"
        case .replay: return "replay"
        }
    }
}

/// One numeric answer with its error: the truth lies in `[lower, upper]` with probability at least
/// `confidence` (1 when the bound is deterministic).
package struct Estimate: Equatable, Sendable {
    package var value: Double
    package var lower: Double
    package var upper: Double
    package var confidence: Double
    package var source: Source

    package init(value: Double, lower: Double, upper: Double, confidence: Double = 1, source: Source) {
        self.value = value
        self.lower = lower
        self.upper = upper
        self.confidence = confidence
        self.source = source
    }

    /// A value known exactly: both bounds equal it, confidence 1.
    /// - Complexity: O(1).
    package static func exact(_ value: Double, source: Source = .exact) -> Estimate {
        Estimate(value: value, lower: value, upper: value, confidence: 1, source: source)
    }

    /// Half the width of the interval.
    package var halfWidth: Double { (upper - lower) / 2 }

    /// True when `truth` lies inside the bounds (what coverage tests count).
    /// - Complexity: O(1).
    package func covers(_ truth: Double) -> Bool { lower <= truth && truth <= upper }
}
