/// What a front end can ask the engine to do.
public enum SupervisorCommand: Hashable, Sendable {
    /// Send a signal. To ``SlotTarget/all`` with a stop signal this starts the stop (with its
    /// wait timeout); otherwise it is just delivered.
    case signal(Signal, to: SlotTarget)
    /// `SIGKILL` the process group(s) now. To ``SlotTarget/all`` it also ends the server.
    case forceKill(SlotTarget)
    /// Stop the server gracefully with the default stop signal.
    case stop
    /// Replace one slot's process: the default stop signal to it (`SIGKILL` to its group after
    /// the wait timeout), then its next generation at once. A slot waiting to restart starts
    /// now; an ended slot starts again.
    case restart(slot: Int)
    /// Run this many worker slots: new ones take the next index after every existing slot;
    /// the highest-indexed workers retire with the default stop signal (`SIGKILL` after the wait
    /// timeout). Retiring is not a failure. At least 1, at most
    /// ``SupervisorConfiguration/maximumWorkers``.
    case scale(workers: Int)
    /// A rolling reload of every running worker, new before old: each slot's next generation
    /// starts, and once it is running the old process gets the default stop signal;
    /// ``SupervisorConfiguration/reloadBatch`` slots at a time. A new generation that fails or is
    /// not running within the ready timeout stops the rollout: it is stopped, and the old ones
    /// keep serving. Ignored while a reload is under way.
    case reload
    /// In a run of programs, scale one program to `workers` processes: new ones are named with
    /// the lowest free indices (`web.2`) and take the next slot indices; its highest-indexed
    /// processes retire. Refused (a ``EngineEvent/scaleRefused(workers:reason:program:)``) for
    /// a one-shot and during a reload.
    case scaleProgram(String, workers: Int)
    /// In a run of programs, a rolling reload of these programs' running processes (as
    /// ``reload``), whether their definitions changed or not.
    case reloadPrograms([String])
    /// In a run of programs, the programs as now defined (their file read again): programs
    /// added start once what they depend on holds; programs removed stop (the default stop
    /// signal, `SIGKILL` after the wait timeout); programs whose definition changed are
    /// reloaded new before old (only scaled when only their number of processes changed);
    /// unchanged ones are untouched. Reported first as ``ReloadProgress/programsRead(_:)``;
    /// refused during a reload. A rollback puts a changed program's definition back.
    case update([Program])
}
