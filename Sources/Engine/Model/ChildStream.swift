/// Which output stream of a child a line came from.
public enum ChildStream: String, Hashable, Sendable, Codable {
    /// The child's standard output.
    case stdout
    /// The child's standard error.
    case stderr
}
