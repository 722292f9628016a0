import ArgumentParser
import CorralDemo
import CorralEngine
import CorralModel
import Glibc
import Logging

/// The `corral` command line: parses and validates options, then runs the demo or a command.
@main
struct CorralCommand: ParsableCommand {
    /// What argument-parser is told of corral: ``fullConfiguration``, but while a run's command
    /// line is parsed, ``runParseConfiguration``.
    static var configuration: CommandConfiguration {
        parsingRun ? runParseConfiguration : fullConfiguration
    }

    /// Set only while words that ask nothing about corral itself (``asksAboutItself(_:)``) are
    /// parsed: argument-parser then looks for no help flags (there are none to find). It looks
    /// for them on every parse, and naming `--help-hidden` prints an enum through reflection: a
    /// tenth of corral's start-up. Errors are described after the parse, from the full
    /// configuration (with its "See 'corral --help'" line). Task-local, so that parses going on
    /// at once (tests) do not see each other's.
    @TaskLocal private static var parsingRun = false

    /// The configuration of a run's parse: the full one without help names.
    private static let runParseConfiguration: CommandConfiguration = {
        var configuration = fullConfiguration
        configuration.helpNames = []
        return configuration
    }()

    /// corral's configuration: its name, usage, version, and when it describes itself, the
    /// help's discussion and the subcommands.
    private static let fullConfiguration: CommandConfiguration = {
        var configuration = CommandConfiguration(
            commandName: "corral",
            abstract: "Run a multi-process server and watch it live.",
            usage: """
                corral [options]                        ./corral.toml, else ./Procfile, else the demo
                  corral [options] -f FILE                the programs of a corral.toml or a Procfile
                  corral [options] -- COMMAND [ARG...]    N copies of any command
                """,
            discussion: describesItself ? HelpText.discussion : "",
            version: CorralVersion.text,
            subcommands: describesItself ? subcommandTypes : [])
        // Argument-parser looks for --generate-completion-script (with a parser of its own, a
        // millisecond) unless the command names a super command: it does on the run path.
        if !describesItself { configuration._superCommandName = "" }
        return configuration
    }()

    /// `ctl`, `attach`, `ls`, `logs`, `check` and `version`.
    static let subcommandTypes: [any ParsableCommand.Type] = [
        CtlCommand.self, AttachCommand.self, LsCommand.self, LogsCommand.self, CheckCommand.self,
        VersionCommand.self,
    ]

    /// The subcommand `word` names, if it does. An option is never one: a run's start does
    /// not build every subcommand's configuration (their names come from there).
    static func subcommand(named word: String?) -> (any ParsableCommand.Type)? {
        guard let word, !word.hasPrefix("-") else { return nil }
        return subcommandTypes.first { $0._commandName == word }
    }

    /// Whether this invocation runs a subcommand or describes corral (help, the manual's dump,
    /// completion scripts). Otherwise argument-parser is told neither of the subcommands (it
    /// builds every subcommand's arguments on each parse: a millisecond of corral's start-up)
    /// nor of the help's long discussion (built from the key bindings).
    private static let describesItself = asksAboutItself(CommandLine.arguments.dropFirst().prefix { $0 != "--" })

