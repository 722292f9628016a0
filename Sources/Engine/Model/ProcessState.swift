/// The lifecycle of one slot: `pending → initializing → running → stopping → exited`, and with
/// a restart policy `exited → backoff → initializing` for its next generation.
public enum ProcessState: String, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Not spawned (yet, or ever: shutdown began before its turn).
    case pending
    /// Spawned; has not reported `READY=1` yet.
    case initializing
    /// Ready and serving.
    case running
    /// Failed its health check too many times in a row (or used too much memory): being
    /// restarted.
    case unhealthy
    /// Asked to stop (a stop signal was sent to it, or it sent `STOPPING=1`).
    case stopping
    /// Ended and reaped.
    case exited
    /// Ended unasked; its next generation starts when the restart delay has passed.
    case backoff

    /// A one-line description for logs and reports.
    public var description: String { rawValue }
}
