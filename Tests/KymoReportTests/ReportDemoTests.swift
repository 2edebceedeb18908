import Foundation
import Testing
import KymoTestSupport
@testable import KymoReport

@Suite struct ReportDemoTests {
    /// Builds the demo report, writes it as HTML and Markdown, and checks it is self-contained.
    /// With `KYMO_REPORT_DEMO_DIR` set (scripts/render-check does), also writes the files there.
    @Test func demoReportWritesSelfContainedFiles() throws {
        let model = ReportDemo.model()
        let html = model.html()
        let markdown = model.markdown()
        let directory = try TemporaryDirectory()
        try html.write(toFile: directory.file("report.html"), atomically: true, encoding: .utf8)
        try markdown.write(toFile: directory.file("report.md"), atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: directory.file("report.html"), encoding: .utf8) == html)
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") || !html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        #expect(!html.contains("https://"))
        #expect(!html.contains("nan") && !html.contains("NaN"))
        for section in model.sections {
            #expect(html.contains("id=\"\(section.anchor)\""))
            #expect(markdown.contains("## " + Escape.markdown(section.heading)))
        }
        if let out = ProcessInfo.processInfo.environment["KYMO_REPORT_DEMO_DIR"], !out.isEmpty {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try html.write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
            try markdown.write(toFile: out + "/report.md", atomically: true, encoding: .utf8)
        }
    }

    @Test func demoIsDeterministic() {
        #expect(ReportDemo.model(seed: 3).html() == ReportDemo.model(seed: 3).html())
        #expect(ReportDemo.model(seed: 3).markdown() == ReportDemo.model(seed: 3).markdown())
        #expect(ReportDemo.model(seed: 3).html() != ReportDemo.model(seed: 4).html())
    }
}
