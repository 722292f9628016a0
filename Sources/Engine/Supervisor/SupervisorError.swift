/// Why a run could not start or had to be abandoned.
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

    public var description: String {
        switch self {
        case .invalidConfiguration(let error): return error.description
        case .spawnFailed(let error): return error.description
        case .alreadyRunning: return "a supervisor is already running in this process"
        case .system(let error): return error.description
        case .badWorkerEnvironment(let problem): return "cannot start as a worker: \(problem)"
        }
    }
}
