/// Where keys and tables are in a TOML text, found by reading its lines (the parser does not
/// say): for errors that name a line, and for the order of `[programs.NAME]` tables, which the
/// parsed table does not keep.
struct TOMLLines {
    /// The line of each table header and key, by path: `programs.web` for `[programs.web]`,
    /// `programs.web/command` for a key in it, `/workers` for a top-level key.
    private var lines: [String: Int] = [:]
    /// Program names in the order they first appear.
    private(set) var programOrder: [String] = []

    init(_ text: String) {
        var section: [String] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let trimmed = String(raw).trimming(" \t\r")
            if trimmed.hasPrefix("[") {
                let inner = trimmed.drop { $0 == "[" }.prefix { $0 != "]" }
                section = Self.path(String(inner))
                note(section, line: line)
                continue
            }
            guard let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#") else { continue }
            let key = Self.path(String(trimmed[..<equals]))
            guard let last = key.last else { continue }
            let path = section + key.dropLast()
            note(path, line: line)
            record(path.joined(separator: ".") + "/" + last, line: line)
        }
    }

    /// The line of the table at `path` (e.g. `["programs", "web"]`), or nil.
    func table(_ path: [String]) -> Int? { lines[path.joined(separator: ".")] }

    /// The line of `key` in the table at `path`, else of the table, else nil.
    func key(_ key: String, in path: [String]) -> Int? {
        lines[path.joined(separator: ".") + "/" + key] ?? table(path)
    }

    private mutating func note(_ path: [String], line: Int) {
        for depth in 1...max(1, path.count) where depth <= path.count {
            record(path.prefix(depth).joined(separator: "."), line: line)
        }
        if path.count >= 2, path[0] == "programs", !programOrder.contains(path[1]) { programOrder.append(path[1]) }
    }

    private mutating func record(_ path: String, line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    /// A dotted key split into its parts, quotes removed: `programs."my app"` → `programs`, `my app`.
    private static func path(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current.trimming(" \t"))
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimming(" \t"))
        return parts.filter { !$0.isEmpty }
    }
}
