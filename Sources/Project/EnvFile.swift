/// A `.env` file as honcho and foreman read it: `KEY=VALUE` lines, an optional `export `,
/// single quotes literal, double quotes with `\n`, `\t`, `\"` and `\\`, `#` comments and blank
/// lines; no expansion.
package enum EnvFile {
    /// One assignment and its line.
    package struct Entry: Hashable, Sendable {
        package var key: String
        package var value: String
        package var line: Int
    }

    /// Parses `text` (named `file` in errors): the assignments in order, or every bad line.
    package static func parse(_ text: String, file: String) -> Result<[Entry], ProjectErrors> {
        var entries: [Entry] = []
        var errors: [ProjectError] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            var rest = Substring(raw.hasSuffix("\r") ? raw.dropLast() : raw)
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty || rest.hasPrefix("#") { continue }
            if rest.hasPrefix("export ") { rest = rest.dropFirst("export ".count).drop { $0 == " " } }
            guard let equals = rest.firstIndex(of: "=") else {
                errors.append(ProjectError(file: file, line: line, "not KEY=VALUE, a comment or a blank line"))
                continue
            }
            let key = String(rest[..<equals]).trimming(" \t")
            guard isKey(key) else {
                errors.append(
                    ProjectError(
                        file: file, line: line,
                        "\"\(key)\" is not a variable name (letters, digits and _, not starting with a digit)"))
                continue
            }
            switch value(rest[rest.index(after: equals)...]) {
            case .success(let value): entries.append(Entry(key: key, value: value, line: line))
            case .failure(let error): errors.append(ProjectError(file: file, line: line, error.message))
            }
        }
        return errors.isEmpty ? .success(entries) : .failure(ProjectErrors(errors: errors))
    }

    /// Whether `key` is `[A-Za-z_][A-Za-z0-9_]*`.
    package static func isKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || isLetter(first) else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || isLetter($0) || ("0"..."9").contains($0) }
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    /// The value after `=`: bare (trimmed, a ` #` starts a comment), single-quoted (literal) or
    /// double-quoted (with escapes).
    private static func value(_ text: Substring) -> Result<String, ValueError> {
        let text = text.drop { $0 == " " || $0 == "\t" }
        guard let quote = text.first, quote == "'" || quote == "\"" else {
            return .success(String(withoutComment(text)).trimming(" \t"))
        }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == quote {
                let after = String(text[text.index(after: index)...]).trimming(" \t")
                guard after.isEmpty || after.hasPrefix("#") else {
                    return .failure(ValueError("text after the closing quote: \(after)"))
                }
                return .success(result)
            }
            if quote == "\"" && character == "\\" {
                index = text.index(after: index)
                guard index < text.endIndex else { break }
                switch text[index] {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                default: return .failure(ValueError("unknown escape \\\(text[index]) (known: \\n \\t \\\" \\\\)"))
                }
            } else {
                result.append(character)
            }
            index = text.index(after: index)
        }
        return .failure(ValueError("unterminated \(quote == "'" ? "single" : "double") quote"))
    }

    /// `text` up to a `#` after a blank (a space or a tab), where a comment starts.
    private static func withoutComment(_ text: Substring) -> Substring {
        var previous: Character?
        for index in text.indices {
            if text[index] == "#", previous == " " || previous == "\t" { return text[..<index] }
            previous = text[index]
        }
        return text
    }

    /// A bad value: why.
    package struct ValueError: Error {
        package var message: String
        init(_ message: String) { self.message = message }
    }
}

extension String {
    /// Without the characters of `set` at both ends.
    package func trimming(_ set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
