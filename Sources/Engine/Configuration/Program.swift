/// A named set of command processes in one run — a Procfile's `web`, `worker`, `clock` — with its
/// own command, number of processes and environment. A run of programs has one worker slot per
/// process, program after program in order; its processes are named `web.0`, `web.1`, and each
/// gets `CORRAL_PROGRAM`, `CORRAL_PROCESS_NAME`, `CORRAL_PROCESS_INDEX` (its index in the
/// program) and `CORRAL_WORKER_COUNT` (the program's count).
public struct Program: Sendable, Hashable {
    /// What must hold of a program another one waits for.
    public enum Condition: String, Sendable, Hashable, CaseIterable {
        /// Its processes were started.
        case started
        /// Every process of it is running (ready).
        case ready
        /// It ended (a one-shot), however.
        case completed
        /// It ended with exit status 0.
        case completedSuccessfully = "completed-successfully"
    }

    /// A program this one waits for before it starts, and for what.
    public struct Dependency: Sendable, Hashable {
        /// The program's name.
        public var program: String
        /// What must hold of it.
        public var condition: Condition

        /// `program` must meet `condition` (by default: every process of it running).
        public init(_ program: String, _ condition: Condition = .ready) {
            self.program = program
            self.condition = condition
        }
    }

    /// Its name: letters, digits, `_` and `-`.
    public var name: String
    /// The program and its arguments (a shell line is `["/bin/sh", "-c", line]`).
    public var command: [String]
    /// How many processes it runs, 1 or more.
    public var workers: Int
    /// Variables its processes get on top of the supervisor's environment and the
    /// configuration's.
    public var environment: [String: String]
    /// `PORT` of its first process: process I gets `firstPort + I` (honcho's and foreman's
    /// numbering), unless its environment already sets `PORT`. nil: no `PORT`.
    public var firstPort: Int?
    /// What it waits for before its processes start; until then they are `pending` and said to
    /// wait (`waiting for migrate to complete`). A dependency that fails fails it.
    public var dependencies: [Dependency]
    /// It is expected to end: not judged by readiness, exit 0 completes it (not a failure, not
    /// restarted), any other end is a failure. A run of one-shots alone ends once they all
    /// ended, exit status 0 if they all completed.
    public var oneshot: Bool
    /// The directory its processes start in (nil: the supervisor's); a relative program path in
    /// ``command`` is found from there.
    public var workingDirectory: String?
    /// When its processes count as running (nil: as ``SupervisorConfiguration/worker`` says).
    public var readiness: Readiness?
    /// How long they must stay up once ready (nil: the configuration's ``SupervisorConfiguration/readyAfter``,
    /// whose default depends on the readiness).
    public var readyAfter: Duration?
    /// Whether its processes are started again when they end unasked (nil: the configuration's
    /// ``SupervisorConfiguration/restartPolicy``), and how those restarts are spaced (nil: the
    /// configuration's ``SupervisorConfiguration/restartBackoff``).
    public var restartPolicy: RestartPolicy?
    public var restartBackoff: RestartBackoff?
    /// The signals that stop its processes (nil: the configuration's): the first one is what
    /// they are sent whenever they are stopped, whichever signal stopped the server (the
    /// `SIGTERM` default of the run is theirs when listed).
    public var stopSignals: [Signal]?
    /// How long its processes get to end after their stop signal before their groups are
    /// `SIGKILL`ed (nil: the configuration's ``SupervisorConfiguration/waitTimeout``).
    public var waitTimeout: Duration?
    /// The check of its running processes (nil: the configuration's ``SupervisorConfiguration/health``).
    public var health: HealthCheck?
    /// The resident memory its process trees may use, in bytes (nil: the configuration's
    /// ``SupervisorConfiguration/maxMemory``).
    public var maxMemory: Int?
    /// The names of the listening sockets its processes are given (nil: every socket of the run).
    public var sockets: [String]?

    /// A program running `command` in `workers` processes.
    public init(
        _ name: String, command: [String], workers: Int = 1, environment: [String: String] = [:],
        firstPort: Int? = nil, dependencies: [Dependency] = [], oneshot: Bool = false, workingDirectory: String? = nil
    ) {
        self.workingDirectory = workingDirectory
        self.name = name
        self.command = command
        self.workers = workers
        self.environment = environment
        self.firstPort = firstPort
        self.dependencies = dependencies
        self.oneshot = oneshot
    }
}
