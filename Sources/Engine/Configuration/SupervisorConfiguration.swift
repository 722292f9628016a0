import Glibc
import Logging

/// Everything the supervisor needs to run a server. Checked by ``validate()`` before anything is
/// spawned; every field has a documented default.
public struct SupervisorConfiguration: Sendable {
    /// The largest accepted ``workers`` count.
    public static let maximumWorkers = 4096
    /// A ``reloadBatch`` that replaces every worker at once.
    public static let reloadAll = Int.max

    /// Number of worker processes, 1...``maximumWorkers``. Default 1.
    public var workers: Int
    /// What each worker runs. Default: the running binary re-executed as a Swift worker.
    public var worker: ChildProgram
    /// Extra processes started after the workers, with the indices after theirs. Default none.
    public var extras: [ExtraProcess]
    /// Signals that stop the server; the supervisor forwards the first one it receives to every
    /// child. Default `[SIGINT, SIGTERM]`. Must not be empty, nor hold `SIGKILL`/`SIGSTOP`.
    public var stopSignals: [Signal]
    /// Signals that would end the supervisor's process but are not stop signals: caught for the
    /// run, the first one stops the server gracefully with ``defaultStopSignal`` (a `SIGHUP`
    /// from a closed terminal, a `SIGTERM` from `docker stop` when only `INT` stops). Default
    /// `[SIGINT, SIGTERM, SIGHUP]`; stop signals listed here count as stop signals.
    public var terminatingSignals: [Signal]
    /// Signals caught for the run and only reported (``EngineEvent/signalIgnored(_:)``), e.g.
    /// `SIGTSTP`, so that Ctrl-Z cannot suspend the supervisor while its workers run on.
    /// Default none.
    public var ignoredSignals: [Signal]
    /// How long the children get to end after the stop signal before their process groups are
    /// sent `SIGKILL`; nil waits forever (as aiotools' `wait_timeout=None`). Default 10 s.
    public var waitTimeout: Duration?
    /// How long a child may take from spawn to `READY=1` before it counts as failed in init;
    /// nil for no limit (the default).
    public var initTimeout: Duration?
    /// What a child failure does to the others. Default ``FailurePolicy/stopAll``.
    public var failurePolicy: FailurePolicy
    /// Variables added to every child's environment (after the inherited ones).
    public var environment: [String: String]
    /// Where the engine logs its decisions (metadata: `slot`, `pid`). It never prints.
    public var logger: Logger
    /// How Swift workers are started. Default ``SpawnStrategy/zygote``.
    public var spawnStrategy: SpawnStrategy
    /// Adopt and reap orphaned descendants (`PR_SET_CHILD_SUBREAPER`, and `SIGCHLD` handled for
    /// the run), so processes the children leave behind do not linger as zombies. Always on
    /// when the supervisor is PID 1 (a container's init). Default off: a library should not
    /// take `SIGCHLD` from its host unasked.
    public var reapsOrphans: Bool

    /// Whether a process that ends unasked is started again in its slot. Default
    /// ``RestartPolicy/no``: an unasked end is handled by ``failurePolicy`` (fail-fast).
    public var restartPolicy: RestartPolicy
    /// How restarts are spaced, and when a crash-looping slot gives up.
    public var restartBackoff: RestartBackoff
    /// Signals that ask for a command when another process sends them (gunicorn's `SIGHUP`
    /// reload, `SIGTTIN` / `SIGTTOU` scale). The supervisor reads them from a signalfd, so they
    /// must be blocked in every thread of the process: block them before starting any thread.
    /// Signals the kernel sends (a terminal's job control) are not commands. Default none.
    public var commandSignals: [Signal: SignalCommand]
    /// Whose `sd_notify` datagrams count for a child. Default ``NotifyAccess/main``.
    public var notifyAccess: NotifyAccess
    /// How many slots a rolling reload replaces at a time. Default 1; ``reloadAll`` starts
    /// every worker's next generation at once, each old process stopping as soon as its
    /// successor is running.
    public var reloadBatch: Int
    /// How long a reload waits for a new generation to be running before it rolls back; nil
    /// (the default) means the wait timeout, or forever without one.
    public var readyTimeout: Duration?

