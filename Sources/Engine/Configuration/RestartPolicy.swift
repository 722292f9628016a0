/// Whether a process that ends without being asked is started again in its slot.
public enum RestartPolicy: String, Sendable, Hashable, Codable {
    /// Never: an unasked end is handled by the ``FailurePolicy`` (aiotools' fail-fast).
    case no
    /// When it ended unasked with a non-zero exit code, or of a signal the supervisor did not
    /// send. An unasked exit 0 is not restarted (and stays a failure for a worker).
    case onFailure = "on-failure"
    /// After every unasked end, exit 0 included.
    case always
}
