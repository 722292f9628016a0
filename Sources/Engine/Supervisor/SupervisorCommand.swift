/// Which slots a command addresses.
public enum SlotTarget: Hashable, Sendable {
    /// Every live child.
    case all
    /// One slot by index.
    case slot(Int)
}

/// What a front end can ask the engine to do.
public enum SupervisorCommand: Hashable, Sendable {
    /// Send a signal. To ``SlotTarget/all`` with a stop signal this starts the stop (with its
    /// wait timeout); otherwise it is just delivered.
    case signal(Signal, to: SlotTarget)
    /// `SIGKILL` the process group(s) now. To ``SlotTarget/all`` it also ends the server.
    case forceKill(SlotTarget)
    /// Stop the server gracefully with the default stop signal.
    case stop
}
