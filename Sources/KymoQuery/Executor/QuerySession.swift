import KymoCore
#if canImport(Glibc)
import Glibc
#endif
import KymoEngine
import KymoStore

/// What `kymo query` does, as a library: open a lab's runs at their last commit, parse, check,
/// plan and execute a query, render the answer; re-run it as commits arrive.
package final class QuerySession {
    package enum Format: String, Sendable { case table, json, csv }

    package let lab: Lab
    package let runs: RunSet
    /// Replay for answers no recorded source gives (`EXACT`, a tight `WITHIN`): a
    /// `StoreReplayProvider` over the lab by default.
    package var replay: (any ReplayProvider)?

    /// Opens every run of `labPath` (a snapshot at each one's last commit); `defaultRun` is the run
    /// a query without `FROM` is about (default: the last run by name).
    /// - Throws: `StoreError` for a missing lab, `QueryError.unknownRun` for an unknown run.
    /// - Complexity: O(runs · index size).
    package init(labPath: String, defaultRun: String?) throws {
        ProcessMemory.keepFreedBlocks()
        lab = try Lab(existing: labPath)
        let names = try lab.runNames()
        var list: [(name: String, data: any RunData)] = []
        for name in names { list.append((name, try StoreRunData(reader: try lab.openRun(name)))) }
        if let defaultRun, !names.contains(defaultRun) {
            throw QueryError.unknownRun(name: defaultRun, location: nil, suggestion: closestMatch(to: defaultRun, among: names))
        }
        runs = RunSet(runs: list, defaultRun: defaultRun)
        replay = StoreReplayProvider(lab: lab)
    }

    /// Parses and answers `text`; the rendered answer, preceded by the plans when `explain`.
    /// - Throws: `QueryError` (render it with `rendered(in: text)`), data errors.
    /// - Complexity: that of the query (see `Executor`).
    /// - Parameter exact: as if the query said `EXACT` (the CLI's `--exact`).
    package func answer(_ text: String, format: Format, explain: Bool, exact: Bool = false) throws -> String {
        var query = try Parser.parse(text)
        if exact { query.clauses.accuracy = .exact }
        let execution = try Executor(runs: runs, replay: replay).execute(query)
        var out = ""
        if explain { out += execution.plans.map { $0.explained() }.joined(separator: "\n\n") + "\n\n" }
        switch format {
        case .table: out += AnswerRenderer.table(execution.answer)
        case .json: out += AnswerRenderer.json(execution.answer)
        case .csv: out += AnswerRenderer.csv(execution.answer)
        }
        return out
    }

    /// Looks for new commits in every run; true when any grew.
    /// - Complexity: O(runs) plus what each refresh reads.
    package func refresh() throws -> Bool {
        var grew = false
        for run in runs.runs { if try run.data.refresh() { grew = true } }
        return grew
    }

    /// True when every run has finished (no more commits will come).
    package var allFinished: Bool { runs.runs.allSatisfy { $0.data.catalog.isFinished } }

    /// Writes two small demo runs ("a", seed 1; "b", seed 2: 64-16-10 on the embedded digits,
    /// momentum SGD, 3 epochs) recorded with every tier, for trying `kymo query` and for the query
    /// benchmark until `kymo record` lands.
    /// - Complexity: a few seconds.
    package static func writeDemoLab(at path: String, epochs: Int = 3) throws {
        let lab = try Lab(path: path)
        let data = try DataSource(parsing: "digits").load(seed: 1)
        let (train, probe) = data.split(probeFraction: 0.1, seed: 1)
        for (name, seed) in [("a", UInt64(1)), ("b", UInt64(2))] {
            let config = TrainingConfig(data: "digits", model: try ModelSpec(widths: [64, 16, 10]),
                                        optimizer: OptimizerConfig(kind: .momentum, learningRate: 0.05),
                                        batchSize: 32, epochs: epochs, seed: seed)
            var options = ExactRunData.Options()
            options.trajectoryQuantum = 1e-4
            options.sampleTarget = 300
            try ExactRunData(name: name, config: config, training: train, probe: probe, options: options).write(to: lab, name: name)
        }
    }
}
