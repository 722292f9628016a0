/// Exit codes a Swift worker uses to tell the supervisor what failed (in the spirit of
/// gunicorn's 3 and 4).
public enum WorkerExitCode {
    /// The body ended normally.
    public static let success: CInt = 0
    /// The body threw before `waitForStop()`: init failed.
    public static let initFailure: CInt = 3
    /// The body threw after `waitForStop()` returned: shutdown failed.
    public static let shutdownFailure: CInt = 4
    /// The worker process could not set itself up (bad environment, no notify socket).
    public static let setupFailure: CInt = 5
}
