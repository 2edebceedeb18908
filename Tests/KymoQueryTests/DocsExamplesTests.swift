import Foundation
import Testing
@testable import KymoQuery

/// Every ```kymo block of docs/QUERY.md parses, passes the semantic check, and round-trips; every
/// ```text block that starts with `error:` is exactly what the renderer prints for its query.
@Suite struct DocsExamplesTests {
    static func fencedBlocks(language: String) throws -> [String] {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/QUERY.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(language)" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func everyExampleParsesChecksAndRoundTrips() throws {
        let examples = try Self.fencedBlocks(language: "kymo")
        #expect(examples.count >= 25)
        var statements: Set<String> = []
        for example in examples {
            let query: Query
            do {
                query = try Parser.parse(example)
            } catch {
                Issue.record("docs example does not parse:\n\(error.rendered(in: example))")
                continue
            }
            let problems = QueryChecker.problems(in: query, catalog: FakeCatalog(runNames: ["a", "b", "c", "seed-1", "seed-2", "lr-0.5"]))
            #expect(problems.isEmpty, "\(example): \(problems)")
            let printed = QueryPrinter.print(query)
            #expect(try Parser.parse(printed) == query, "\(example) → \(printed)")
            #expect(QueryPrinter.print(try Parser.parse(printed)) == printed)
            statements.insert(String(printed.prefix { $0 != " " }))
        }
        #expect(statements == ["TOP", "BOTTOM", "LAST", "COMPARE", "SELECT"])
    }

    @Test func everyErrorExampleIsWhatTheRendererPrints() throws {
        let blocks = try Self.fencedBlocks(language: "text").filter { $0.hasPrefix("error:") }
        #expect(blocks.count >= 3)
        for block in blocks {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            let source = String(lines[1].dropFirst(2))
            var rendered = "query parsed and checked without error"
            do {
                let query = try Parser.parse(source)
                try QueryChecker.check(query, catalog: FakeCatalog())
            } catch {
                rendered = error.rendered(in: source)
            }
            #expect(rendered == block)
        }
    }
}
