/// What a worker slot runs.
public enum ChildProgram: Sendable, Hashable {
    /// A Swift worker: the worker executable re-executed in the worker role, where
    /// ``Server/run(sharing:main:worker:)`` runs the worker body for the slot.
    /// `executable` defaults to the running binary (`/proc/self/exe`), `arguments` to this
    /// process's own arguments.
    case swiftWorker(executable: String? = nil, arguments: [String]? = nil)
    /// Any program, by argv (`argv[0]` is looked up in `PATH` when it has no `/`).
    case command([String], readiness: Readiness = .onExec)

    /// The default: re-execute the running binary as a Swift worker.
    public static var swiftWorker: ChildProgram { .swiftWorker(executable: nil, arguments: nil) }
}
