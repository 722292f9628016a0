/// A configuration value that cannot work, found before anything is spawned.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault, e.g. `"workers"`.
    public var field: String
    /// What is wrong and what would be accepted.
    public var problem: String

    /// Creates an error about `field`.
    package init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// A one-line description for logs and reports.
    public var description: String { "invalid \(field): \(problem)" }
}
