/// How far off a source's answer may be.
package enum ErrorBound: Equatable, Sendable {
    /// `±x` in the answer's units.
    case absolute(Double)
    /// `±x` as a fraction of the value (0.05 = 5 %).
    case relative(Double)
    /// The source cannot say (for instance a sketch that does not cover this weight).
    case unknown

    package var text: String {
        switch self {
        case .absolute(let x): return "±" + NumberFormat.significant(x, digits: 3)
        case .relative(let x): return "±" + NumberFormat.significant(x * 100, digits: 3) + "%"
        case .unknown: return "?"
        }
    }
}

/// What answering from a source would cost.
package struct Cost: Equatable, Sendable {
    package var seconds: Double
    package var bytesRead: Int

    package init(seconds: Double, bytesRead: Int) {
        self.seconds = seconds
        self.bytesRead = bytesRead
    }

    package var text: String { NumberFormat.duration(seconds: seconds) + ", " + NumberFormat.bytes(bytesRead) }
}

/// One source the planner considered.
package struct Candidate: Equatable, Sendable {
    package var source: Source
    /// What it reads, for humans: "T1 weights, epoch 3", "count-min per (sample, neuron), epoch 3".
    package var detail: String
    package var expectedError: ErrorBound
    package var confidence: Double
    package var cost: Cost
    package var meetsTolerance: Bool
    /// True for a source that only bounds |value| (a mass sketch: [0, U] or [−U, U], no estimate):
    /// without a tolerance it ranks below any source with an estimate and an equal or tighter bound.
    package var boundsMagnitudeOnly: Bool
    /// False for replay when no replay provider is attached: listed with its cost, chosen only
    /// when nothing else meets the tolerance (the answer then says replay is needed).
    package var available = true

    package init(source: Source, detail: String = "", expectedError: ErrorBound, confidence: Double = 1,
                 cost: Cost, meetsTolerance: Bool, boundsMagnitudeOnly: Bool = false) {
        self.boundsMagnitudeOnly = boundsMagnitudeOnly
        self.source = source
        self.detail = detail
        self.expectedError = expectedError
        self.confidence = confidence
        self.cost = cost
        self.meetsTolerance = meetsTolerance
    }
}

/// The planner's decision for one query, as `--explain` prints it. Data and rendering only: the
/// planner that fills it in comes with the executor.
package struct Plan: Equatable, Sendable {
    /// The canonical query text.
    package var query: String
    /// The tolerance asked for; nil for the default.
    package var accuracy: Accuracy?
    /// In the order the planner considered them.
    package var candidates: [Candidate]
    /// Index into `candidates` of the source used; nil when none was usable.
    package var chosen: Int?
    /// Why this one ("cheapest source whose bound meets the tolerance").
    package var reason: String

    package init(query: String, accuracy: Accuracy?, candidates: [Candidate], chosen: Int?, reason: String) {
        self.query = query
        self.accuracy = accuracy
        self.candidates = candidates
        self.chosen = chosen
        self.reason = reason
    }

    /// The `--explain` text:
    ///
    ///     query: TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,40] IN EPOCH 3 WITHIN 0.01
    ///     tolerance: ±0.01 absolute
    ///     sources considered:
    ///          source            reads          expected error  confidence  est. cost       meets
    ///       *  sketch:count-min  …              ±0.004          95%         310 µs, 1.2 MiB  yes
    ///     chosen: sketch:count-min (cheapest source whose bound meets the tolerance)
    ///
    /// - Complexity: O(candidates).
    package func explained() -> String {
        var lines = ["query: " + query]
        switch accuracy {
        case nil: lines.append("tolerance: default")
        case .exact?: lines.append("tolerance: EXACT (exact sources or replay)")
        case .within(let tolerance, let confidence)?:
            var text: String
            switch tolerance {
            case .number(let x): text = "±" + NumberFormat.significant(x, digits: 6) + " absolute"
            case .percent(let p): text = "±" + NumberFormat.significant(p, digits: 6) + "% relative"
            }
            if let confidence {
                text += ", confidence " + NumberFormat.significant(confidence.fraction * 100, digits: 6) + "%"
            }
            lines.append("tolerance: " + text)
        }
        lines.append("sources considered:")
        var table = TextTable(header: ["", "source", "reads", "expected error", "confidence", "est. cost", "meets"],
                              rightAligned: [false, false, false, true, true, true, false], indent: "  ")
        for (i, c) in candidates.enumerated() {
            table.rows.append([i == chosen ? "*" : "", c.source.description, c.detail, c.expectedError.text,
                               NumberFormat.significant(c.confidence * 100, digits: 4) + "%", c.cost.text,
                               c.meetsTolerance ? "yes" : "no"])
        }
        lines.append(candidates.isEmpty ? "  (none)" : table.rendered())
        if let chosen, candidates.indices.contains(chosen) {
            lines.append("chosen: \(candidates[chosen].source) (\(reason))")
        } else {
            lines.append("chosen: none (\(reason))")
        }
        return lines.joined(separator: "\n")
    }
}
