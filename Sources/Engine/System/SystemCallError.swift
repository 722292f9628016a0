import SystemPackage

/// A failed system call: which operation, the `errno` it set, and what it was working on.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call or step that failed, e.g. `"pidfd_open"`.
    public var operation: String
    /// The error number the kernel returned.
    public var errno: Errno
    /// What the call was acting on (a pid, a path, a signal), if anything.
    public var context: String?

    /// Creates an error for `operation` with `errno` and optional `context`.
    package init(_ operation: String, errno: Errno, context: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.context = context
    }

    /// A one-line description for logs and reports.
    public var description: String {
        let subject = context.map { " (\($0))" } ?? ""
        return "\(operation)\(subject) failed: \(errno) (errno \(errno.rawValue))"
    }
}
