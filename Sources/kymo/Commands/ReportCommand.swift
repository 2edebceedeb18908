import ArgumentParser
import Foundation
import KymoReport

/// `kymo report LAB RUN [--compare RUN2] --out report.html [--format html|md]`.
struct ReportCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument { case html, md }

    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML (or Markdown) report of a run: curves, what was recorded, error bounds checked on the exact tier, weight trajectories.")

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "The run.") var runName: String
    @Option(help: "A second run to compare side by side.") var compare: String?
    @Option(help: "Output file.") var out: String
    @Option(help: "html (default) or md.") var format: Format?
    @Option(name: .customLong("most-changed"), help: "Weight trajectories to draw (default 6).") var mostChanged: Int = 6

    func run() throws {
        let source = try RunReportSource(labPath: lab, run: runName)
        let other = try compare.map { try RunReportSource(labPath: lab, run: $0) }
        let model = try RunReport.build(source, compare: other, mostChanged: mostChanged)
        let chosen = format ?? (out.hasSuffix(".md") ? .md : .html)
        let text = chosen == .md ? model.markdown() : model.html()
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        print("wrote \(out) (\(text.utf8.count) bytes)")
        for line in RunReport.coverageSummary(model) { print(line) }
    }
}
