/// Matches lines of output against an ``OutputPattern``: a plain text by substring
/// (case-sensitive), a regular expression compiled once (``PosixRegex``: no pattern can make
/// the driver backtrack for long).
final class OutputMatcher {
    private let text: String?
    private let regex: PosixRegex?

    /// A matcher for `pattern` (a regular expression that does not compile matches nothing:
    /// the configuration's validation refuses it before).
    init(_ pattern: OutputPattern) {
        switch pattern {
        case .text(let text):
            self.text = text
            regex = nil
        case .regex(let pattern):
            text = nil
            regex = try? PosixRegex(pattern)
        }
    }

    /// Whether `line` holds the text, or has a match of the expression.
    func matches(_ line: String) -> Bool {
        if let text { return line.contains(text) }
        return regex?.matches(line) ?? false
    }
}
