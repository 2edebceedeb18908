/// Re-executes a segment of a run bit-exactly (the replay module implements it). The executor
/// asks it for a cost first and only replays when the plan chooses replay.
package protocol ReplayProvider: AnyObject {
    /// What replaying `steps` of `run` would cost.
    func cost(run: RunCatalog, steps: ClosedRange<Int>) -> Cost
    /// The exact record of `steps` (1-based, inclusive) of `run`: a `RunData` whose `t1Ids`
    /// include `weights` and whose `t1(step:)` and `batch(step:)` answer exactly for each step in
    /// `steps` (source `replay`).
    func replay(run: any RunData, steps: ClosedRange<Int>, weights: [Int]) throws -> any RunData
    /// Per step of `steps` (1-based, inclusive), the exact fraction of `weights` (nil: all P) whose
    /// batch gradient has |g| > `threshold`, by replay.
    func gradientFractions(run: any RunData, steps: ClosedRange<Int>, threshold: Float, weights: [Int]?) throws -> [Double]
}

extension ReplayProvider {
    /// Default: not offered by this provider.
    /// - Complexity: O(1).
    package func gradientFractions(run: any RunData, steps: ClosedRange<Int>, threshold: Float, weights: [Int]?) throws -> [Double] {
        throw QueryError.invalid(location: nil, message: "this replay provider does not count gradients")
    }
}

/// Chooses among candidate sources: with `WITHIN`, the cheapest whose bound meets the tolerance at
/// the requested confidence; with `EXACT`, the cheapest exact source or replay; with no tolerance,
/// the most accurate recorded source — the smallest bound the executor will state; at equal bounds
/// a source with an estimate before one that bounds |value| only, then by cost — replay only when
/// nothing recorded can answer.
package enum Planner {
    /// Default confidence for probabilistic bounds.
    package static let defaultConfidence = 0.95

    /// Whether a source with `error` and `confidence` meets `accuracy`. `scale` is the expected
    /// magnitude of the answer (for comparing absolute errors with relative tolerances and back);
    /// nil when unknown, and then only an error of 0 meets a tolerance of the other kind.
    /// - Complexity: O(1).
    package static func meets(_ error: ErrorBound, confidence: Double, source: Source,
                              accuracy: Accuracy?, scale: Double?) -> Bool {
        switch accuracy {
        case nil:
            if case .unknown = error { return false }
            return true
        case .exact?:
            guard source == .exact || source == .replay, confidence >= 1 else { return false }
            if case .absolute(let e) = error { return e == 0 }
            if case .relative(let r) = error { return r == 0 }
            return false
        case .within(let tolerance, let requested)?:
            let needed = requested?.fraction ?? defaultConfidence
            guard confidence >= needed else { return false }
            switch (error, tolerance) {
            case (.unknown, _): return false
            case (.absolute(let e), .number(let x)): return e <= x
            case (.relative(let r), .percent(let p)): return r <= p / 100
            case (.absolute(let e), .percent(let p)):
                if e == 0 { return true }
                guard let scale, scale > 0 else { return false }
                return e <= p / 100 * scale
            case (.relative(let r), .number(let x)):
                if r == 0 { return true }
                guard let scale else { return false }
                return r * scale <= x
            }
        }
    }

    /// Fills in `meetsTolerance` and picks one candidate.
    /// - Complexity: O(candidates).
    package static func plan(query: String, accuracy: Accuracy?, candidates: [Candidate], scale: Double?) -> Plan {
        var candidates = candidates
        for i in candidates.indices {
            let c = candidates[i]
            candidates[i].meetsTolerance = meets(c.expectedError, confidence: c.confidence, source: c.source,
                                                 accuracy: accuracy, scale: scale)
        }
        let meeting = candidates.indices.filter { candidates[$0].meetsTolerance }
        var chosen: Int?
        var reason: String
        if accuracy == nil {
            let recorded = meeting.filter { candidates[$0].source != .replay }
            chosen = recorded.min { a, b in
                let (ea, eb) = (magnitude(candidates[a].expectedError, scale), magnitude(candidates[b].expectedError, scale))
                if ea != eb { return ea < eb }
                if candidates[a].boundsMagnitudeOnly != candidates[b].boundsMagnitudeOnly { return !candidates[a].boundsMagnitudeOnly }
                return candidates[a].cost.seconds < candidates[b].cost.seconds
            }
            reason = "no tolerance given: the most accurate recorded source"
            if chosen == nil {
                chosen = meeting.first { candidates[$0].source == .replay }
                reason = "no recorded source can answer; replay is needed"
            }
        } else {
            chosen = meeting.min { a, b in
                if candidates[a].available != candidates[b].available { return candidates[a].available }
                return candidates[a].cost.seconds < candidates[b].cost.seconds
            }
            reason = "cheapest source whose bound meets the tolerance"
            if let c = chosen, candidates[c].source == .replay {
                reason = "no recorded source meets the tolerance; replay is needed"
            }
        }
        if chosen == nil { reason = "no source can answer" }
        return Plan(query: query, accuracy: accuracy, candidates: candidates, chosen: chosen, reason: reason)
    }

    static func magnitude(_ e: ErrorBound, _ scale: Double?) -> Double {
        switch e {
        case .absolute(let x): return x
        case .relative(let r): return r * (scale ?? 1)
        case .unknown: return .infinity
        }
    }

    /// The replay candidate for `steps`: its cost from the provider, or estimated from the run's
    /// step time when no provider is attached.
    /// - Complexity: O(1).
    package static func replayCandidate(run: RunCatalog, steps: ClosedRange<Int>, provider: (any ReplayProvider)?) -> Candidate {
        let cost = provider?.cost(run: run, steps: steps)
            ?? StoreReplayProvider.cost(run: run, steps: steps, dataLoaded: false)
        var candidate = Candidate(source: .replay, detail: "steps \(steps.lowerBound)..\(steps.upperBound)" + (provider == nil ? " (not available yet)" : ""),
                                  expectedError: .absolute(0), confidence: 1, cost: cost, meetsTolerance: false)
        candidate.available = provider != nil
        return candidate
    }
}
