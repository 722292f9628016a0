/// How the supervisor starts Swift workers. Command workers and extra processes are always
/// started by exec.
public enum SpawnStrategy: String, Sendable, Hashable, Codable {
    /// Each worker is the worker executable, exec'ed afresh: every start pays for loading the
    /// Swift runtime.
    case exec
    /// One copy of the worker executable is exec'ed as a zygote that stays single-threaded and
    /// never touches concurrency; it forks each worker on request, so the runtime is loaded
    /// once. Code before `Server.run` runs once in the zygote, not again in each worker. If the
    /// zygote cannot start (it found other threads running), workers are exec'ed instead.
    case zygote
}
