/// What a line of output must hold: a text (case-sensitive) or a regular expression.
public enum OutputPattern: Sendable, Hashable, CustomStringConvertible {
    /// The line contains this text.
    case text(String)
    /// The line matches this regular expression: POSIX extended (glibc's, which never
    /// backtracks), with `\d` and `\D` added.
    case regex(String)

    /// `TEXT`, or `re:REGEX` for a regular expression; throws for an empty pattern or a regular
    /// expression that does not compile.
    public init(parsing text: String) throws(ConfigurationError) {
        if text.hasPrefix("re:") {
            let pattern = String(text.dropFirst(3))
            guard !pattern.isEmpty else {
                throw ConfigurationError(field: "readiness", problem: "log:re: needs a regular expression")
            }
            do {
                _ = try PosixRegex(pattern)
            } catch {
                throw ConfigurationError(
                    field: "readiness", problem: "log:re:\(pattern) is not a regular expression: \(error.message)")
            }
            self = .regex(pattern)
        } else {
            guard !text.isEmpty else {
                throw ConfigurationError(
                    field: "readiness", problem: "log: needs the text to wait for, e.g. log:listening")
            }
            self = .text(text)
        }
    }

    /// `'TEXT'` or `re:'REGEX'`.
    public var description: String {
        switch self {
        case .text(let text): return "'\(text)'"
        case .regex(let pattern): return "re:'\(pattern)'"
        }
    }
}
