/// What a starting process waits for before it counts as running.
public enum ReadinessWait: Sendable, Hashable, CustomStringConvertible {
    /// Its readiness condition, and why it is not met yet where a probe said so: `log
    /// 'Application startup complete'`, `http://127.0.0.1:8001/health: connection refused`.
    case condition(String)
    /// Its readiness is met; it must stay up this long (``SupervisorConfiguration/readyAfter``)
    /// from the event's time.
    case uptime(Duration)

    /// `waiting for …`, or `up for …` for the uptime.
    public var description: String {
        switch self {
        case .condition(let text): return "waiting for \(text)"
        case .uptime(let needed): return "ready; running once up for \(needed.secondsText)"
        }
    }
}
