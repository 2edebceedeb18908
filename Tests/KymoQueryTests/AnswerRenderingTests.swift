import Foundation
import KymoCore
import Testing
@testable import KymoQuery

@Suite struct AnswerRenderingTests {
    /// The answer shown in docs/QUERY.md.
    static let example = Answer(
        query: "TOP 2 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ZERO",
        columns: [Column("sample", .integer), Column("label", .integer), Column("contribution", .estimate)],
        rows: [
            [.integer(4211), .integer(7), .estimate(.exact(-0.00123456))],
            [.integer(977), .integer(1), .estimate(Estimate(value: 0.000875, lower: 0.00081, upper: 0.00094,
                                                           confidence: 0.95, source: .sketch("count-min")))],
        ],
        notes: ["crossing at step 1234"])

    static let table = """
        sample  label  contribution  [lo, hi]                source
        ------  -----  ------------  ----------------------  ---------------------
          4211      7     -0.001235  [-0.001235, -0.001235]  exact
           977      1      0.000875  [0.00081, 0.00094]      sketch:count-min @95%
        note: crossing at step 1234
        """

    static let json = """
        {
          "query": "TOP 2 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ZERO",
          "columns": [{"name": "sample", "type": "integer"}, {"name": "label", "type": "integer"}, {"name": "contribution", "type": "estimate"}],
          "rows": [
            {"sample": 4211, "label": 7, "contribution": {"value": -0.00123456, "lower": -0.00123456, "upper": -0.00123456, "confidence": 1, "source": "exact"}},
            {"sample": 977, "label": 1, "contribution": {"value": 0.000875, "lower": 0.00081, "upper": 0.00094, "confidence": 0.95, "source": "sketch:count-min"}}
          ],
          "notes": ["crossing at step 1234"]
        }
        """

    static let csv = """
        sample,label,contribution,contribution_lower,contribution_upper,contribution_confidence,contribution_source
        4211,7,-0.00123456,-0.00123456,-0.00123456,1,exact
        977,1,0.000875,0.00081,0.00094,0.95,sketch:count-min

        """

