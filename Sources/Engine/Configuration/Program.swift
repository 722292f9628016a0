/// A named set of command processes in one run — a Procfile's `web`, `worker`, `clock` — with its
/// own command, number of processes and environment. A run of programs has one worker slot per
/// process, program after program in order; its processes are named `web.0`, `web.1`, and each
/// gets `CORRAL_PROGRAM`, `CORRAL_PROCESS_NAME`, `CORRAL_PROCESS_INDEX` (its index in the
/// program) and `CORRAL_WORKER_COUNT` (the program's count).
public struct Program: Sendable, Hashable {
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

    /// A program running `command` in `workers` processes.
    public init(
        _ name: String, command: [String], workers: Int = 1, environment: [String: String] = [:], firstPort: Int? = nil
    ) {
        self.name = name
        self.command = command
        self.workers = workers
        self.environment = environment
        self.firstPort = firstPort
    }
}
