import SystemPackage

/// Why a run could not start or had to be abandoned: the one error type the engine's entry
/// points throw (``Supervisor``, ``SupervisorHandle``, ``Server``, ``Launcher``, ``Listener``).
/// Switch on its cases, or read ``operation`` and ``errno`` for the system call that failed.
public enum SupervisorError: Error, Sendable, CustomStringConvertible {
    /// The configuration cannot work; nothing was spawned.
    case invalidConfiguration(ConfigurationError)
    /// A child could not be started; the children already started were stopped and reaped.
    case spawnFailed(SpawnError)
    /// Another supervisor is already running in this process (the stop-signal handler is global).
    case alreadyRunning
    /// A system call the supervisor depends on failed.
    case system(SystemCallError)
    /// The worker role was entered but its environment is unusable.
    case badWorkerEnvironment(String)

    /// A one-line description for logs and reports.
    public var description: String {
        switch self {
        case .invalidConfiguration(let error): return error.description
        case .spawnFailed(let error): return error.description
        case .alreadyRunning: return "a supervisor is already running in this process"
        case .system(let error): return error.description
        case .badWorkerEnvironment(let problem): return "cannot start as a worker: \(problem)"
        }
    }

    /// The operation that failed, for the errors that come from one: the system call (e.g.
    /// `"bind"`, `"pidfd_open"`), or the step of a child's start-up (e.g. `"execve"`).
    public var operation: String? {
        switch self {
        case .system(let error): return error.operation
        case .spawnFailed(let error): return error.stage.operation
        case .invalidConfiguration, .alreadyRunning, .badWorkerEnvironment: return nil
        }
    }

    /// The error number the kernel returned, for the errors that come from a system call.
    public var errno: Errno? {
        switch self {
        case .system(let error): return error.errno
        case .spawnFailed(let error): return error.errno
        case .invalidConfiguration, .alreadyRunning, .badWorkerEnvironment: return nil
        }
    }
}
