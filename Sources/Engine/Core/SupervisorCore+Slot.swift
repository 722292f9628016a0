import Glibc

extension SupervisorCore {
    /// A slot's static description.
    struct SlotPlan: Hashable, Sendable {
        var kind: ChildKind
        /// Whether its readiness is met on exec (else on `READY=1`, a line or a probe).
        var readyOnExec: Bool
        /// How long it must stay up once its readiness is met before it counts as running.
        var readyAfter: Duration = .zero
        /// Whether its readiness is a probe the core schedules (``Action/probe(slot:generation:_:)``).
        var probesReadiness = false
        /// What it waits for before it is running, for the front ends (nil: nothing to say).
        var waitingFor: String?
        /// Whether it is health-checked while running (``Action/probe(slot:generation:_:)``).
        var healthChecked = false
        /// A one-shot's process: running at exec, exit 0 completes it, never restarted.
        var oneshot = false
        /// In a run of programs, the program it belongs to (its index in ``SupervisorCore/gates``).
        var program: Int?
    }

    /// Why the slot's live process is being ended so that its next generation starts.
    enum Replacement: Hashable {
        /// An operator asked for it (``SupervisorCommand/restart(slot:)``): at once, not counted
        /// as a crash.
        case requested
        /// It failed its health checks or its memory limit: `reason` is
        /// ``SignalReason/unhealthy`` or ``SignalReason/memory``; counts toward giving up.
        case unhealthy(reason: SignalReason, detail: String)
    }

    /// What remains of a slot's process group after its process ended.
    struct Lingering: Hashable {
        /// When the group is `SIGKILL`ed, outside a stop (a stop has its own deadline).
        var killAt: ContinuousClock.Instant?
    }

    /// A seat for one process at a time: its plan, its current (or last) process and that
    /// process's progress. A restart or a reload starts the seat's next generation.
    struct Slot {
        /// How it runs; a program's changed definition reaches it with its next generation.
        var plan: SlotPlan
        var pid: pid_t?
        var state: ProcessState = .pending
        var spawnedAt: ContinuousClock.Instant?
        var lastStatus: String?
        /// What was sent to its process group.
        var sent = SignalLedger()
        var end: SlotEnd?
        var failure: SlotFailure?
        /// Its process ended but others of its process group remain (until ``groupEnded``).
        var lingering: Lingering?
        /// Signals an operator sent to this slot alone: dying of one is intended, not a failure.
        var operatorSignals: Set<Signal> = []
        /// Its current (or last) process's generation: 0 for the first.
        var generation = 0
        /// How many times the restart policy started it again.
        var restarts = 0
        /// When its restarts within the restart window happened (older ones are dropped).
        var restartTimes: [ContinuousClock.Instant] = []
        /// Consecutive restarts since a generation last ran for the backoff's reset time.
        var streak = 0
        /// When its current process became running.
        var runningSince: ContinuousClock.Instant?
        /// In backoff: when its next generation may start.
        var restartAt: ContinuousClock.Instant?
        /// Why its live process is being replaced, if it is.
        var replacement: Replacement?
        /// A scale-down retires it: it is stopped and never started again.
        var retiring = false
        /// When its process group is `SIGKILL`ed if a restart or retirement has not ended it.
        var killAt: ContinuousClock.Instant?
        /// A reload's new generation must be running by then, or the reload rolls back.
        var readyDeadline: ContinuousClock.Instant?
        /// When its readiness was met: it is running once it has stayed up for the plan's
        /// `readyAfter` since.
        var readyMetAt: ContinuousClock.Instant?
        /// When its next readiness probe is due (nil: none scheduled, or one is in flight).
        var probeDueAt: ContinuousClock.Instant?
        /// What it was last said to wait for (so a change is reported once).
        var waiting: String?
        /// When its next health check is due (nil: none scheduled, or one is in flight).
        var healthDueAt: ContinuousClock.Instant?
        /// Failed health checks in a row.
        var healthFailures = 0
        /// Memory samples in a row above the limit.
        var memoryStrikes = 0

        /// The seat with its next generation about to start: what belonged to the ended (or
        /// replaced) process is forgotten; the restart history stays. `restart`: the restart
        /// policy (or an operator) starts it, so it counts as a restart.
        func nextGeneration(restart: Bool) -> Slot {
            var next = Slot(plan: plan)
            next.state = state
            next.lastStatus = lastStatus
            next.generation = generation + 1
            next.restarts = restarts + (restart ? 1 : 0)
            next.restartTimes = restartTimes
            next.streak = streak
            next.retiring = retiring
            return next
        }

        /// Its process runs (spawned, not ended).
        var isLive: Bool { pid != nil && end == nil }
        /// Its process runs, or what it started does: the run cannot end yet.
        var holdsRun: Bool { isLive || lingering != nil }
    }
}
