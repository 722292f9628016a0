/// Something wrong in a project file (a Procfile, a `corral.toml`, an env file): where, and what.
/// Reads as `corral.toml:12: unknown key "worker"; did you mean "workers"?`.
package struct ProjectError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file, as it was named.
    package var file: String
    /// The 1-based line, when the problem has one.
    package var line: Int?
    /// What is wrong and, where it helps, what would be accepted.
    package var message: String

    /// An error at `line` of `file`.
    package init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message`, or `FILE: message` without a line.
    package var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// Every error found in a project (nothing is started while there is one).
package struct ProjectErrors: Error, Sendable, CustomStringConvertible {
    /// The errors, in file and line order.
    package var errors: [ProjectError]

    /// The errors found.
    package init(errors: [ProjectError]) { self.errors = errors }

    /// One error per line.
    package var description: String { errors.map(\.description).joined(separator: "\n") }
}
