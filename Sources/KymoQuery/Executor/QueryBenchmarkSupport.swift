/// The query engine as the separate Benchmarks package sees it (it cannot use `package` API):
/// the five study questions as query text, a demo lab, and a session that answers.
public enum QueryBenchmarkSupport {
    /// The five study questions (docs/QUERY.md), with weight names valid both for the demo lab
    /// (64-16-10) and the seed-scale model (784-512-256-10). Runs "a" and "b" must exist.
    public static let questions: [(name: String, query: String)] = [
        ("Q1 top samples for a weight in an epoch", "TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[3,20] IN EPOCH 2"),
        ("Q2 top weights by sum |dw|, by neuron", "TOP 20 WEIGHTS BY SUM ABS DELTA GROUP BY NEURON"),
        ("Q3 compare two runs at a step", "COMPARE RUNS a, b AT STEP 100 SHOW LOSS, PROBE ACCURACY, WEIGHT DISTANCE"),
        ("Q4 last samples before |g| > T exceeds P", "LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT > 2e-3 EXCEEDS 10%"),
        ("Q5 samples that drove a weight to zero", "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ZERO"),
    ]

    /// Writes the demo lab (runs "a" and "b"; see `QuerySession.writeDemoLab`).
    /// - Complexity: a few seconds.
    public static func writeDemoLab(at path: String) throws { try QuerySession.writeDemoLab(at: path) }
}

/// An open lab answering queries as `kymo query` does (table output).
public final class QueryBenchmarkSession {
    let session: QuerySession

    /// - Complexity: O(runs · index size).
    public init(lab: String, defaultRun: String = "a") throws {
        session = try QuerySession(labPath: lab, defaultRun: defaultRun)
    }

    /// The rendered answer.
    /// - Complexity: that of the query.
    public func answer(_ query: String) throws -> String { try session.answer(query, format: .table, explain: false) }
}
