import ArgumentParser
import KymoStore

extension ExportFormat: ExpressibleByArgument {}

/// `kymo export LAB RUN COLUMN --format npy|npz|csv|jsonl --out FILE`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a column as .npy, .npz, CSV or JSON Lines (same store, same bytes).")

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "The run.") var runName: String
    @Argument(help: "The column, e.g. t0/loss.") var column: String
    @Option(help: "npy, npz, csv or jsonl.") var format: ExportFormat
    @Option(help: "The output file.") var out: String

    func run() throws {
        let reader = try Lab(existing: lab).openRun(runName)
        try Exporter.export(reader, column: column, format: format, to: out)
    }
}