    /// How long a worker must stay up once its readiness is met before it counts as running
    /// (supervisord's `startsecs`): a worker that ends before is an init failure, and a reload
    /// stops no old process before its successor has been up this long. nil (the default)
    /// means 1 s for ``Readiness/onExec`` and 0 for every other readiness and Swift workers.
    public var readyAfter: Duration?
    /// How often a failed readiness probe is tried again. Default 0.1 s.
    public var probeInterval: Duration
    /// How long one readiness probe may take before it counts as failed (a probe command is
    /// then `SIGKILL`ed). Default 1 s.
    public var probeTimeout: Duration
    /// A check of every running worker on a period; one that fails it ``HealthCheck/failures``
    /// times in a row is restarted (reason ``SignalReason/unhealthy``), whatever
    /// ``restartPolicy`` says. Default none.
    public var health: HealthCheck?
    /// A worker whose process tree's resident memory is above this many bytes in two samples
    /// in a row, a second apart, is restarted (reason ``SignalReason/memory``). Default none.
    public var maxMemory: Int?
    /// The programs of a run of several (a Procfile's): their processes are the worker slots,
    /// program after program; ``workers`` must then be their total and ``worker`` a command
    /// (its readiness applies to every program). Default none: the workers and extras above.
    public var programs: [Program]
    /// Where a run of programs' definitions come from (their file): a reload without program
    /// names (``SupervisorCommand/reload``, a reload signal) reads them again and applies the
    /// difference (``SupervisorCommand/update(_:)``). Default none: a reload replaces every
    /// worker.
    public var programSource: ProgramSource?

    /// Creates a configuration; see each property for its meaning and default.
    public init(
        workers: Int = 1,
        worker: ChildProgram = .swiftWorker,
        extras: [ExtraProcess] = [],
        stopSignals: [Signal] = [.interrupt, .terminate],
        terminatingSignals: [Signal] = [.interrupt, .terminate, .hangup],
        ignoredSignals: [Signal] = [],
        waitTimeout: Duration? = .seconds(10),
        initTimeout: Duration? = nil,
        failurePolicy: FailurePolicy = .stopAll,
        environment: [String: String] = [:],
        logger: Logger = Logger(label: "corral"),
        spawnStrategy: SpawnStrategy = .zygote,
        reapsOrphans: Bool = false,
        restartPolicy: RestartPolicy = .no,
        restartBackoff: RestartBackoff = RestartBackoff(),
        reloadBatch: Int = 1,
        readyTimeout: Duration? = nil,
        readyAfter: Duration? = nil,
        probeInterval: Duration = .milliseconds(100),
        probeTimeout: Duration = .seconds(1),
        commandSignals: [Signal: SignalCommand] = [:],
        notifyAccess: NotifyAccess = .main,
        health: HealthCheck? = nil,
        maxMemory: Int? = nil,
        programs: [Program] = []
    ) {
        self.programs = programs
        self.workers = workers
        self.worker = worker
        self.extras = extras
        self.stopSignals = stopSignals
        self.terminatingSignals = terminatingSignals
        self.ignoredSignals = ignoredSignals
        self.waitTimeout = waitTimeout
        self.initTimeout = initTimeout
        self.failurePolicy = failurePolicy
        self.environment = environment
        self.logger = logger
        self.spawnStrategy = spawnStrategy
        self.reapsOrphans = reapsOrphans
        self.restartPolicy = restartPolicy
        self.restartBackoff = restartBackoff
        self.reloadBatch = reloadBatch
        self.readyTimeout = readyTimeout
        self.readyAfter = readyAfter
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.commandSignals = commandSignals
        self.notifyAccess = notifyAccess
        self.health = health
        self.maxMemory = maxMemory
    }

    /// ``readyAfter`` as it applies to the workers: its default resolved.
    public var effectiveReadyAfter: Duration {
        readyAfter ?? Self.defaultReadyAfter(workerReadiness)
    }

    /// How long a process must stay up once ready when nothing says: 1 s when its readiness is
    /// met at exec (nothing else is known of it), else none.
    static func defaultReadyAfter(_ readiness: Readiness) -> Duration {
        readiness == .onExec ? .seconds(1) : .zero
    }

    /// The name of the process in `slot`: `web.1` in a run of programs, else `worker.N` or
    /// `extra.N` (slots added by scaling are workers).
    public func processName(ofSlot slot: Int) -> ProcessName {
        var first = 0
        for program in programs {
            if slot < first + program.workers { return ProcessName(program: program.name, index: slot - first) }
            first += program.workers
        }
        let isExtra = programs.isEmpty && slot >= workers && slot < workers + extras.count
        return ProcessName(program: isExtra ? "extra" : "worker", index: slot)
    }

    /// Whether this run adopts orphans: asked for, or this process is PID 1.
    var adoptsOrphans: Bool { reapsOrphans || Syscalls.processID == 1 }

    /// The signals the supervisor's signal pipe watches: the stop, terminating and ignored
    /// signals, and `SIGCHLD` when it adopts orphans.
    var watchedSignals: [Signal] {
        var watched = stopSignals
        for signal in terminatingSignals + ignoredSignals where !watched.contains(signal) { watched.append(signal) }
        return watched + reapingSignals
    }

    /// The signals a run watches even when its host handles the others: `SIGCHLD` when it
    /// adopts orphans.
    var reapingSignals: [Signal] { adoptsOrphans ? [Signal(rawValue: SIGCHLD)] : [] }

