import KymoCore
import Testing
@testable import KymoQuery

/// Nothing crashes: random token soup, random bytes, and small mutations of valid queries either
/// parse (and then round-trip) or fail with an error whose location lies inside the text.
@Suite struct FuzzTests {
    static let vocabulary: [String] = Keyword.allCases.map(\.rawValue)
        + ["fc1", "fc2", "a", "\"seed-2\"", "'x'", "0", "3", "12", "1e-3", "2.5", "10%", "-", "..", ".",
           ",", "[", "]", "(", ")", "*", ";", "<", "<=", ">", ">=", "=", "!=", "fc1[12,40]", "fc1.bias[3]",
           "fc1[12,*]", "1..3", "\"", "@", "--", "\n", "é", "9999999999999999999999"]

    /// Parses `text`; on success checks the round trip, on failure checks the error is well-formed.
    /// Returns whether it parsed.
    @discardableResult
    static func exercise(_ text: String) -> Bool {
        let length = text.unicodeScalars.count
        do {
            let query = try Parser.parse(text)
            _ = QueryChecker.problems(in: query, catalog: FakeCatalog())
            let printed = QueryPrinter.print(query)
            let reparsed = try? Parser.parse(printed)
            #expect(reparsed == query, "\(text) → \(printed)")
            return true
        } catch {
            if let location = error.location {
                #expect(location.start.offset >= 0 && location.start.offset <= length, "\(text): \(error)")
                #expect(location.end.offset >= location.start.offset && location.end.offset <= length)
            }
            let rendered = error.rendered(in: text)
            #expect(rendered.hasPrefix("error: "))
            #expect(error.location == nil || rendered.contains("^"))
            return false
        }
    }

    @Test func tokenSoup() {
        var rng = CounterRNG(key: 1)
        for _ in 0..<5000 {
            let count = Int(rng.next(below: 25))
            let words = (0..<count).map { _ in Self.vocabulary[Int(rng.next(below: UInt64(Self.vocabulary.count)))] }
            Self.exercise(words.joined(separator: " "))
        }
    }

    @Test func randomBytes() {
        var rng = CounterRNG(key: 2)
        for _ in 0..<5000 {
            let count = Int(rng.next(below: 120))
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            Self.exercise(String(decoding: bytes, as: UTF8.self))
            // Printable ASCII only: reaches further into the lexer and parser.
            let ascii = bytes.map { 0x20 + $0 % 0x5F }
            Self.exercise(String(decoding: ascii, as: UTF8.self))
        }
    }

    @Test func mutatedValidQueries() throws {
        let seeds = try DocsExamplesTests.fencedBlocks(language: "kymo")
        var rng = CounterRNG(key: 3)
        var parsed = 0
        var failed = 0
        for _ in 0..<6000 {
            let seed = seeds[Int(rng.next(below: UInt64(seeds.count)))]
            guard var tokens = try? Lexer.tokenize(seed).dropLast().map(\.text), !tokens.isEmpty else { continue }
            let at = Int(rng.next(below: UInt64(tokens.count)))
            let word = Self.vocabulary[Int(rng.next(below: UInt64(Self.vocabulary.count)))]
            switch rng.next(below: 4) {
            case 0: tokens.remove(at: at)
            case 1: tokens.insert(word, at: at)
            case 2: tokens[at] = word
            default: tokens.swapAt(at, Int(rng.next(below: UInt64(tokens.count))))
            }
            if Self.exercise(tokens.joined(separator: " ")) { parsed += 1 } else { failed += 1 }
        }
        #expect(parsed > 300)
        #expect(failed > 300)
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let parens = "SELECT COUNT SAMPLES WHERE " + String(repeating: "(", count: 100_000) + "LOSS > 1"
        #expect(Self.exercise(parens) == false)
        let nots = "SELECT COUNT SAMPLES WHERE " + String(repeating: "NOT ", count: 100_000) + "LOSS > 1"
        #expect(Self.exercise(nots) == false)
        let fine = "SELECT COUNT SAMPLES WHERE " + String(repeating: "(", count: 30) + "LOSS > 1"
            + String(repeating: ")", count: 30)
        #expect(Self.exercise(fine))
        let longName = "SELECT LOSS FROM RUN " + String(repeating: "x", count: 100_000)
        #expect(Self.exercise(longName))
    }
}
