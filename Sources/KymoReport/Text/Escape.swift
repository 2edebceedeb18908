/// Escaping for every piece of user text that reaches a report: weight names, run names,
/// query text and captions may contain `<`, `&`, `|` or `*`.
package enum Escape {
    /// Text safe inside HTML/SVG element content and double-quoted attribute values.
    /// - Complexity: O(n).
    package static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // C0 controls other than tab/newline are not allowed in XML 1.0.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" {
                    out += " "
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out
    }

    /// Text that Markdown renders literally, with as few backslashes as that allows so a
    /// terminal reader still sees `0.05` and `784-512`: always `\\`, `` ` ``, `*`, `|`, `~`;
    /// `_` at a word boundary; `[` when its `]` is followed by `(`, `[` or `:` (a link);
    /// `<` as `&lt;` and `&` that would start an entity as `&amp;`; and a leading `#`, `>`, `- `,
    /// `+ ` or `1. `/`1) ` that would start a block. Newlines become spaces.
    /// - Complexity: O(n²) in the worst case (bracket matching), O(n) for ordinary text.
    package static func markdown(_ text: String) -> String {
        let chars = Array(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        func isWord(_ i: Int) -> Bool { i >= 0 && i < chars.count && (chars[i].isLetter || chars[i].isNumber) }
        var out = ""
        out.reserveCapacity(chars.count)
        // A block marker at the very start.
        var leadingDigits = 0
        while leadingDigits < chars.count && chars[leadingDigits].isASCII && chars[leadingDigits].isNumber { leadingDigits += 1 }
        for (i, ch) in chars.enumerated() {
            switch ch {
            case "\\", "`", "*", "|", "~":
                out += "\\"
                out.append(ch)
            case "_":
                if !(isWord(i - 1) && isWord(i + 1)) { out += "\\" }
                out.append(ch)
            case "[":
                var j = i + 1
                while j < chars.count && chars[j] != "]" { j += 1 }
                if j + 1 < chars.count && (chars[j + 1] == "(" || chars[j + 1] == "[" || chars[j + 1] == ":") { out += "\\" }
                out.append(ch)
            case "<":
                out += "&lt;"
            case "&":
                // Only `&name;` / `&#123;` would be read as an entity.
                var j = i + 1
                while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "#") { j += 1 }
                out += j > i + 1 && j < chars.count && chars[j] == ";" ? "&amp;" : "&"
            case "#", ">":
                if i == 0 { out += "\\" }
                out.append(ch)
            case "-", "+", "=":
                if i == 0 && (i + 1 == chars.count || chars[i + 1] == " " || chars[i + 1] == ch) { out += "\\" }
                out.append(ch)
            case ".", ")":
                if i > 0 && i == leadingDigits && (i + 1 == chars.count || chars[i + 1] == " ") { out += "\\" }
                out.append(ch)
            default:
                out.append(ch)
            }
        }
        return out
    }

    /// A URL-fragment identifier: lowercase ASCII letters, digits and single hyphens.
    /// - Complexity: O(n).
    package static func anchor(_ text: String) -> String {
        var out = ""
        var pendingHyphen = false
        for ch in text.lowercased().unicodeScalars {
            let isAlnum = (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9")
            if isAlnum {
                if pendingHyphen && !out.isEmpty { out += "-" }
                pendingHyphen = false
                out.unicodeScalars.append(ch)
            } else {
                pendingHyphen = true
            }
        }
        return out.isEmpty ? "section" : out
    }
}
