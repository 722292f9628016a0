/// What the supervisor does when a child fails: dies during init, or exits without being asked.
public enum FailurePolicy: String, Sendable, Hashable, Codable {
    /// Fail fast (the default): stop the whole server with the default stop signal.
    case stopAll = "stop-all"
    /// Keep the others running and report the failure (aiotools' `ignore_child_interrupts`).
    /// The server stops by itself once every child has ended.
    case keepRunning = "keep-running"
}
