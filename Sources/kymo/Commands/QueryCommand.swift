import ArgumentParser
import Foundation
import KymoQuery

/// `kymo query LAB [RUN] 'QUERY'`: answers a query with error bounds, live while a run records.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Answer a query (docs/QUERY.md) about a lab's runs; every value with bounds and its source.",
        discussion: """
        Opens each run at its last commit. --follow re-runs the query at every new commit until \
        every run has finished (or Ctrl-C). --explain prints the plan: the sources considered, \
        their expected error and cost, and the one chosen.
        """)

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "[RUN] QUERY: the default run (else the last by name), then the query text.") var words: [String] = []
    @Flag(help: "Print the answer as JSON.") var json = false
    @Flag(help: "Print the answer as CSV.") var csv = false
    @Flag(help: "Print the plan before the answer.") var explain = false
    @Flag(help: "Answer exactly, as if the query said EXACT (exact tiers or a bit-exact replay).") var exact = false
    @Flag(help: "Re-run at each new commit until the runs finish.") var follow = false
    @Option(help: "Seconds between polls with --follow.") var interval: Double = 1
    @Flag(help: .hidden) var writeDemoLab = false

    func validate() throws {
        if writeDemoLab { return }
        guard (1...2).contains(words.count) else { throw ValidationError("expected [RUN] 'QUERY' after the lab") }
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
    }

    func run() throws {
        if writeDemoLab { return try QuerySession.writeDemoLab(at: lab) }
        let text = words.last!
        do {
            let session = try QuerySession(labPath: lab, defaultRun: words.count == 2 ? words[0] : nil)
            let format: QuerySession.Format = json ? .json : csv ? .csv : .table
            print(try session.answer(text, format: format, explain: explain, exact: exact))
            while follow && !session.allFinished {
                Thread.sleep(forTimeInterval: interval)
                if try session.refresh() { print(try session.answer(text, format: format, explain: explain, exact: exact)) }
            }
        } catch let error as QueryError {
            FileHandle.standardError.write(Data((error.rendered(in: text) + "\n").utf8))
            throw ExitCode.failure
        }
    }
}
