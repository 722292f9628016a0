/// `$VAR` and `${VAR}` replaced by their values in an environment (`NAME=value` entries); an
/// unset variable expands to nothing, as in a shell. No other shell syntax.
enum EnvironmentExpansion {
    /// `text` with every `$VAR` and `${VAR}` expanded from `environment` (the last entry of a
    /// name wins).
    static func expand(_ text: String, _ environment: [String]) -> String {
        guard text.contains("$") else { return text }
        var values: [Substring: Substring] = [:]
        for entry in environment {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            values[entry[..<equals]] = entry[entry.index(after: equals)...]
        }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                let name = after[after.index(after: after.startIndex)..<close]
                result += values[name] ?? ""
                rest = after[after.index(after: close)...]
            } else {
                let name = after.prefix { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
                if name.isEmpty {
                    result += "$"
                } else {
                    result += values[name] ?? ""
                }
                rest = after.dropFirst(name.count)
            }
        }
        return result + rest
    }
}
