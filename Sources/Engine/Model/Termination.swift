import Glibc

/// How a child process ended, decoded from its wait status.
public enum Termination: Hashable, Sendable, CustomStringConvertible {
    /// The process called `exit` with this code.
    case exited(code: CInt)
    /// The process was ended by this signal; `coreDumped` when the kernel wrote a core.
    case signaled(Signal, coreDumped: Bool)
    /// It ended, but another reaper in this process (a `waitpid(-1)` outside the engine) took
    /// its exit status first: how it ended is unknown.
    case reapedElsewhere

    /// Decodes a status `waitid` reported.
    init(_ wait: WaitStatus) {
        switch wait.code {
        case CInt(CLD_EXITED): self = .exited(code: wait.status)
        case CInt(CLD_DUMPED): self = .signaled(Signal(rawValue: wait.status), coreDumped: true)
        default: self = .signaled(Signal(rawValue: wait.status), coreDumped: false)
        }
    }

    /// The signal that ended the process, if one did.
    public var signal: Signal? {
        if case .signaled(let signal, _) = self { return signal }
        return nil
    }

    /// A one-line description for logs and reports.
    public var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let signal, let dumped): return "killed by \(signal)\(dumped ? " (core dumped)" : "")"
        case .reapedElsewhere:
            return "ended; another reaper in this process took its exit status (a waitpid(-1) elsewhere)"
        }
    }
}
