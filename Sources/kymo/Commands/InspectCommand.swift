import ArgumentParser
import KymoStore

/// `kymo inspect LAB [RUN]`: runs, committed steps, sizes per tier and column, compression.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a lab's runs: steps committed, size per tier and column, compression ratios.")

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "One run (default: every run).") var runName: String?

    func run() throws {
        let lab = try Lab(existing: lab)
        let names = try runName.map { [$0] } ?? lab.runNames()
        for name in names {
            print(try StoreInspection.describe(lab.openRun(name)))
        }
    }
}
