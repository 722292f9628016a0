/// How restarts are spaced and when a slot gives up: the first restart after ``delay``, each
/// consecutive one after twice the previous delay, with jitter within ±25 %, never more than
/// ``maxDelay``; the streak starts over once a generation has been running for ``reset``. More
/// than ``maxRestarts`` restarts within ``window`` is a crash loop: the slot gives up and the
/// ``FailurePolicy`` applies.
public struct RestartBackoff: Sendable, Hashable {
    /// The delay before the first restart of a streak. Default 0.1 s.
    public var delay: Duration
    /// The longest delay. Default 30 s.
    public var maxDelay: Duration
    /// How long a generation must have been running for the next restart to be a first one
    /// again. Default 10 s, at least 1 s.
    public var reset: Duration
    /// How many restarts ``window`` allows: with 3, a slot starts 4 times in the window and
    /// gives up at the next unasked end. Default 5.
    public var maxRestarts: Int
    /// The window the restarts are counted in. Default 60 s.
    public var window: Duration

    /// A backoff; see each property for its meaning and default.
    public init(
        delay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(30), reset: Duration = .seconds(10),
        maxRestarts: Int = 5, window: Duration = .seconds(60)
    ) {
        self.delay = delay
        self.maxDelay = maxDelay
        self.reset = reset
        self.maxRestarts = maxRestarts
        self.window = window
    }

    /// The delay before restart number `attempt` of a streak (1 for the first), with `jitter`
    /// in -1...1 scaling ±25 % of it.
    public func delay(attempt: Int, jitter: Double) -> Duration {
        let doublings = min(max(attempt - 1, 0), 62)
        var base = delay
        for _ in 0..<doublings where base < maxDelay { base = base * 2 }
        base = min(base, maxDelay)
        let factor = 1 + 0.25 * min(max(jitter, -1), 1)
        return min(base * factor, maxDelay)
    }

    /// Throws for values that cannot work.
    func validate() throws(ConfigurationError) {
        guard delay >= .zero else {
            throw ConfigurationError(field: "restart delay", problem: "\(delay.secondsText) is negative; use 0 or more")
        }
        guard maxDelay >= delay else {
            throw ConfigurationError(
                field: "restart max delay",
                problem: "\(maxDelay.secondsText) is less than the restart delay \(delay.secondsText)")
        }
        guard reset >= .seconds(1) else {
            throw ConfigurationError(
                field: "restart reset", problem: "\(reset.secondsText) is too short; use 1 s or more")
        }
        guard maxRestarts >= 0 else {
            throw ConfigurationError(field: "max restarts", problem: "\(maxRestarts) is negative; use 0 or more")
        }
        guard window > .zero else {
            throw ConfigurationError(field: "restart window", problem: "\(window.secondsText) must be positive")
        }
    }
}
