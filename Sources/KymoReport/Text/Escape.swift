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

    /// Text that Markdown renders literally: every ASCII punctuation character Markdown gives a
    /// meaning to is backslash-escaped, `<`/`>`/`&` become entities, newlines become spaces.
    /// - Complexity: O(n).
    package static func markdown(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "\\", "`", "*", "_", "{", "}", "[", "]", "(", ")", "#", "+", "-", ".", "!", "|", "~":
                out += "\\"
                out.unicodeScalars.append(ch)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.unicodeScalars.append(ch)
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
