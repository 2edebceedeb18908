/// Turns query text into tokens, each with its source range.
///
/// - Keywords are case-insensitive (`top`, `Top`, `TOP`).
/// - Names: a letter or `_`, then letters, digits, `_`; or quoted with `"` or `'` (no escapes; a
///   quote cannot appear inside its own kind of quotes).
/// - Numbers: `12`, `0.5`, `.5` is not a number, `1e-3`, `2.5E+4`; `12..20` is `12`, `..`, `20`;
///   a number followed directly by `%` is a percentage. A sign is a separate `-` token.
/// - Comments: `--` to the end of the line.
package struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1

    package init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// All tokens of `text`, ending with one `.end` token.
    /// - Complexity: O(|text|).
    package static func tokenize(_ text: String) throws(QueryError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.nextToken()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private var location: SourceLocation { SourceLocation(offset: index, line: line, column: column) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        index + ahead < scalars.count ? scalars[index + ahead] : nil
    }

    private mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    private static func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c >= "0" && c <= "9"
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                advance()
            } else if c == "-", peek(1) == "-" {
                while let d = peek(), d != "\n" { advance() }
            } else {
                return
            }
        }
    }

    /// The next token; `.end` once the text is used up (and on every call after).
    /// - Complexity: O(length of the token and the space before it).
    package mutating func nextToken() throws(QueryError) -> Token {
        skipSpaceAndComments()
        let start = location
        let startIndex = index
        func make(_ kind: TokenKind) -> Token {
            let text = String(String.UnicodeScalarView(scalars[startIndex..<index]))
            return Token(kind: kind, range: SourceRange(start: start, end: location), text: text)
        }
        guard let c = peek() else { return make(.end) }

        if Self.isLetter(c) {
            while let d = peek(), Self.isLetter(d) || Self.isDigit(d) { advance() }
            let word = String(String.UnicodeScalarView(scalars[startIndex..<index]))
            if let keyword = Keyword(word: word) { return make(.keyword(keyword)) }
            return make(.identifier(word))
        }
        if Self.isDigit(c) { return try lexNumber(start: start, startIndex: startIndex) }
        if c == "\"" || c == "'" {
            advance()
            while let d = peek(), d != c, d != "\n" { advance() }
            guard peek() == c else {
                throw .lexical(location: SourceRange(start: start, end: location),
                               message: "unterminated string: missing closing \(c)")
            }
            advance()
            let body = String(String.UnicodeScalarView(scalars[(startIndex + 1)..<(index - 1)]))
            return make(.string(body))
        }
        advance()
        switch c {
        case ",": return make(.comma)
        case "[": return make(.leftBracket)
        case "]": return make(.rightBracket)
        case "(": return make(.leftParen)
        case ")": return make(.rightParen)
        case "*": return make(.star)
        case ";": return make(.semicolon)
        case "-": return make(.minus)
        case "=": return make(.comparison(.equal))
        case ".":
            if peek() == "." {
                advance()
                return make(.dotDot)
            }
            return make(.dot)
        case "<":
            if peek() == "=" { advance(); return make(.comparison(.lessOrEqual)) }
            if peek() == ">" { advance(); return make(.comparison(.notEqual)) }
            return make(.comparison(.less))
        case ">":
            if peek() == "=" { advance(); return make(.comparison(.greaterOrEqual)) }
            return make(.comparison(.greater))
        case "!":
            if peek() == "=" { advance(); return make(.comparison(.notEqual)) }
        default:
            break
        }
        let shown = c.isASCII && c.value >= 0x20 && c.value < 0x7F
            ? "'\(Character(c))'" : "U+\(String(c.value, radix: 16, uppercase: true))"
        throw .lexical(location: SourceRange(start: start, end: location),
                       message: "unexpected character \(shown)")
    }

    private mutating func lexNumber(start: SourceLocation, startIndex: Int) throws(QueryError) -> Token {
        var isInteger = true
        while Self.isDigit(peek()) { advance() }
        // A fraction needs a digit after the dot, so that `1..3` stays a range.
        if peek() == ".", Self.isDigit(peek(1)) {
            isInteger = false
            advance()
            while Self.isDigit(peek()) { advance() }
        }
        if let e = peek(), e == "e" || e == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if Self.isDigit(peek(signed ? 2 : 1)) {
                isInteger = false
                advance()
                if signed { advance() }
                while Self.isDigit(peek()) { advance() }
            }
        }
        let text = String(String.UnicodeScalarView(scalars[startIndex..<index]))
        // A number glued to letters (`12abc`, `1e`) is a typo, not two tokens.
        if let d = peek(), Self.isLetter(d) {
            while let d = peek(), Self.isLetter(d) || Self.isDigit(d) { advance() }
            throw .lexical(location: SourceRange(start: start, end: location),
                           message: "malformed number '\(String(String.UnicodeScalarView(scalars[startIndex..<index])))'")
        }
        let range = { (end: SourceLocation) in SourceRange(start: start, end: end) }
        var kind: TokenKind
        if isInteger {
            guard let value = Int(text) else {
                throw .lexical(location: range(location), message: "number \(text) is too large")
            }
            kind = .integer(value)
        } else {
            guard let value = Double(text), value.isFinite else {
                throw .lexical(location: range(location), message: "number \(text) is out of range")
            }
            kind = .decimal(value)
        }
        if peek() == "%" {
            advance()
            switch kind {
            case .integer(let i): kind = .percent(Double(i))
            case .decimal(let d): kind = .percent(d)
            default: break
            }
        }
        let fullText = String(String.UnicodeScalarView(scalars[startIndex..<index]))
        return Token(kind: kind, range: range(location), text: fullText)
    }
}
