import Testing
@testable import KymoQuery

@Suite struct LexerTests {
    private func kinds(_ text: String) throws -> [TokenKind] {
        try Lexer.tokenize(text).map(\.kind)
    }

    @Test func keywordsAreCaseInsensitive() throws {
        #expect(try kinds("top Top TOP") == [.keyword(.top), .keyword(.top), .keyword(.top), .end])
    }

    @Test func numbersRangesAndPercentages() throws {
        #expect(try kinds("12 0.5 1e-3 2.5E+4 10% 2.5% 1..3") == [
            .integer(12), .decimal(0.5), .decimal(0.001), .decimal(25000), .percent(10), .percent(2.5),
            .integer(1), .dotDot, .integer(3), .end,
        ])
    }

    @Test func weightSelectorTokens() throws {
        #expect(try kinds("fc1[12,*] fc1.bias[3]") == [
            .identifier("fc1"), .leftBracket, .integer(12), .comma, .star, .rightBracket,
            .identifier("fc1"), .dot, .keyword(.bias), .leftBracket, .integer(3), .rightBracket, .end,
        ])
    }

    @Test func operatorsStringsAndComments() throws {
        #expect(try kinds("< <= > >= = != <> - \"seed 2\" 'a\"b' -- comment\n;") == [
            .comparison(.less), .comparison(.lessOrEqual), .comparison(.greater), .comparison(.greaterOrEqual),
            .comparison(.equal), .comparison(.notEqual), .comparison(.notEqual), .minus,
            .string("seed 2"), .string("a\"b"), .semicolon, .end,
        ])
    }

    @Test func rangesAreSourcePositions() throws {
        let tokens = try Lexer.tokenize("TOP 10\n  SAMPLES")
        #expect(tokens[0].range.start == SourceLocation(offset: 0, line: 1, column: 1))
        #expect(tokens[0].range.end == SourceLocation(offset: 3, line: 1, column: 4))
        #expect(tokens[1].range.start == SourceLocation(offset: 4, line: 1, column: 5))
        #expect(tokens[1].text == "10")
        #expect(tokens[2].range.start == SourceLocation(offset: 9, line: 2, column: 3))
        #expect(tokens[2].text == "SAMPLES")
        #expect(tokens[3].kind == .end && tokens[3].range.start.offset == 16)
    }

    @Test func lexicalErrors() {
        #expect(throws: QueryError.self) { try Lexer.tokenize("TOP 10 @") }
        #expect(throws: QueryError.self) { try Lexer.tokenize("FROM RUN \"abc") }
        #expect(throws: QueryError.self) { try Lexer.tokenize("TOP 99999999999999999999") }
        #expect(throws: QueryError.self) { try Lexer.tokenize("TOP 12abc") }
        do {
            _ = try Lexer.tokenize("TOP 10 @")
        } catch {
            #expect(error.location?.start.column == 8)
            #expect(error.message == "unexpected character '@'")
        }
    }
}
