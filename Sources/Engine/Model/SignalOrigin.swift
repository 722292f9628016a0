/// Who sent the signal that ended a child.
public enum SignalOrigin: Hashable, Sendable, CustomStringConvertible {
    /// The supervisor, for this reason.
    case supervisor(SignalReason)
    /// Not the supervisor: the child itself, another process, the kernel (OOM killer), a user.
    case external

    /// A one-line description for logs and reports.
    public var description: String {
        switch self {
        case .supervisor(let reason): return "sent by the supervisor (\(reason))"
        case .external: return "not sent by the supervisor"
        }
    }
}