    /// Whether `words` (corral's own: what comes before `--`) ask for the help, the manual's
    /// dump, a completion script or the version, or name a subcommand.
    static func asksAboutItself(_ words: ArraySlice<String>) -> Bool {
        let describing: Set = [
            "help", "--help", "-h", "--help-hidden", "--experimental-dump-help", "--generate-completion-script",
            "--version",
        ]
        // A cluster of short options could hold -h (`-wh`): described as argument-parser would.
        let mayHoldShortHelp = { (word: String) in !word.hasPrefix("--") && word.hasPrefix("-") && word.contains("h") }
        return words.contains { describing.contains($0) || mayHoldShortHelp($0) }
            || subcommand(named: words.first) != nil
    }

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
        help: ArgumentHelp(
            "Failed health checks in a row that make a worker unhealthy. (default: 3)", valueName: "N"))
    var healthFailuresGiven: Int?

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
        help: ArgumentHelp("Lines of output the dashboard keeps per process. (default: 10000)", valueName: "N"))
    var logLinesGiven: Int?

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

    @Option(
        name: .customLong("port"),
        help: ArgumentHelp("Port for the demo server on 127.0.0.1. (default: 8080)", valueName: "port"))
    var portGiven: Int?

    // The project file options (ProjectFileSettings): declared here, not as an option group
    // (ProjectFileOptions is `check`'s), which costs the parse four conformance scans.
    @Option(name: ProjectFileSettings.fileNames, help: ProjectFileSettings.fileHelp)
    var projectFileGiven: String?

    @Option(name: ProjectFileSettings.envFileNames, help: ProjectFileSettings.envFileHelp)
    var envFiles: [String] = []

    @Flag(name: ProjectFileSettings.noEnvFileNames, help: ProjectFileSettings.noEnvFileHelp)
    var noEnvFile = false

    @Option(name: ProjectFileSettings.formationNames, help: ProjectFileSettings.formationHelp)
    var formation: String?

    @Option(name: ProjectFileSettings.portBaseNames, help: ProjectFileSettings.portBaseHelp)
    var portBaseGiven: Int?

    /// The project file options' values.
    var project: ProjectFileSettings {
        ProjectFileSettings(
            file: projectFileGiven, envFiles: envFiles, noEnvFile: noEnvFile, formation: formation,
            portBaseGiven: portBaseGiven)
    }

    @Flag(help: "Run the built-in demo even where a corral.toml or a Procfile is.")
    var demo = false

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
            "Restarts allowed within --restart-window; one more unasked end gives up (crash loop). (default: 5)",
            valueName: "N"))
    var maxRestartsGiven: Int?

    @Option(
        name: .customLong("restart-window"), parsing: .unconditional,
        help: ArgumentHelp("The window --max-restarts counts restarts in.", valueName: "SECONDS"))
    var restartWindow = "60"

    @Flag(
        name: .customLong("no-tui"), help: "Headless: one line per event, children's output prefixed with their name.")
    var noTUI = false

    @Flag(help: "Headless: one JSON object per line (see the README for the schema).")
    var json = false

    @Option(
        name: .customLong("log-dir"),
        help: ArgumentHelp(
            "Write each program's output to DIR/PROGRAM.log and corral's event lines to DIR/corral.log (made 0750).",
            valueName: "DIR"))
    var logDirectory: String?

    @Option(
        name: .customLong("log-max-size"),
        help: ArgumentHelp("Rotate a log file before it grows past SIZE (e.g. 10M, 512K).", valueName: "SIZE"))
    var logMaxSize = "10M"

    @Option(
        name: .customLong("log-backups"), parsing: .unconditional,
        help: ArgumentHelp("Rotated files kept per log (web.log.1 … web.log.N). (default: 5)", valueName: "N"))
    var logBackupsGiven: Int?

    @Option(
        name: .customLong("metrics"),
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics and a health check at /healthz "
                + "(HOST: an IP address or localhost; :PORT: every interface).", valueName: "HOST:PORT"))
    var metrics: String?

    @Flag(
        name: .customLong("no-timestamps"),
        help: "Headless: children's lines without the time of day before their name (event lines keep theirs).")
    var noTimestamps = false

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
        try parseWithSettings(splitting: arguments).command
    }

    /// ``parse(splitting:)``, with the settings its validation made (the run's, unless a
    /// project file changes the options).
    static func parseWithSettings(splitting arguments: [String]) throws -> (
        command: CorralCommand, settings: ConsoleSettings
    ) {
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        let options = Array(arguments[..<terminator])
        let parsed: any ParsableCommand
        do {
            parsed = try $parsingRun.withValue(!asksAboutItself(options[...])) { try parseAsRoot(options) }
        } catch {
            // `corral -w 2 ls`: a subcommand after options is an argument corral does not take.
            if let name = options.first(where: { word in subcommandTypes.contains { $0._commandName == word } }) {
                throw ValidationError("\(name) is a command of its own: put it first (corral \(name) …)")
            }
            throw error
        }
        guard var command = parsed as? CorralCommand else {
            let name = type(of: parsed)._commandName
            // `corral [options] help`: the help (thrown as a help request).
            if name == "help" { _ = try parse(options) }
            throw ValidationError("\(name) is a command of its own: put it first (corral \(name) …)")
        }
        if terminator < arguments.endIndex { command.command = Array(arguments[(terminator + 1)...]) }
        return (command, try command.settings(terminal: TerminalFacts.current))
    }

    /// Refuses `corral --` with nothing after it (argument-parser cannot see the bare `--`).
    static func checkTerminator(_ arguments: [String]) throws {
        if let terminator = arguments.firstIndex(of: "--"), terminator == arguments.count - 1 {
            throw ValidationError("nothing after --: give the command to run, e.g. corral -- python3 app.py")
        }
    }

    static func main() {
        // The Swift runtime reads the command line from /proc/self/cmdline: without /proc
        // mounted corral sees none at all (not even its name) and would start the demo.
        guard !CommandLine.arguments.isEmpty else {
            FileError.write("corral: cannot read its own command line: is /proc mounted? corral needs it")
            Glibc.exit(ConsoleRun.systemErrorStatus)
        }
        // `corral ctl|attach|ls …` are clients of a running corral, `corral check` reads a
        // project file; `corral -- ctl` runs a command named ctl.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first {
            if first == "help" { runHelp(arguments) }
            if let client = subcommand(named: first) {
                runClient(client, Array(arguments.dropFirst()))
            }
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
        // A run's watchdog starts while the arguments are parsed (its exec takes the other
        // processor); help, the version and the subcommands need none.
        if !describesItself { Supervisor.startWatchdogEarly() }
        do {
            try checkTerminator(arguments)
            var (command, settings) = try parseWithSettings(splitting: arguments)
            var programs: [CorralEngine.Program] = []
            var source: ProgramSource?
            if let project = command.projectFile {
                (command, programs, _) = try ProjectRun.prepare(project, command: command, arguments: arguments)
                source = ProgramSource(name: project) { ProjectRun.reread(project, arguments: arguments) }
                settings = try command.settings(terminal: TerminalFacts.current)
            }
            // Exit at once: argument-parser's exit(withError:) would build the help text first.
            Glibc.exit(try command.run(programs: programs, source: source, settings: settings))
        } catch let failure as ControlExit {
            FileError.write(failure.prefixed ? "corral: \(failure.description)" : failure.description)
            Glibc.exit(failure.status)
        } catch {
            exit(withError: error)
        }
    }

    /// Runs a subcommand (`ctl`, `attach`, `ls`, `logs`, `check`, `version`) as a command of its
    /// own (corral's options are not its options) and exits with its status.
    static func runClient(_ client: any ParsableCommand.Type, _ arguments: [String]) -> Never {
        do {
            var command = try client.parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch let failure as ControlExit {
            FileError.write(failure.prefixed ? "corral: \(failure.description)" : failure.description)
            Glibc.exit(failure.status)
        } catch {
            client.exit(withError: error)
        }
    }

    /// `corral help [SUBCOMMAND…]`: the help of corral or of a subcommand.
    static func runHelp(_ arguments: [String]) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch {
            exit(withError: error)
        }
    }

    func run() throws {
        throw ExitCode(try run(programs: [], source: nil, settings: settings(terminal: TerminalFacts.current)))
    }

    /// Runs the server with `settings` (these options' own): a project's `programs` (read by
    /// ``ProjectRun``, again from `source` on each reload), else what the options say.
    func run(programs: [CorralEngine.Program], source: ProgramSource?, settings: ConsoleSettings) throws -> Int32 {
        var settings = settings
        if case .programs(_, let readiness, let file) = settings.program {
            settings.program = .programs(programs, readiness: readiness, file: file)
            settings.workers = programs.reduce(0) { $0 + $1.workers }
        }
        let terminal = TerminalFacts.current
        if !noTUI, !json, settings.display == .log, terminal.stdoutIsTerminal, let reason = terminal.whyNoDashboard {
            FileError.write("corral: \(reason): running headless")
        }
        return try ConsoleRun(settings: settings, programSource: source).run()
    }
}

