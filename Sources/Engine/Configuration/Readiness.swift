/// When a command worker counts as running (ready): the state `running` means ready, and
/// everything that waits for it (a reload's next step, a restart streak, `READY=1` upward)
/// waits for this, then for ``SupervisorConfiguration/readyAfter``.
public enum Readiness: Sendable, Hashable {
    /// When it sends `READY=1` to `NOTIFY_SOCKET` (systemd's `Type=notify`).
    case notify
    /// As soon as `execve` succeeded (systemd's `Type=exec`); with the default
    /// ``SupervisorConfiguration/readyAfter`` it must then stay up for a second.
    case onExec
    /// When a line of its output (stdout or stderr) matches.
    case outputLine(OutputPattern)
    /// When a probe of it succeeds (tried every ``SupervisorConfiguration/probeInterval``).
    case probe(Probe)

    /// Parses the command line's form: `exec`, `notify`, `log:TEXT`, `log:re:REGEX`,
    /// `tcp:HOST:PORT`, `http://HOST:PORT/PATH` or `exec:COMMAND`.
    public init(parsing text: String) throws(ConfigurationError) {
        switch text {
        case "exec": self = .onExec
        case "notify": self = .notify
        default:
            if text.hasPrefix("log:") {
                self = .outputLine(try OutputPattern(parsing: String(text.dropFirst(4))))
            } else if let probe = try Probe(parsing: text, field: "readiness") {
                try probe.validate(field: "readiness")
                self = .probe(probe)
            } else {
                throw ConfigurationError(
                    field: "readiness",
                    problem:
                        "'\(text)' is not one of exec, notify, log:TEXT, log:re:REGEX, tcp:HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND"
                )
            }
        }
    }

    /// What a process waiting for this is waiting for, e.g. `log 'Application startup complete'`.
    public var waitingFor: String {
        switch self {
        case .notify: return "READY=1"
        case .onExec: return "exec"
        case .outputLine(let pattern): return "log \(pattern)"
        case .probe(let probe): return probe.description
        }
    }
}
