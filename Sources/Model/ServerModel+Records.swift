import CorralEngine
import Glibc

extension ServerModel {
    /// One process row.
    package struct Row: Sendable, Equatable {
        /// Slot index.
        package var index: Int
        /// Its program and index in it (`web.1`); nil: named by its kind and slot (`worker.2`).
        package var processName: ProcessName?
        /// Worker or extra.
        package var kind: ChildKind
        /// Pid once spawned.
        package var pid: pid_t?
        /// Lifecycle state.
        package var state: ProcessState = .pending
        /// When it entered ``state`` (nil: pending since the start).
        package var stateSince: ContinuousClock.Instant?
        /// When it was spawned.
        package var spawnedAt: ContinuousClock.Instant?
        /// When it ended.
        package var endedAt: ContinuousClock.Instant?
        /// Last `STATUS=` text.
        package var status: String?
        /// The last signal the supervisor sent it, why, and when.
        package var lastSignal: SentSignal?
        /// How it ended.
        package var end: SlotEnd?
        /// A failure reported before or without an end (spawn failure, init timeout).
        package var failure: SlotFailure?
        /// The generation of its current (or last) process: 0 for the first.
        package var generation = 0
        /// How many times the restart policy started it again.
        package var restarts = 0
        /// In backoff: when its next generation starts, the attempt, and why it ended.
        package var pendingRestart: PendingRestart?
        /// CPU and memory of its process tree at the last sample (nil: not sampled).
        package var usage: ProcessTreeSampler.Usage?
        /// The states its current process went through, and when (the last ``historyKept``).
        package var history: [StateChange] = []
        /// The signals the supervisor sent its current process (the last ``historyKept``).
        package var signals: [SentSignal] = []
        /// What its starting process waits for, and since when (nil: `READY=1`, or nothing).
        package var waiting: (wait: ReadinessWait, since: ContinuousClock.Instant)?
        /// Its current process is a reload's new generation (rolled back if not running in time).
        package var isReloadGeneration = false
        /// A scale-down retired it: not counted as a worker, and gone from the table once ended.
        package var retired = false
        /// How many of its restarts followed a crash (a process that ended by itself, unasked).
        package var crashes = 0
        /// How the previous generation ended (kept through a restart, as crash evidence).
        package var previousEnd: PreviousEnd?
        /// Its last failed health check (failures in a row, and why) while it has not passed
        /// one since.
        package var healthFailure: (failures: Int, detail: String)?
        /// While a reload's new generation starts: the row of the process it replaces (given
        /// back if the reload rolls back). At most one.
        package var replacing: [Row] = []

        /// How many states and signals a row remembers.
        package static let historyKept = 12

        /// A row for slot `index` of `kind`, pending.
        package init(index: Int, kind: ChildKind, restarts: Int = 0) {
            self.index = index
            self.kind = kind
            self.restarts = restarts
        }

        /// `web.1`, `worker.2`, `extra.4`.
        package var name: String { processName?.description ?? "\(kind.rawValue).\(index)" }

        /// Equal when every field is (the waiting record compared by its parts).
        package static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.index == rhs.index && lhs.processName == rhs.processName && lhs.kind == rhs.kind && lhs.pid == rhs.pid
                && lhs.state == rhs.state
                && lhs.stateSince == rhs.stateSince && lhs.spawnedAt == rhs.spawnedAt && lhs.endedAt == rhs.endedAt
                && lhs.status == rhs.status && lhs.lastSignal == rhs.lastSignal && lhs.end == rhs.end
                && lhs.failure == rhs.failure && lhs.generation == rhs.generation && lhs.restarts == rhs.restarts
                && lhs.pendingRestart == rhs.pendingRestart && lhs.usage == rhs.usage && lhs.history == rhs.history
                && lhs.signals == rhs.signals && lhs.waiting?.wait == rhs.waiting?.wait
                && lhs.waiting?.since == rhs.waiting?.since && lhs.isReloadGeneration == rhs.isReloadGeneration
                && lhs.retired == rhs.retired && lhs.replacing == rhs.replacing
                && lhs.crashes == rhs.crashes && lhs.previousEnd == rhs.previousEnd
                && lhs.healthFailure?.failures == rhs.healthFailure?.failures
                && lhs.healthFailure?.detail == rhs.healthFailure?.detail
        }
    }

    /// How a slot's previous process ended: what a restart keeps of it.
    package struct PreviousEnd: Sendable, Equatable {
        /// Its generation and pid.
        package var generation: Int
        package var pid: pid_t?
        /// How it ended (with its last stderr lines), and when.
        package var end: SlotEnd
        package var at: ContinuousClock.Instant?
        /// The signals the supervisor sent it, and why.
        package var signals: [SentSignal]

        /// Creates the record.
        package init(
            generation: Int, pid: pid_t?, end: SlotEnd, at: ContinuousClock.Instant?, signals: [SentSignal]
        ) {
            self.generation = generation
            self.pid = pid
            self.end = end
            self.at = at
            self.signals = signals
        }
    }

    /// A state a process entered, and when.
    package struct StateChange: Sendable, Equatable {
        /// The state.
        package var state: ProcessState
        /// When.
        package var at: ContinuousClock.Instant
    }

    /// A restart the policy scheduled.
    package struct PendingRestart: Sendable, Equatable {
        /// When the next generation starts.
        package var at: ContinuousClock.Instant
        /// The restart's number in its streak (1 for the first).
        package var attempt: Int
        /// How the process ended.
        package var reason: String

        /// Creates the record.
        package init(at: ContinuousClock.Instant, attempt: Int, reason: String) {
            self.at = at
            self.attempt = attempt
            self.reason = reason
        }
    }

    /// How the run ended, once it did.
    package struct Ended: Sendable, Equatable {
        /// Why the server stopped (`SIGTERM received`, `worker.1 failed`).
        package var cause: String
        /// corral's exit status.
        package var exitStatus: Int32

        /// Creates the record.
        package init(cause: String, exitStatus: Int32) {
            self.cause = cause
            self.exitStatus = exitStatus
        }
    }

    /// A signal the supervisor sent.
    package struct SentSignal: Sendable, Equatable {
        /// The signal.
        package var signal: Signal
        /// Why.
        package var reason: SignalReason
        /// When.
        package var at: ContinuousClock.Instant

        /// Creates the record.
        package init(signal: Signal, reason: SignalReason, at: ContinuousClock.Instant) {
            self.signal = signal
            self.reason = reason
            self.at = at
        }
    }

    /// The stop under way.
    package struct Stopping: Sendable, Equatable {
        /// The signal sent to every child.
        package var signal: Signal
        /// Why the server stops.
        package var cause: StopCause
        /// When the remaining children get `SIGKILL`, or nil (waiting forever, or already killed).
        package var deadline: ContinuousClock.Instant?
        /// When the stop began.
        package var at: ContinuousClock.Instant

        /// Creates the record.
        package init(signal: Signal, cause: StopCause, deadline: ContinuousClock.Instant?, at: ContinuousClock.Instant)
        {
            self.signal = signal
            self.cause = cause
            self.deadline = deadline
            self.at = at
        }
    }
}
