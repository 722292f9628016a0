/// A check of every running worker on a period (Kubernetes' liveness probe): a worker that
/// fails ``failures`` checks in a row is unhealthy and restarted.
public struct HealthCheck: Sendable, Hashable {
    /// What is checked (the same forms as readiness probes).
    public var probe: Probe
    /// Time between the end of one check and the start of the next. Default 10 s.
    public var interval: Duration
    /// How long one check may take before it counts as failed. Default 1 s.
    public var timeout: Duration
    /// Consecutive failed checks that make a worker unhealthy. Default 3.
    public var failures: Int

    /// A check of `probe`; see each property for its default.
    public init(_ probe: Probe, interval: Duration = .seconds(10), timeout: Duration = .seconds(1), failures: Int = 3) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.failures = failures
    }

    /// Throws when a value cannot work.
    func validate() throws(ConfigurationError) {
        try probe.validate(field: "health")
        guard interval > .zero, timeout > .zero else {
            throw ConfigurationError(field: "health", problem: "the interval and the timeout must be positive")
        }
        guard failures >= 1 else {
            throw ConfigurationError(field: "health", problem: "failures must be 1 or more (got \(failures))")
        }
    }
}
