import Glibc

/// A POSIX extended regular expression (glibc's `regcomp`/`regexec`), whose matcher does not
/// backtrack: a pattern such as `(a+)+$` over a line that almost matches takes linear time,
/// where a backtracking engine can take minutes — and `corral` must never block on a pattern
/// an operator typed or a `--ready log:re:` gave. `\d` and `\D` are accepted (as `[0-9]` and
/// `[^0-9]`) beside glibc's `\w`, `\W`, `\s`, `\S`, `\b`. Matching is on the UTF-8 bytes,
/// case-insensitive when asked (non-ASCII letters too under a UTF-8 locale).
package final class PosixRegex: @unchecked Sendable {
    private var compiled = regex_t()

    /// Compiles `pattern`; throws the reason it is not an expression.
    package init(_ pattern: String, ignoringCase: Bool = false) throws(RegexError) {
        let flags = REG_EXTENDED | (ignoringCase ? REG_ICASE : 0)
        let result = regcomp(&compiled, Self.translated(pattern), flags)
        guard result == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(result, &compiled, &buffer, buffer.count)
            let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RegexError(message: message.lowercased())
        }
    }

    deinit { regfree(&compiled) }

    /// Whether `text` has a match.
    package func matches(_ text: String) -> Bool {
        regexec(&compiled, text, 0, nil, 0) == 0
    }

    /// The matches in `text`, as UTF-8 byte ranges, left to right, none empty.
    package func byteRanges(in text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        text.withCString { start in
            let length = strlen(start)
            var offset = 0
            var match = regmatch_t()
            while offset <= length, ranges.count < 1000 {
                let flags = offset > 0 ? REG_NOTBOL : 0
                guard regexec(&compiled, start + offset, 1, &match, flags) == 0 else { break }
                let lower = offset + Int(match.rm_so)
                let upper = offset + Int(match.rm_eo)
                if upper > lower { ranges.append(lower..<upper) }
                offset = max(upper, lower + 1)
            }
        }
        return ranges
    }

    /// `\d` and `\D` as bracket expressions (outside brackets), everything else as written.
    private static func translated(_ pattern: String) -> String {
        var result = ""
        var inBracket = false
        var scalars = pattern.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\\", let next = scalars.next() {
                switch (next, inBracket) {
                case ("d", false): result += "[0-9]"
                case ("D", false): result += "[^0-9]"
                case ("d", true): result += "0-9"
                default:
                    result.unicodeScalars.append(scalar)
                    result.unicodeScalars.append(next)
                }
                continue
            }
            if scalar == "[" { inBracket = true } else if scalar == "]" { inBracket = false }
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}

/// Why a regular expression does not compile.
package struct RegexError: Error, Sendable {
    /// glibc's reason, e.g. `unmatched ( or \(`.
    package var message: String
}
