import CorralEngine
import CorralModel
import Glibc

/// Everything the command line decided, validated: what to run and how to show it.
struct ConsoleSettings: Equatable {
    /// What the workers run.
    enum Workload: Equatable {
        /// The built-in HTTP demo on this port.
        case demo(port: Int)
        /// Copies of a command.
        case command([String], readiness: Readiness)
        /// The programs of a project file (a corral.toml or a Procfile); empty until the file
        /// was read (``ProjectRun``).
        case programs([Program], readiness: Readiness, file: String)
    }

    /// How the run is shown.
    enum Display: Equatable {
        /// The ncurses dashboard.
        case dashboard
        /// One line per event.
        case log
        /// One JSON object per line.
        case json
    }

    var program: Workload
    var workers: Int
    var extras: [String]
    var stopSignals: [Signal]
    var waitTimeout: Duration?
    var failurePolicy: FailurePolicy
    var display: Display
    /// The dashboard exits as soon as the server has stopped, even after a failure (which it
    /// otherwise keeps on screen until a key is pressed).
    var exitOnStop = false
    /// `--no-tui`: children's lines begin with the time of day, as event lines do.
    var timestamps = true

    /// `--log-dir` and its rotation.
    struct LogFileSettings: Equatable {
        var directory: String
        var maxSize: Int
        var backups: Int
    }

    /// Log files, when `--log-dir` is given.
    var logFiles: LogFileSettings?
    /// Where `--metrics` serves.
    var metrics: MetricsAddress?
    /// Whether a process that ends unasked is started again, and how restarts are spaced.
    var restartPolicy: RestartPolicy = .no
    var restartBackoff = RestartBackoff()
    /// Sockets to bind and hand to every worker.
    var listens: [ListenSpec] = []

    /// Where the control socket listens.
    enum Control: Equatable {
        /// `$XDG_RUNTIME_DIR/corral/<pid>.sock` or `/tmp/corral-<uid>/<pid>.sock`.
        case defaultPath
        /// `--control PATH`.
        case path(String)
        /// `--no-control`.
        case off
    }

    var control: Control = .defaultPath
    /// How much output the dashboard keeps.
    var logLimits = LogBook.Limits()

    /// The signals whose default action would end corral: the first one that is not a stop
    /// signal stops the server gracefully with the first stop signal, so corral never dies of a
    /// signal it can catch.
    static let terminatingSignals: [Signal] = [
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
        SIGPWR, SIGIO, SIGSTKFLT,
    ].map { Signal(rawValue: $0) }

    /// The signals that ask for a command when another process sends them: SIGTTIN / SIGTTOU
    /// scale up / down (gunicorn's convention), SIGHUP reloads (gunicorn's and nginx's) unless
    /// it is the hangup of the terminal corral was started on.
    static let commandSignals: [Signal: SignalCommand] = [
        Signal(rawValue: SIGTTIN): .scaleUp, Signal(rawValue: SIGTTOU): .scaleDown, .hangup: .reloadUnlessHungUp,
    ]
    /// How many slots a reload replaces at a time, and how long it waits for each to run.
    var reloadBatch = 1
    var readyTimeout: Duration?
    /// Whose `sd_notify` datagrams count for a worker.
    var notifyAccess: NotifyAccess = .main

    /// How long a worker must stay up once ready, and how readiness probes are run.
    struct ReadinessSettings: Equatable {
        /// `--ready-after` (nil: the engine's default for the readiness).
        var readyAfter: Duration?
        var probeInterval: Duration = .milliseconds(100)
        var probeTimeout: Duration = .seconds(1)
    }

    var readiness = ReadinessSettings()
    /// `--health` and its companions.
    var health: HealthCheck?
    /// `--max-memory`, in bytes.
    var maxMemory: Int?

    /// The engine configuration for these settings (the demo's ticker extra comes first).
    func configuration(demoTicker: ExtraProcess?) -> SupervisorConfiguration {
        let worker: ChildProgram
        switch program {
        case .demo: worker = .swiftWorker
        case .command(let arguments, let readiness): worker = .command(arguments, readiness: readiness)
        case .programs(let programs, let readiness, _):
            worker = .command(programs.first?.command ?? [], readiness: readiness)
        }
        let shellExtras = extras.map { ExtraProcess.command(["/bin/sh", "-c", $0]) }
        // A signal chosen as a stop signal stays one.
        let commandSignals = Self.commandSignals
            .filter { !stopSignals.contains($0.key) }
        return SupervisorConfiguration(
            workers: workers, worker: worker, extras: (demoTicker.map { [$0] } ?? []) + shellExtras,
            stopSignals: stopSignals, terminatingSignals: Self.terminatingSignals.filter { commandSignals[$0] == nil },
            ignoredSignals: [Signal(rawValue: SIGTSTP)], waitTimeout: waitTimeout, failurePolicy: failurePolicy,
            reapsOrphans: true, restartPolicy: restartPolicy, restartBackoff: restartBackoff,
            reloadBatch: reloadBatch, readyTimeout: readyTimeout, readyAfter: readiness.readyAfter,
            probeInterval: readiness.probeInterval, probeTimeout: readiness.probeTimeout,
            commandSignals: commandSignals, notifyAccess: notifyAccess, health: health, maxMemory: maxMemory,
            programs: programs)
    }

    /// The programs of a project run (none otherwise).
    var programs: [Program] {
        if case .programs(let programs, _, _) = program { return programs }
        return []
    }
}