    /// The signal used when the server stops for another reason than a received stop signal
    /// (a failure, a stop command): `SIGTERM` if it is a stop signal, else the first one listed.
    public var defaultStopSignal: Signal {
        stopSignals.contains(.terminate) ? .terminate : (stopSignals.first ?? .terminate)
    }

    /// Total number of slots: workers, then extras.
    public var slotCount: Int { workers + extras.count }

    /// Throws a ``ConfigurationError`` naming the first value that cannot work.
    public func validate() throws(ConfigurationError) {
        guard workers >= 1 && workers <= Self.maximumWorkers else {
            throw ConfigurationError(
                field: "workers", problem: "\(workers) is out of range; use 1 to \(Self.maximumWorkers)")
        }
        guard !stopSignals.isEmpty else {
            throw ConfigurationError(field: "stop signals", problem: "the list is empty; name at least one, e.g. TERM")
        }
        for signal in stopSignals {
            guard signal.rawValue >= 1 && signal.rawValue <= Signal.maximum else {
                throw ConfigurationError(field: "stop signals", problem: "\(signal.rawValue) is not a signal number")
            }
            guard signal.isCatchable else {
                throw ConfigurationError(
                    field: "stop signals", problem: "\(signal) cannot be caught, so it cannot be forwarded")
            }
            guard signal != .brokenPipe && signal.rawValue != 17 else {
                throw ConfigurationError(field: "stop signals", problem: "\(signal) is not usable as a stop signal")
            }
        }
        for signal in terminatingSignals + ignoredSignals {
            guard signal.rawValue >= 1 && signal.rawValue <= Signal.maximum, signal.isCatchable,
                signal.rawValue != SIGCHLD
            else {
                throw ConfigurationError(field: "terminating or ignored signals", problem: "\(signal) cannot be caught")
            }
        }
        guard Set(stopSignals).count == stopSignals.count else {
            throw ConfigurationError(field: "stop signals", problem: "a signal is listed twice")
        }
        if let waitTimeout, waitTimeout < .zero {
            throw ConfigurationError(
                field: "wait timeout", problem: "\(waitTimeout) is negative; use 0 or more, or none")
        }
        if let initTimeout, initTimeout <= .zero {
            throw ConfigurationError(field: "init timeout", problem: "\(initTimeout) must be positive, or none")
        }
        try restartBackoff.validate()
        try validatePrograms()
        for signal in commandSignals.keys {
            guard signal.isCatchable, signal.rawValue != SIGCHLD else {
                throw ConfigurationError(field: "command signals", problem: "\(signal) cannot be used for a command")
            }
            guard !stopSignals.contains(signal), !terminatingSignals.contains(signal), !ignoredSignals.contains(signal)
            else {
                throw ConfigurationError(
                    field: "command signals", problem: "\(signal) is also a stop, terminating or ignored signal")
            }
        }
        guard reloadBatch >= 1 else {
            throw ConfigurationError(field: "reload batch", problem: "\(reloadBatch) must be 1 or more")
        }
        if let readyTimeout, readyTimeout <= .zero {
            throw ConfigurationError(field: "ready timeout", problem: "\(readyTimeout) must be positive, or none")
        }
        if let readyAfter, readyAfter < .zero {
            throw ConfigurationError(field: "ready after", problem: "\(readyAfter) is negative; use 0 or more")
        }
        guard probeInterval > .zero, probeTimeout > .zero else {
            throw ConfigurationError(field: "probe interval and timeout", problem: "both must be positive")
        }
        try health?.validate()
        if let maxMemory, maxMemory <= 0 {
            throw ConfigurationError(field: "max memory", problem: "\(maxMemory) bytes must be positive")
        }
        if case .command(let arguments, let readiness) = worker {
            try Self.checkCommand(arguments, field: "worker command")
            if case .probe(let probe) = readiness { try probe.validate(field: "readiness") }
        }
        if case .swiftWorker(let executable?, _) = worker, executable.isEmpty {
            throw ConfigurationError(field: "worker executable", problem: "the path is empty")
        }
        for (offset, extra) in extras.enumerated() {
            if case .command(let arguments) = extra.body {
                try Self.checkCommand(arguments, field: "extra process \(offset) command")
            }
        }
        for key in environment.keys where key.isEmpty || key.contains("=") {
            throw ConfigurationError(field: "environment", problem: "\"\(key)\" is not a variable name")
        }
    }

    private static func checkCommand(_ arguments: [String], field: String) throws(ConfigurationError) {
        guard let program = arguments.first, !program.isEmpty else {
            throw ConfigurationError(field: field, problem: "the command is empty")
        }
        if arguments.contains(where: { $0.utf8.contains(0) }) {
            throw ConfigurationError(field: field, problem: "an argument contains a NUL byte")
        }
    }
}
