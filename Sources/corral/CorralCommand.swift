import ArgumentParser
import CorralDemo
import CorralEngine
import CorralModel
import Glibc
import Logging

/// The `corral` command line: parses and validates options, then runs the demo or a command.
@main
struct CorralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corral",
        abstract: "Run a multi-process server and watch it live.",
        usage: """
            corral [options]                        the built-in demo server
              corral [options] -- COMMAND [ARG...]    N copies of any command
            """,
        discussion: HelpText.discussion)

    @Option(
        name: [.short, .long], parsing: .unconditional,
        help: "Worker processes, 1 to 4096 (default: 4 for the demo, 1 for a command).")
    var workers: Int?

    @Option(
        name: .customLong("extra"),
        help: ArgumentHelp(
            "An extra process started after the workers, run by /bin/sh -c (repeatable).", valueName: "COMMAND"))
    var extras: [String] = []

    @Option(
        name: .customLong("stop-signals"),
        help: ArgumentHelp("Signals that stop the server, comma-separated, e.g. INT,TERM or TERM.", valueName: "LIST"))
    var stopSignals = "INT,TERM"

    @Option(
        name: .customLong("wait-timeout"), parsing: .unconditional,
        help: ArgumentHelp(
            "Grace in seconds before remaining processes are SIGKILLed; 'none' waits forever.", valueName: "SECONDS"))
    var waitTimeout = "10"

    @Option(
        help: ArgumentHelp(
            "When a command worker is running (ready): at exec (exec, the default), on READY=1 (notify), on a line "
                + "of its output (log:TEXT, log:re:REGEX), once a TCP connection succeeds (tcp:HOST:PORT), a GET "
                + "answers 2xx/3xx (http://HOST:PORT/PATH) or a command exits 0 (exec:COMMAND).",
            valueName: "FORM"))
    var ready = "exec"

    @Option(
        name: .customLong("ready-after"), parsing: .unconditional,
        help: ArgumentHelp(
            "A worker is running only once it has stayed up this long after its readiness (default 1 with "
                + "--ready exec, 0 otherwise).", valueName: "SECONDS"))
    var readyAfter: String?

    @Option(
        name: .customLong("probe-interval"), parsing: .unconditional,
        help: ArgumentHelp("How often a readiness probe is tried.", valueName: "SECONDS"))
    var probeInterval = "0.1"

    @Option(
        name: .customLong("probe-timeout"), parsing: .unconditional,
        help: ArgumentHelp("How long one probe may take before it fails.", valueName: "SECONDS"))
    var probeTimeout = "1"

    @Option(
        name: .customLong("health"),
        help: ArgumentHelp(
            "A health check of every running worker (tcp:HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND): "
                + "--health-failures failures in a row restart it.", valueName: "CHECK"))
    var health: String?

    @Option(
        name: .customLong("health-interval"), parsing: .unconditional,
        help: ArgumentHelp("Time between health checks.", valueName: "SECONDS"))
    var healthInterval = "10"

    @Option(
        name: .customLong("health-timeout"), parsing: .unconditional,
        help: ArgumentHelp("How long one health check may take.", valueName: "SECONDS"))
    var healthTimeout = "1"

    @Option(
        name: .customLong("health-failures"), parsing: .unconditional,
        help: ArgumentHelp("Failed health checks in a row that make a worker unhealthy.", valueName: "N"))
    var healthFailures = 3

    @Option(
        name: .customLong("max-memory"),
        help: ArgumentHelp(
            "Restart a worker whose process tree's resident memory is above SIZE in two samples a second apart, "
                + "e.g. 512M, 2G.", valueName: "SIZE"))
    var maxMemory: String?

    @Option(
        name: .customLong("notify-access"),
        help: ArgumentHelp(
            "Whose READY=1 counts: the worker process itself (main), or any process of its process group (all).",
            valueName: "main|all"))
    var notifyAccess = "main"

    @Option(
        name: .customLong("reload-batch"), parsing: .unconditional,
        help: ArgumentHelp(
            "Workers a reload (R, SIGHUP) replaces at a time; all: every new worker at once, each old one stopped "
                + "as soon as its successor is running.", valueName: "N|all"))
    var reloadBatch = "1"

    @Option(
        name: .customLong("ready-timeout"), parsing: .unconditional,
        help: ArgumentHelp(
            "How long a reload waits for a new worker to be running before it rolls back (default: the wait "
                + "timeout).", valueName: "SECONDS"))
    var readyTimeout: String?

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "A socket corral binds and hands to every worker as fd 3, 4, … (LISTEN_FDS, LISTEN_FDNAMES); "
                + "repeatable.", valueName: "[NAME=]HOST:PORT|[NAME=]unix:PATH"))
    var listen: [String] = []

    @Option(
        name: .customLong("control"),
        help: ArgumentHelp(
            "The control socket for corral ctl and corral attach (default: $XDG_RUNTIME_DIR/corral/<pid>.sock, "
                + "or /tmp/corral-<uid>/<pid>.sock).", valueName: "PATH"))
    var control: String?

    @Flag(
        name: .customLong("no-control"), help: "No control socket: corral ctl and corral attach cannot reach this run.")
    var noControl = false

    @Option(
        name: .customLong("log-lines"), parsing: .unconditional,
        help: ArgumentHelp("Lines of output the dashboard keeps per process (default 10000).", valueName: "N"))
    var logLines = 10_000

    @Option(
        name: .customLong("log-bytes"),
        help: ArgumentHelp(
            "Bytes of output the dashboard keeps per process, e.g. 2M (default), 512K.", valueName: "SIZE"))
    var logBytes = "2M"

    @Option(
        name: .customLong("log-total"),
        help: ArgumentHelp(
            "Bytes of output the dashboard keeps in all, shared by the processes (default 64M).", valueName: "SIZE"))
    var logTotal = "64M"

    @Option(help: "Port for the demo server on 127.0.0.1.")
    var port = 8080

    @Flag(
        name: .customLong("keep-running"),
        help: "A process that fails does not stop the others (the default is to stop all).")
    var keepRunning = false

    @Option(
        help: ArgumentHelp(
            "Restart a process that ends unasked: no (fail-fast), on-failure (non-zero exit or a signal "
                + "corral did not send), always.", valueName: "no|on-failure|always"))
    var restart = "no"

    @Option(
        name: .customLong("restart-delay"), parsing: .unconditional,
        help: ArgumentHelp(
            "Delay before the first restart, doubled for each next one (±25 % jitter).", valueName: "SECONDS"))
    var restartDelay = "0.1"

    @Option(
        name: .customLong("restart-max-delay"), parsing: .unconditional,
        help: ArgumentHelp("The longest delay between restarts.", valueName: "SECONDS"))
    var restartMaxDelay = "30"

    @Option(
        name: .customLong("restart-reset"), parsing: .unconditional,
        help: ArgumentHelp(
            "A process running this long makes its next restart a first one again (at least 1).", valueName: "SECONDS"))
    var restartReset = "10"

    @Option(
        name: .customLong("max-restarts"), parsing: .unconditional,
        help: ArgumentHelp(
            "Restarts allowed within --restart-window; one more unasked end gives up (crash loop).", valueName: "N"))
    var maxRestarts = 5

    @Option(
        name: .customLong("restart-window"), parsing: .unconditional,
        help: ArgumentHelp("The window --max-restarts counts restarts in.", valueName: "SECONDS"))
    var restartWindow = "60"

    @Flag(
        name: .customLong("no-tui"), help: "Headless: one line per event, children's output prefixed with their name.")
    var noTUI = false

    @Flag(help: "Headless: one JSON object per line (see the README for the schema).")
    var json = false

    @Flag(
        name: .customLong("exit-on-stop"),
        help: "The dashboard exits once the server stopped, even after a failure (else it waits for a key).")
    var exitOnStop = false

    @Argument(
        parsing: .postTerminator,
        help: ArgumentHelp("The command to run as each worker, after --.", valueName: "COMMAND"))
    var command: [String] = []

    /// Parses `arguments` (without the program name): the options before the first `--` by
    /// argument-parser, the command after it taken as it is, so that a command with 100,000
    /// arguments costs no more than copying them. Validates the whole.
    static func parse(splitting arguments: [String]) throws -> CorralCommand {
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var command = try parse(Array(arguments[..<terminator]))
        if terminator < arguments.endIndex { command.command = Array(arguments[(terminator + 1)...]) }
        _ = try command.settings(terminal: TerminalFacts.current)
        return command
    }

    /// The validated settings; the display falls back to headless when there is no terminal.
    func settings(terminal: TerminalFacts) throws -> ConsoleSettings {
        let program: ConsoleSettings.Program
        if command.isEmpty {
            guard (1...65535).contains(port) else {
                throw ValidationError("--port must be between 1 and 65535 (got \(port))")
            }
            program = .demo(port: port)
        } else {
            do {
                program = .command(command, readiness: try Readiness(parsing: ready))
            } catch {
                throw ValidationError("--ready: \(error.problem)")
            }
        }
        let count = workers ?? (command.isEmpty ? 4 : 1)
        guard (1...SupervisorConfiguration.maximumWorkers).contains(count) else {
            throw ValidationError(
                "--workers must be between 1 and \(SupervisorConfiguration.maximumWorkers) (got \(count))")
        }
        for extra in extras where extra.allSatisfy({ $0 == " " || $0 == "\t" }) {
            throw ValidationError("--extra needs a command, e.g. --extra 'python3 metrics.py'")
        }
        let (restartPolicy, backoff) = try restartSettings()
        guard let access = NotifyAccess(rawValue: notifyAccess) else {
            throw ValidationError("--notify-access must be main or all (got '\(notifyAccess)')")
        }
        var listens: [ListenSpec] = []
        for (position, text) in listen.enumerated() {
            do {
                listens.append(try ListenSpec(parsing: text, position: position))
            } catch {
                throw ValidationError(error.description)
            }
        }
        var names: Set<String> = []
        for spec in listens where !names.insert(spec.name).inserted {
            throw ValidationError(
                "--listen: the name '\(spec.name)' is given twice; each socket needs a name of its own (LISTEN_FDNAMES)"
            )
        }
        if !listens.isEmpty, command.isEmpty {
            throw ValidationError("--listen hands sockets to a command's workers: give the command after --")
        }
        var settings = ConsoleSettings(
            program: program, workers: count, extras: extras, stopSignals: try Self.parseSignals(stopSignals),
            waitTimeout: try Self.parseTimeout(waitTimeout), failurePolicy: keepRunning ? .keepRunning : .stopAll,
            display: json ? .json : (noTUI || !terminal.canShowDashboard ? .log : .dashboard), exitOnStop: exitOnStop,
            restartPolicy: restartPolicy, restartBackoff: backoff, listens: listens,
            reloadBatch: try reloadBatchValue(),
            readyTimeout: try readyTimeoutValue(), notifyAccess: access)
        settings.readiness = try readinessSettings()
        settings.health = try healthSettings()
        settings.maxMemory = try maxMemory.map { try Self.parseSize($0, option: "--max-memory") }
        if command.isEmpty, settings.health != nil || settings.maxMemory != nil {
            throw ValidationError("--health and --max-memory watch a command's workers: give the command after --")
        }
        settings.control = try controlSetting()
        settings.logLimits = try logLimits()
        return settings
    }

    /// `--health` and its companions, validated.
    private func healthSettings() throws -> HealthCheck? {
        guard let health else { return nil }
        let probe: Probe
        do {
            guard let parsed = try Probe(parsing: health, field: "health") else {
                throw ValidationError(
                    "--health must be tcp:HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND (got '\(health)')")
            }
            try parsed.validate(field: "health")
            probe = parsed
        } catch let error as ConfigurationError {
            throw ValidationError("--health: \(error.problem)")
        }
        let interval = try Self.parseSeconds(healthInterval, option: "--health-interval")
        let timeout = try Self.parseSeconds(healthTimeout, option: "--health-timeout")
        guard interval >= .milliseconds(10) else {
            throw ValidationError("--health-interval must be at least 0.01 seconds (got \(healthInterval))")
        }
        guard timeout >= .milliseconds(10) else {
            throw ValidationError("--health-timeout must be at least 0.01 seconds (got \(healthTimeout))")
        }
        guard (1...1000).contains(healthFailures) else {
            throw ValidationError("--health-failures must be between 1 and 1000 (got \(healthFailures))")
        }
        return HealthCheck(probe, interval: interval, timeout: timeout, failures: healthFailures)
    }

    /// `--log-lines`, `--log-bytes`, `--log-total`, validated.
    private func logLimits() throws -> LogBook.Limits {
        guard (1...10_000_000).contains(logLines) else {
            throw ValidationError("--log-lines must be between 1 and 10000000 (got \(logLines))")
        }
        let perProcess = try Self.parseSize(logBytes, option: "--log-bytes")
        let total = try Self.parseSize(logTotal, option: "--log-total")
        guard total >= perProcess else {
            throw ValidationError("--log-total (\(logTotal)) must be at least --log-bytes (\(logBytes))")
        }
        return LogBook.Limits(linesPerProcess: logLines, bytesPerProcess: perProcess, totalBytes: total)
    }

    /// A size in bytes: `4096`, `512K`, `2M`, `1G` (powers of 1024; `KiB`, `MB` and the like too),
    /// from 1 KiB to 64 GiB.
    static func parseSize(_ text: String, option: String) throws -> Int {
        let trimmed = text.filter { !$0.isWhitespace }.uppercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        var unit = Substring(trimmed.dropFirst(digits.count))
        if unit.hasSuffix("IB") { unit = unit.dropLast(2) } else if unit.hasSuffix("B") { unit = unit.dropLast() }
        let scale: Double
        switch unit {
        case "": scale = 1
        case "K": scale = 1024
        case "M": scale = 1024 * 1024
        case "G": scale = 1024 * 1024 * 1024
        default: throw ValidationError("\(option) must be a size like 512K, 2M or 1G (got '\(text)')")
        }
        guard let value = Double(digits), value.isFinite else {
            throw ValidationError("\(option) must be a size like 512K, 2M or 1G (got '\(text)')")
        }
        let bytes = value * scale
        guard bytes >= 1024, bytes <= 64 * 1024 * 1024 * 1024 else {
            throw ValidationError("\(option) must be between 1K and 64G (got '\(text)')")
        }
        return Int(bytes)
    }

    /// `--control PATH` or `--no-control`, validated.
    private func controlSetting() throws -> ConsoleSettings.Control {
        guard let control else { return noControl ? .off : .defaultPath }
        guard !noControl else { throw ValidationError("--control and --no-control exclude each other: give one") }
        guard !control.isEmpty, control.utf8.count <= 107 else {
            throw ValidationError("--control needs a socket path of 1 to 107 bytes (got \(control.utf8.count))")
        }
        return .path(control)
    }

    /// `--ready-after`, `--probe-interval` and `--probe-timeout`, validated.
    private func readinessSettings() throws -> ConsoleSettings.ReadinessSettings {
        let interval = try Self.parseSeconds(probeInterval, option: "--probe-interval")
        let timeout = try Self.parseSeconds(probeTimeout, option: "--probe-timeout")
        guard interval >= .milliseconds(10) else {
            throw ValidationError("--probe-interval must be at least 0.01 seconds (got \(probeInterval))")
        }
        guard timeout >= .milliseconds(10) else {
            throw ValidationError("--probe-timeout must be at least 0.01 seconds (got \(probeTimeout))")
        }
        return ConsoleSettings.ReadinessSettings(
            readyAfter: try readyAfter.map { try Self.parseSeconds($0, option: "--ready-after") },
            probeInterval: interval, probeTimeout: timeout)
    }

    /// `--reload-batch`: a count, or `all` (every worker at once).
    private func reloadBatchValue() throws -> Int {
        if reloadBatch == "all" { return SupervisorConfiguration.reloadAll }
        guard let count = Int(reloadBatch), count >= 1 else {
            throw ValidationError("--reload-batch must be a number, 1 or more, or all (got '\(reloadBatch)')")
        }
        return count
    }

    /// `--ready-timeout`, validated.
    private func readyTimeoutValue() throws -> Duration? {
        guard let readyTimeout else { return nil }
        let value = try Self.parseSeconds(readyTimeout, option: "--ready-timeout")
        guard value > .zero else {
            throw ValidationError("--ready-timeout must be more than 0 seconds (got \(readyTimeout))")
        }
        return value
    }

    /// The restart policy and backoff from `--restart` and its companions.
    private func restartSettings() throws -> (RestartPolicy, RestartBackoff) {
        guard let policy = RestartPolicy(rawValue: restart) else {
            throw ValidationError("--restart must be no, on-failure or always (got '\(restart)')")
        }
        let delay = try Self.parseSeconds(restartDelay, option: "--restart-delay")
        let maxDelay = try Self.parseSeconds(restartMaxDelay, option: "--restart-max-delay")
        let reset = try Self.parseSeconds(restartReset, option: "--restart-reset")
        let window = try Self.parseSeconds(restartWindow, option: "--restart-window")
        guard maxDelay >= delay else {
            throw ValidationError(
                "--restart-max-delay (\(restartMaxDelay)) must be at least --restart-delay (\(restartDelay))")
        }
        guard reset >= .seconds(1) else {
            throw ValidationError("--restart-reset must be at least 1 second (got \(restartReset))")
        }
        guard maxRestarts >= 0 else {
            throw ValidationError(
                "--max-restarts cannot be negative (got \(maxRestarts)); use 0 to never restart twice")
        }
        guard window > .zero else {
            throw ValidationError("--restart-window must be more than 0 seconds (got \(restartWindow))")
        }
        return (
            policy,
            RestartBackoff(delay: delay, maxDelay: maxDelay, reset: reset, maxRestarts: maxRestarts, window: window)
        )
    }

    /// A number of seconds, 0 up to a week, for `option`.
    static func parseSeconds(_ text: String, option: String) throws -> Duration {
        guard let seconds = Double(text), seconds.isFinite else {
            throw ValidationError("\(option) must be a number of seconds (got '\(text)')")
        }
        guard seconds >= 0 else { throw ValidationError("\(option) cannot be negative (got \(text))") }
        guard seconds <= 7 * 24 * 3600 else { throw ValidationError("\(option) is over a week (\(text) s)") }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    static func parseSignals(_ text: String) throws -> [Signal] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ValidationError("--stop-signals needs signal names, e.g. INT,TERM (got '\(text)')")
        }
        var signals: [Signal] = []
        for name in names {
            guard let signal = Signal(parsing: name) else {
                throw ValidationError("--stop-signals: unknown signal '\(name)'; use names like INT, TERM, HUP, USR1")
            }
            guard signal.isCatchable else {
                throw ValidationError("--stop-signals: \(signal) cannot be caught, so it cannot be forwarded")
            }
            if !signals.contains(signal) { signals.append(signal) }
        }
        return signals
    }

    static func parseTimeout(_ text: String) throws -> Duration? {
        if text.lowercased() == "none" { return nil }
        guard let seconds = Double(text), seconds.isFinite else {
            throw ValidationError("--wait-timeout must be a number of seconds or 'none' (got '\(text)')")
        }
        guard seconds >= 0 else {
            throw ValidationError("--wait-timeout cannot be negative (got \(text)); use 0 for an immediate SIGKILL")
        }
        guard seconds <= 7 * 24 * 3600 else {
            throw ValidationError("--wait-timeout is over a week (\(text) s); use 'none' to wait forever")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Refuses `corral --` with nothing after it (argument-parser cannot see the bare `--`).
    static func checkTerminator(_ arguments: [String]) throws {
        if let terminator = arguments.firstIndex(of: "--"), terminator == arguments.count - 1 {
            throw ValidationError("nothing after --: give the command to run, e.g. corral -- python3 app.py")
        }
    }

    static func main() {
        // `corral ctl|attach|ls …` are clients of a running corral; `corral -- ctl` runs a
        // command named ctl.
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "ctl": runClient(CtlCommand.self, Array(arguments.dropFirst()))
        case "attach": runClient(AttachCommand.self, Array(arguments.dropFirst()))
        case "ls": runClient(LsCommand.self, Array(arguments.dropFirst()))
        default: break
        }
        // Started with 0, 1 or 2 closed, corral's own descriptors (the signal pipe) would land
        // there and be read or written as standard streams: put /dev/null in their place first.
        for fd in STDIN_FILENO...STDERR_FILENO where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            _ = open("/dev/null", O_RDWR)
        }
        // A reader that goes away (`| head -1`) is seen as EPIPE and stops the server
        // gracefully; it must never kill corral. Children get every disposition reset.
        signal(SIGPIPE, SIG_IGN)
        // Three descriptors a child: raise the open-file limit to the hard one, as systemd and
        // most servers do; children start with the original one.
        ResourceLimits.raiseOpenFiles()
        // SIGTTIN / SIGTTOU from another process scale and SIGHUP reloads (unless it is the
        // hangup of corral's terminal): they are read from a signalfd, so they stay blocked in every
        // thread, from before the first one starts. Blocked, the terminal's own job control
        // cannot stop corral either: a read of the terminal in the background fails (EIO).
        var commandSignals = sigset_t()
        sigemptyset(&commandSignals)
        for signal in ConsoleSettings.commandSignals.keys {
            sigaddset(&commandSignals, signal.rawValue)
        }
        pthread_sigmask(SIG_BLOCK, &commandSignals, nil)
        do {
            try checkTerminator(arguments)
            let command = try parse(splitting: arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// Runs a client command (`ctl`, `attach`, `ls`) and exits with its status.
    static func runClient<Client: ParsableCommand>(_ client: Client.Type, _ arguments: [String]) -> Never {
        do {
            var command = try client.parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch let failure as ControlExit {
            FileError.write("corral: \(failure.description)")
            Glibc.exit(failure.status)
        } catch {
            client.exit(withError: error)
        }
    }

    func run() throws {
        let settings = try settings(terminal: TerminalFacts.current)
        let terminal = TerminalFacts.current
        if !noTUI, !json, settings.display == .log, terminal.stdoutIsTerminal, let reason = terminal.whyNoDashboard {
            FileError.write("corral: \(reason): running headless")
        }
        let status = try ConsoleRun(settings: settings).run()
        throw ExitCode(status)
    }
}