// MARK: - What argument-parser reflects

extension CorralCommand: CustomReflectable {
    /// The stored properties, in declaration order (the help's), as argument-parser finds its
    /// options: by reflecting an instance, twice a parse. Without this mirror the runtime's
    /// reflection resolved each property's type from its mangled name every time, and the
    /// standard library's `Mirror` looked up eleven conformances by scanning the whole binary's
    /// records: a quarter of the instructions of corral's start-up (BENCHMARKS.md, "Start-up").
    /// Declared here because the wrappers' storage is private to this file. A property left out
    /// fails every parse (argument-parser finds no value to decode it from), and a unit test
    /// checks the list against the type's own fields.
    var customMirror: Mirror {
        let children: [Mirror.Child] = [
            ("_workers", _workers),
            ("_extras", _extras),
            ("_stopSignals", _stopSignals),
            ("_waitTimeout", _waitTimeout),
            ("_ready", _ready),
            ("_readyAfter", _readyAfter),
            ("_probeInterval", _probeInterval),
            ("_probeTimeout", _probeTimeout),
            ("_health", _health),
            ("_healthInterval", _healthInterval),
            ("_healthTimeout", _healthTimeout),
            ("_healthFailuresGiven", _healthFailuresGiven),
            ("_maxMemory", _maxMemory),
            ("_notifyAccess", _notifyAccess),
            ("_reloadBatch", _reloadBatch),
            ("_readyTimeout", _readyTimeout),
            ("_listen", _listen),
            ("_control", _control),
            ("_noControl", _noControl),
            ("_logLinesGiven", _logLinesGiven),
            ("_logBytes", _logBytes),
            ("_logTotal", _logTotal),
            ("_portGiven", _portGiven),
            ("_projectFileGiven", _projectFileGiven),
            ("_envFiles", _envFiles),
            ("_noEnvFile", _noEnvFile),
            ("_formation", _formation),
            ("_portBaseGiven", _portBaseGiven),
            ("_demo", _demo),
            ("_keepRunning", _keepRunning),
            ("_restart", _restart),
            ("_restartDelay", _restartDelay),
            ("_restartMaxDelay", _restartMaxDelay),
            ("_restartReset", _restartReset),
            ("_maxRestartsGiven", _maxRestartsGiven),
            ("_restartWindow", _restartWindow),
            ("_noTUI", _noTUI),
            ("_json", _json),
            ("_logDirectory", _logDirectory),
            ("_logMaxSize", _logMaxSize),
            ("_logBackupsGiven", _logBackupsGiven),
            ("_metrics", _metrics),
            ("_noTimestamps", _noTimestamps),
            ("_exitOnStop", _exitOnStop),
            ("_command", _command),
        ]
        return Mirror(self, children: children, displayStyle: .struct)
    }
}