    @Test func goldenTable() { #expect(AnswerRenderer.table(Self.example) == Self.table) }
    @Test func goldenJSON() { #expect(AnswerRenderer.json(Self.example) == Self.json) }
    @Test func goldenCSV() { #expect(AnswerRenderer.csv(Self.example) == Self.csv) }

    @Test func jsonIsValidAndCSVIsRectangular() throws {
        let answer = Answer(
            query: "SELECT \"x\"",
            columns: [Column("run", .text), Column("step", .integer), Column("loss", .estimate)],
            rows: [[.text("a\\b\n\u{7}é"), .integer(-3), .estimate(.exact(1e-300))], [.missing, .missing, .missing]],
            notes: ["tab\t"])
        let object = try JSONSerialization.jsonObject(with: Data(AnswerRenderer.json(answer).utf8)) as? [String: Any]
        let rows = object?["rows"] as? [[String: Any]]
        #expect(rows?.first?["run"] as? String == "a\\b\n\u{7}é")
        #expect(((rows?.first?["loss"] as? [String: Any])?["value"] as? Double) == 1e-300)
        #expect(object?["query"] as? String == "SELECT \"x\"")
        let lines = AnswerRenderer.csv(Self.example).split(separator: "\n")
        #expect(Set(lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).count }) == [7])
    }

    @Test func docsShowTheseRenderings() throws {
        let blocks = try DocsExamplesTests.fencedBlocks(language: "text")
        #expect(blocks.contains(Self.table))
        #expect(blocks.contains(Self.json))
        #expect(blocks.contains(String(Self.csv.dropLast())))
    }

    @Test func awkwardCells() {
        let answer = Answer(
            columns: [Column("run", .text), Column("loss", .estimate)],
            rows: [
                [.text("a,\"b\""), .missing],
                [.text("tab\there\u{1}"), .estimate(Estimate(value: .infinity, lower: -.infinity, upper: .nan,
                                                             source: .replay))],
                [.text("short")],
            ])
        #expect(AnswerRenderer.csv(answer) == [
            "run,loss,loss_lower,loss_upper,loss_confidence,loss_source",
            "\"a,\"\"b\"\"\",,,,,",
            "tab\there\u{1},inf,-inf,nan,1,replay",
            "short,,,,,",
        ].joined(separator: "\n") + "\n")
        #expect(AnswerRenderer.json(answer) == """
            {
              "columns": [{"name": "run", "type": "text"}, {"name": "loss", "type": "estimate"}],
              "rows": [
                {"run": "a,\\"b\\"", "loss": null},
                {"run": "tab\\there\\u0001", "loss": {"value": null, "lower": null, "upper": null, "confidence": 1, "source": "replay"}},
                {"run": "short", "loss": null}
              ],
              "notes": []
            }
            """)
        #expect(AnswerRenderer.table(Answer(columns: [Column("step", .integer)])) == """
            step
            ----
            (no rows)
            """)
    }

    @Test func explainText() throws {
        let plan = Plan(
            query: "TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,40] IN EPOCH 3 WITHIN 0.01",
            accuracy: .within(.number(0.01), confidence: nil),
            candidates: [
                Candidate(source: .exact, detail: "T1: weight not sampled", expectedError: .unknown,
                          cost: Cost(seconds: 0, bytesRead: 0), meetsTolerance: false),
                Candidate(source: .sketch("count-min"), detail: "epoch 3, neuron 12",
                          expectedError: .absolute(0.0042), confidence: 0.95,
                          cost: Cost(seconds: 0.00031, bytesRead: 1_258_291), meetsTolerance: true),
                Candidate(source: .replay, detail: "steps 3127..4690", expectedError: .absolute(0),
                          cost: Cost(seconds: 7.3, bytesRead: 2_300_000_000), meetsTolerance: true),
            ],
            chosen: 1, reason: "cheapest source whose bound meets the tolerance")
        #expect(try DocsExamplesTests.fencedBlocks(language: "text").contains(plan.explained()))
        #expect(plan.explained() == """
            query: TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,40] IN EPOCH 3 WITHIN 0.01
            tolerance: ±0.01 absolute
            sources considered:
                 source            reads                   expected error  confidence        est. cost  meets
                 ----------------  ----------------------  --------------  ----------  ---------------  -----
                 exact             T1: weight not sampled               ?        100%        0 µs, 0 B  no
              *  sketch:count-min  epoch 3, neuron 12             ±0.0042         95%  310 µs, 1.2 MiB  yes
                 replay            steps 3127..4690                    ±0        100%  7.3 s, 2.14 GiB  yes
            chosen: sketch:count-min (cheapest source whose bound meets the tolerance)
            """)
    }

    @Test func significantDigits() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (-1.5, "-1.5"), (123456, "123500"), (1234567, "1235000"), (12345678, "1.235e+07"),
            (0.001234567, "0.001235"), (0.0001, "0.0001"), (0.00001234, "1.234e-05"), (9.9999, "10"),
            (99999.5, "100000"), (0.1 + 0.2, "0.3"), (2.5e-300, "2.5e-300"), (.infinity, "inf"), (.nan, "nan"),
            (-0.000999951, "-0.001"),
        ]
        for (x, text) in cases { #expect(NumberFormat.significant(x) == text, "\(x)") }
        #expect(NumberFormat.full(0.1 + 0.2) == "0.30000000000000004")
        #expect(NumberFormat.full(3) == "3")
        #expect(NumberFormat.bytes(1023) == "1023 B")
        #expect(NumberFormat.duration(seconds: 300) == "5 min")
    }

    @Test func significantDigitsStayWithinHalfAUnitOfTheLastDigit() {
        var rng = CounterRNG(key: 4)
        for _ in 0..<20_000 {
            let magnitude = Double(Int(rng.next(below: 40))) - 20
            var x = rng.nextDouble() * 10
            for _ in 0..<Int(abs(magnitude)) { x = magnitude < 0 ? x / 10 : x * 10 }
            if rng.next(below: 2) == 0 { x = -x }
            let digits = 1 + Int(rng.next(below: 8))
            let text = NumberFormat.significant(x, digits: digits)
            guard let back = Double(text) else {
                Issue.record("\(x) → \(text) does not parse")
                continue
            }
            let unit = x == 0 ? 0 : pow10(floorLog10(abs(x)) - digits + 1)
            #expect(abs(back - x) <= unit / 2 * (1 + 1e-9), "\(x) → \(text)")
        }
    }

    /// The exponent e with 10^e ≤ x < 10^(e+1), from the decimal form (no libm rounding doubts).
    private func floorLog10(_ x: Double) -> Int {
        let text = NumberFormat.significant(x, digits: 17)
        if let e = text.firstIndex(of: "e") { return Int(text[text.index(after: e)...])! }
        if let dot = text.firstIndex(of: "."), text.hasPrefix("0.") {
            return -(text[text.index(after: dot)...].prefix { $0 == "0" }.count + 1)
        }
        return (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count) - 1
    }

    private func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }

    @Test func estimates() {
        let e = Estimate(value: 1, lower: 0.5, upper: 2, confidence: 0.9, source: .trajectory)
        #expect(e.covers(0.5) && e.covers(2) && !e.covers(2.01))
        #expect(e.halfWidth == 0.75)
        #expect([Source.exact, .factored, .sketch("kll"), .trajectory, .replay].map(\.description)
                == ["exact", "factored", "sketch:kll", "trajectory", "replay"])
    }
}
