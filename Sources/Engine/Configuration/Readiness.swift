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

/// What a line of output must hold: a text (case-sensitive) or a regular expression.
public enum OutputPattern: Sendable, Hashable, CustomStringConvertible {
    /// The line contains this text.
    case text(String)
    /// The line matches this regular expression: POSIX extended (glibc's, which never
    /// backtracks), with `\d` and `\D` added.
    case regex(String)

    /// `TEXT`, or `re:REGEX` for a regular expression; throws for an empty pattern or a regular
    /// expression that does not compile.
    public init(parsing text: String) throws(ConfigurationError) {
        if text.hasPrefix("re:") {
            let pattern = String(text.dropFirst(3))
            guard !pattern.isEmpty else {
                throw ConfigurationError(field: "readiness", problem: "log:re: needs a regular expression")
            }
            do {
                _ = try PosixRegex(pattern)
            } catch {
                throw ConfigurationError(
                    field: "readiness", problem: "log:re:\(pattern) is not a regular expression: \(error.message)")
            }
            self = .regex(pattern)
        } else {
            guard !text.isEmpty else {
                throw ConfigurationError(
                    field: "readiness", problem: "log: needs the text to wait for, e.g. log:listening")
            }
            self = .text(text)
        }
    }

    /// `'TEXT'` or `re:'REGEX'`.
    public var description: String {
        switch self {
        case .text(let text): return "'\(text)'"
        case .regex(let pattern): return "re:'\(pattern)'"
        }
    }
}
