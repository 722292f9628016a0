import Glibc

/// Everything a front end can learn from the engine, delivered in order on the driver thread.
public enum EngineEvent: Sendable, Hashable {
    /// A slot's process was started; `generation` counts the processes the slot had before
    /// it (0 for the first; restarts and reloads start the next).
    case spawned(slot: Int, pid: pid_t, kind: ChildKind, generation: Int = 0)
    /// A slot (its process of `generation`) moved to a new state.
    case stateChanged(slot: Int, ProcessState, generation: Int = 0)
    /// A starting process (of `generation`) waits for its readiness: what for, or that it is
    /// met and how long it must stay up; said again when that changes (a probe's error).
    case waiting(slot: Int, ReadinessWait, generation: Int = 0)
    /// The server as a whole moved to a new state; a run's first event is `starting`.
    case serverStateChanged(ServerState)
    /// A child sent `STATUS=` text.
    case status(slot: Int, text: String)
    /// The supervisor sent a signal to a child (for `SIGKILL` on timeout: its whole group).
    case signalSent(slot: Int, pid: pid_t, Signal, SignalReason, generation: Int = 0)
    /// One line of a child's output, without its newline; invalid UTF-8 is replaced.
    case output(slot: Int, ChildStream, line: String)
    /// A child ended and was reaped.
    case exited(slot: Int, pid: pid_t, SlotEnd, generation: Int = 0)
    /// A slot's process ended unasked and the restart policy starts `generation` after
    /// `delay` (the slot is in ``ProcessState/backoff`` meanwhile); `attempt` counts the
    /// restarts of the current streak (1 for the first); `reason` says how the process ended.
    case restartScheduled(slot: Int, generation: Int, attempt: Int, delay: Duration, reason: String)
    /// A reload's new generation of `slot` failed before it was running: the slot's previous
    /// process (`pid`, of `generation`) is its process again, serving as before.
    case reinstated(slot: Int, pid: pid_t, generation: Int)
    /// A health check of a running process (of `generation`) ended: reported on every failure
    /// and when it passes again; `failures` counts the failures in a row, `detail` says why.
    case health(slot: Int, generation: Int, ok: Bool, failures: Int, detail: String)
    /// A scale command set the number of worker slots to `workers` (of `program`, in a run of
    /// programs).
    case scaled(workers: Int, program: String? = nil)
    /// A scale (a command, `SIGTTIN`/`SIGTTOU`) was not carried out, or not wholly (a new slot
    /// could not be started), for `reason`; the server runs `workers` worker slots now (of
    /// `program`, in a run of programs).
    case scaleRefused(workers: Int, reason: String, program: String? = nil)
    /// A slot was added to a program (by scaling it, or by a file reload adding it): its
    /// process's name. Its `spawned` event follows once its program may start.
    case slotAdded(slot: Int, ProcessName)
    /// A rolling reload started, finished, or was rolled back.
    case reload(ReloadProgress)
    /// A slot failed (also reported in its `exited` event, or for a spawn failure instead).
    case failed(slot: Int, SlotFailure)
    /// The stop began: the signal sent to every child and the `SIGKILL` deadline (nil: none).
    case stopping(Signal, cause: StopCause, deadline: ContinuousClock.Instant?)
    /// A stop signal (or terminating signal) arrived while the stop was under way: nothing is
    /// sent again; the `SIGKILL` deadline stands (nil: none, or already passed).
    case stopRepeated(Signal, deadline: ContinuousClock.Instant?)
    /// The watchdog (the helper that kills every child's process group if the supervisor dies)
    /// ended while the run went on (someone killed it); `replacement` is the new one's pid, to
    /// which every live process group was registered (nil: none could be started).
    case watchdogEnded(pid: pid_t, replacement: pid_t?)
    /// A signal the configuration ignores arrived (``SupervisorConfiguration/ignoredSignals``).
    case signalIgnored(Signal)
    /// Every child has ended; the run is about to return this report.
    case stopped(SupervisorReport)
}

extension SupervisorReport: Hashable {
    /// Equal when the cause, the stop signal, every slot and the processes left behind are.
    public static func == (lhs: SupervisorReport, rhs: SupervisorReport) -> Bool {
        lhs.cause == rhs.cause && lhs.stopSignal == rhs.stopSignal && lhs.slots == rhs.slots
            && lhs.leftBehind == rhs.leftBehind
    }

    /// Hashes what ``==(_:_:)`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(cause)
        hasher.combine(stopSignal)
        hasher.combine(slots)
        hasher.combine(leftBehind)
    }
}

extension EngineEvent {
    /// The slot the event is about, when it is about one process.
    public var slot: Int? {
        switch self {
        case .spawned(let slot, _, _, _), .stateChanged(let slot, _, _), .waiting(let slot, _, _),
            .status(let slot, _), .signalSent(let slot, _, _, _, _), .output(let slot, _, _),
            .exited(let slot, _, _, _), .restartScheduled(let slot, _, _, _, _), .reinstated(let slot, _, _),
            .health(let slot, _, _, _, _), .failed(let slot, _), .slotAdded(let slot, _):
            return slot
        case .serverStateChanged, .scaled, .scaleRefused, .reload, .stopping, .stopRepeated, .watchdogEnded,
            .signalIgnored, .stopped:
            return nil
        }
    }
}
