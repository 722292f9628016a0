import Glibc

/// The supervisor's lifecycle as a pure state machine: inputs (spawned, notify message, exit,
/// stop signal, command, time) in, actions (signal, kill a group, emit an event) out. No I/O:
/// the driver performs the actions. Time is always passed in, so tests are deterministic.
struct SupervisorCore {
    /// What the driver must do.
    enum Action: Hashable, Sendable {
        /// The signal to the slot's process group (what its process started gets it too, as
        /// from a terminal), and to the process itself if it left that group.
        case signal(slot: Int, Signal)
        /// `SIGKILL` to the slot's whole process group (and to the process if it left it).
        case killGroup(slot: Int)
        /// The signal to the process group of the slot's outgoing process (being replaced by a
        /// reload; see ``Slot/outgoing``).
        case signalOutgoing(slot: Int, Signal)
        /// `SIGKILL` to the process group of the slot's outgoing process.
        case killOutgoingGroup(slot: Int)
        /// Run the configured probe of the slot's process of `generation` (for readiness or
        /// health) and report with ``SupervisorCore/probeFinished(slot:generation:purpose:ok:detail:now:)``.
        case probe(slot: Int, generation: Int, ProbePurpose)
        /// Hand this event to the front end.
        case emit(EngineEvent)
    }

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
    }

    struct SentSignal: Hashable {
        var signal: Signal
        var reason: SignalReason
    }

    /// A process a reload replaces: it keeps serving until its successor runs, then stops.
    struct Outgoing {
        var pid: pid_t
        var generation: Int
        /// When it was started and became running (it gets the slot back if the reload rolls back).
        var spawnedAt: ContinuousClock.Instant?
        var runningSince: ContinuousClock.Instant?
        /// When its group is `SIGKILL`ed if it has not ended.
        var killAt: ContinuousClock.Instant?
        /// What the supervisor sent its group, and why, in order.
        var sent: [SentSignal] = []

        /// It was sent a stop signal.
        var stopSent: Bool { sent.contains { $0.signal != .kill && $0.reason != .command } }
        /// Its group was sent `SIGKILL`: nothing more is sent to it.
        var killed: Bool { sent.contains { $0.signal == .kill } }
    }

    /// A rolling reload under way.
    private struct Reload {
        /// Slots still to replace, in order.
        var queue: [Int]
        /// Slots whose new generation is starting.
        var active: Set<Int> = []
        var replaced = 0
        /// Set when a new generation failed: nothing more starts, the active ones roll back.
        var rollback: (slot: Int?, reason: String)?
        /// How the failed new generation ended, once it has.
        var failedEnd: SlotEnd?
    }

    struct Slot {
        let plan: SlotPlan
        var pid: pid_t?
        var state: ProcessState = .pending
        var spawnedAt: ContinuousClock.Instant?
        var lastStatus: String?
        var sent: [SentSignal] = []
        /// An operator or the stop asked it to end, so its exit is not unexpected.
        var endRequested = false
        var end: SlotEnd?
        var failure: SlotFailure?
        /// Its process ended but others of its process group remain (until ``groupEnded``).
        var groupLingers = false
        /// Its group was sent a stop signal: it is never sent another (one stop signal each).
        var groupStopSignalled = false
        /// When a group that lingers outside a stop is `SIGKILL`ed.
        var groupDeadline: ContinuousClock.Instant?
        /// Its group was sent `SIGKILL`: nothing more is sent to it.
        var groupKilled = false
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
        /// An operator asked for its process to be replaced: its end starts the next generation.
        var restartRequested = false
        /// A scale-down retires it: it is stopped and never started again.
        var retiring = false
        /// When its process group is `SIGKILL`ed if a restart or retirement has not ended it.
        var killAt: ContinuousClock.Instant?
        /// The process a reload is replacing, while its successor (this slot's process) starts
        /// and then while it stops.
        var outgoing: Outgoing?
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
        /// Why it is being restarted for its health (``SignalReason/unhealthy`` or
        /// ``SignalReason/memory``), and what was wrong.
        var healthRestart: (reason: SignalReason, detail: String)?

        /// Forgets the ended process, for the next generation.
        mutating func beginNextGeneration() {
            generation += 1
            restarts += 1
            pid = nil
            spawnedAt = nil
            sent = []
            endRequested = false
            end = nil
            failure = nil
            groupLingers = false
            groupStopSignalled = false
            groupDeadline = nil
            groupKilled = false
            operatorSignals = []
            runningSince = nil
            restartAt = nil
            restartRequested = false
            killAt = nil
            readyDeadline = nil
            readyMetAt = nil
            probeDueAt = nil
            waiting = nil
            healthDueAt = nil
            healthFailures = 0
            memoryStrikes = 0
            healthRestart = nil
        }

        /// Its process runs (spawned, not ended).
        var isLive: Bool { pid != nil && end == nil }
        /// Its process runs, or what it started does: the run cannot end yet.
        var holdsRun: Bool { isLive || groupLingers }
    }

    private enum Phase {
        case starting
        case running
        case stopping(signal: Signal, cause: StopCause, deadline: ContinuousClock.Instant?, escalated: Bool)
        case stopped
    }

    let waitTimeout: Duration?
    private let initTimeout: Duration?
    private let stopSignals: [Signal]
    private let terminatingSignals: [Signal]
    private let ignoredSignals: [Signal]
    let defaultStopSignal: Signal
    private let failurePolicy: FailurePolicy
    private let restartPolicy: RestartPolicy
    let backoff: RestartBackoff
    /// A number in -1...1 for each restart's jitter (injected by tests).
    private let jitter: () -> Double
    var slots: [Slot]
    private var phase: Phase = .starting
    private var nextToSpawn = 0
    private var slotByPid: [pid_t: Int] = [:]
    /// The slots whose group lingers (so timers look at them, not at every slot).
    private var lingeringSlots: Set<Int> = []
    /// How many slots are in the running state (so "all running" costs no scan).
    private var runningCount = 0
    /// How many slots hold the run up (``Slot/holdsRun``).
    private var liveCount = 0
    /// Slots in backoff, waiting for their restart time (and for their old group to end).
    private var backoffSlots: Set<Int> = []
    /// Slots whose next generation is due: the driver spawns them after the initial ones.
    private var restartsDue: Set<Int> = []
    /// Live slots with a `SIGKILL` deadline of their own (a restart or a retirement under way).
    var killDeadlineSlots: Set<Int> = []
    /// How many slots retire (or retired): they are not counted as wanted running.
    private var retiringCount = 0
    /// What a worker slot added by scaling runs like.
    private let workerPlan: SlotPlan
    private let reloadBatch: Int
    private let readyTimeout: Duration?
    private let commandSignals: [Signal: SignalCommand]
    private var reload: Reload?
    /// How many reloads began: a reload's new Swift workers come from a zygote of its own.
    private(set) var reloadRound = 0

    /// Whether a reload is under way.
    var isReloading: Bool { reload != nil }
    /// Slots whose reload generation the driver should start now.
    private var reloadsDue: Set<Int> = []
    /// Slots with an outgoing process (so timers and stops look at them, not at every slot).
    private var outgoingSlots: Set<Int> = []
    /// Slots whose readiness is met and that wait for their `readyAfter` uptime.
    var settlingSlots: Set<Int> = []
    /// Slots with a readiness probe scheduled.
    var probeSlots: Set<Int> = []
    /// How long after a failed readiness probe the next one starts.
    let probeInterval: Duration
    /// Slots with a health check scheduled.
    var healthSlots: Set<Int> = []
    /// Time between health checks, and the failures in a row that make a process unhealthy.
    let healthInterval: Duration
    let healthFailures: Int
    /// The resident memory a process tree may use, in bytes (nil: no limit).
    let maxMemory: Int?

    /// A core for `plans.count` slots with the configuration's timing and policy.
    init(
        plans: [SlotPlan], stopSignals: [Signal], defaultStopSignal: Signal,
        waitTimeout: Duration?, initTimeout: Duration?, failurePolicy: FailurePolicy,
        terminatingSignals: [Signal] = [], ignoredSignals: [Signal] = [],
        restartPolicy: RestartPolicy = .no, backoff: RestartBackoff = RestartBackoff(),
        jitter: @escaping () -> Double = { Double.random(in: -1...1) }, reloadBatch: Int = 1,
        readyTimeout: Duration? = nil, commandSignals: [Signal: SignalCommand] = [:],
        probeInterval: Duration = .milliseconds(100), healthInterval: Duration = .seconds(10), healthFailures: Int = 3,
        maxMemory: Int? = nil
    ) {
        self.commandSignals = commandSignals
        self.probeInterval = probeInterval
        self.healthInterval = healthInterval
        self.healthFailures = healthFailures
        self.maxMemory = maxMemory
        self.reloadBatch = max(1, reloadBatch)
        self.readyTimeout = readyTimeout ?? waitTimeout
        self.slots = plans.map { Slot(plan: $0) }
        self.workerCount = plans.filter { $0.kind == .worker }.count
        self.workerPlan = plans.first { $0.kind == .worker } ?? SlotPlan(kind: .worker, readyOnExec: true)
        self.restartPolicy = restartPolicy
        self.backoff = backoff
        self.jitter = jitter
        self.stopSignals = stopSignals
        self.terminatingSignals = terminatingSignals
        self.ignoredSignals = ignoredSignals
        self.defaultStopSignal = defaultStopSignal
        self.waitTimeout = waitTimeout
        self.initTimeout = initTimeout
        self.failurePolicy = failurePolicy
    }

    /// A core for a validated configuration.
    init(configuration: SupervisorConfiguration) {
        let plans =
            Array(repeating: Self.workerPlan(configuration), count: configuration.workers)
            + Array(repeating: SlotPlan(kind: .extra, readyOnExec: true), count: configuration.extras.count)
        self.init(
            plans: plans, stopSignals: configuration.stopSignals,
            defaultStopSignal: configuration.defaultStopSignal, waitTimeout: configuration.waitTimeout,
            initTimeout: configuration.initTimeout, failurePolicy: configuration.failurePolicy,
            terminatingSignals: configuration.terminatingSignals, ignoredSignals: configuration.ignoredSignals,
            restartPolicy: configuration.restartPolicy, backoff: configuration.restartBackoff,
            reloadBatch: configuration.reloadBatch, readyTimeout: configuration.readyTimeout,
            commandSignals: configuration.commandSignals, probeInterval: configuration.probeInterval,
            healthInterval: configuration.health?.interval ?? .seconds(10),
            healthFailures: configuration.health?.failures ?? 3, maxMemory: configuration.maxMemory)
    }

    /// How a worker slot of `configuration` becomes running.
    static func workerPlan(_ configuration: SupervisorConfiguration) -> SlotPlan {
        let readiness: Readiness
        switch configuration.worker {
        case .swiftWorker: readiness = .notify
        case .command(_, let commandReadiness): readiness = commandReadiness
        }
        var plan = SlotPlan(kind: .worker, readyOnExec: readiness == .onExec)
        plan.readyAfter = configuration.effectiveReadyAfter
        plan.healthChecked = configuration.health != nil
        switch readiness {
        case .onExec, .notify: break
        case .outputLine: plan.waitingFor = readiness.waitingFor
        case .probe:
            plan.probesReadiness = true
            plan.waitingFor = readiness.waitingFor
        }
        return plan
    }

    // MARK: - Queries

    /// The server's state.
    var serverState: ServerState {
        switch phase {
        case .starting: return .starting
        case .running: return .running
        case .stopping: return .stopping
        case .stopped: return .stopped
        }
    }

    /// Whether every child has ended and the run can return.
    var isStopped: Bool { if case .stopped = phase { return true } else { return false } }

    /// The slot the driver should spawn next, or nil (all spawned, or the stop began): the
    /// initial slots in order, then slots whose restart is due.
    var slotToSpawn: Int? {
        switch phase {
        case .starting, .running: return firstUnspawned ?? restartsDue.min() ?? reloadsDue.min()
        case .stopping, .stopped: return nil
        }
    }

    /// The next slot of the first start (or added by scaling) not spawned yet, skipping slots
    /// retired before their turn.
    private var firstUnspawned: Int? {
        var index = nextToSpawn
        while index < slots.count, slots[index].retiring { index += 1 }
        return index < slots.count ? index : nil
    }

    /// How many worker slots the server runs (not counting the retiring ones); kept as slots are
    /// added and retired, so the driver can read it on every spawn.
    private(set) var workerCount: Int

    /// Whether the spawn of `slot` would start a later generation (a restart), not its first.
    func isRestart(_ slot: Int) -> Bool { restartsDue.contains(slot) }

    /// Whether the spawn of `slot` starts a reload's new generation beside the running one.
    func isReload(_ slot: Int) -> Bool { reloadsDue.contains(slot) && !restartsDue.contains(slot) }

    /// The pid of the slot's outgoing process (being replaced by a reload), if any.
    func outgoingPid(ofSlot index: Int) -> pid_t? { slots[index].outgoing?.pid }

    /// The slot a live child pid belongs to.
    func slot(forPid pid: pid_t) -> Int? { slotByPid[pid] }

    /// How many slots there are (configured and added by scaling).
    var slotCount: Int { slots.count }

    /// The state of one slot.
    func state(ofSlot index: Int) -> ProcessState { slots[index].state }

    /// The earliest time at which ``tick(now:)`` has something to do, or nil.
    var nextDeadline: ContinuousClock.Instant? {
        var due: [ContinuousClock.Instant] = []
        if case .stopping(_, _, let deadline?, false) = phase { due.append(deadline) }
        due += lingeringSlots.compactMap { slots[$0].groupKilled ? nil : slots[$0].groupDeadline }
        due += backoffSlots.compactMap { slots[$0].groupLingers ? nil : slots[$0].restartAt }
        due += killDeadlineSlots.compactMap { slots[$0].killAt }
        due += outgoingSlots.compactMap { slots[$0].outgoing.flatMap { $0.killed ? nil : $0.killAt } }
        due += (reload?.active ?? []).compactMap {
            slots[$0].state == .initializing ? slots[$0].readyDeadline : nil
        }
        due += settlingSlots.compactMap { index in slots[index].readyMetAt.map { $0 + slots[index].plan.readyAfter } }
        due += probeSlots.compactMap { slots[$0].probeDueAt }
        due += healthSlots.compactMap { slots[$0].healthDueAt }
        if let initTimeout {
            due += slots.compactMap { slot in
                slot.state == .initializing && slot.failure == nil ? slot.spawnedAt.map { $0 + initTimeout } : nil
            }
        }
        return due.min()
    }

    /// The report as of now (final once ``isStopped``).
    var report: SupervisorReport {
        let cause: StopCause
        let signal: Signal?
        switch phase {
        case .stopping(let stopSignal, let stopCause, _, _):
            cause = stopCause
            signal = stopSignal
        case .starting, .running, .stopped:
            cause = finalCause ?? .allExited
            signal = finalSignal
        }
        return SupervisorReport(
            cause: cause, stopSignal: signal,
            slots: slots.enumerated().map { index, slot in
                SupervisorReport.Slot(
                    index: index, kind: slot.plan.kind, pid: slot.pid, end: slot.end, failure: slot.failure,
                    lastStatus: slot.lastStatus, generation: slot.generation, restarts: slot.restarts)
            }, leftBehind: leftBehind, spawnError: startupSpawnError)
    }

    /// The spawn error that ended the start (``spawnFailed(slot:reason:error:now:)``).
    private var startupSpawnError: SpawnError?

    private var finalCause: StopCause?
    private var finalSignal: Signal?
    /// What outlived the run, learnt by the driver once every child ended (``finish(leftBehind:)``).
    private var leftBehind: [SupervisorReport.LeftBehind] = []
    private var finished = false

    // MARK: - Inputs

    /// The driver started `slot` as `pid` (and, for exec-ready slots, exec succeeded).
    mutating func spawned(slot index: Int, pid: pid_t, now: ContinuousClock.Instant) -> [Action] {
        if restartsDue.remove(index) != nil {
            slots[index].beginNextGeneration()
        } else if reloadsDue.remove(index) != nil, let old = slots[index].pid {
            // New before old: the running process becomes the outgoing one and keeps serving.
            let restarts = slots[index].restarts
            slots[index].outgoing = Outgoing(
                pid: old, generation: slots[index].generation, spawnedAt: slots[index].spawnedAt,
                runningSince: slots[index].runningSince)
            outgoingSlots.insert(index)
            if slots[index].state == .running { runningCount -= 1 }
            slots[index].state = .pending
            slots[index].beginNextGeneration()
            slots[index].restarts = restarts
            slots[index].readyDeadline = readyTimeout.map { now + $0 }
        } else {
            precondition(index == firstUnspawned, "slots are spawned in order; got \(index), expected \(nextToSpawn)")
            nextToSpawn = index + 1
        }
        slots[index].pid = pid
        slots[index].spawnedAt = now
        slotByPid[pid] = index
        liveCount += 1
        let slot = slots[index]
        var actions: [Action] = [
            .emit(.spawned(slot: index, pid: pid, kind: slot.plan.kind, generation: slot.generation))
        ]
        // Running at exec with no uptime to wait for: straight there, as systemd's Type=exec.
        if !(slot.plan.readyOnExec && slot.plan.readyAfter == .zero) { actions += setState(index, .initializing) }
        if slot.plan.readyOnExec {
            actions += readinessMet(index, now: now)
        } else {
            actions += awaitReadiness(index, now: now)
        }
        return actions + checkAllRunning()
    }

    /// The driver could not start a reload's new generation for `slot`: the reload rolls back,
    /// the old process serves on.
    mutating func reloadSpawnFailed(slot index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        guard reloadsDue.remove(index) != nil else { return [] }
        // Nothing was started: the slot's process is still the old one, serving; the rollback
        // stops only the rest of the batch.
        reload?.active.remove(index)
        let actions = rollBack(index, reason: "cannot start its new generation: \(reason)", now: now)
        return actions + continueReload(now: now)
    }

    /// Whether a spawn failure of `slot` now ends the run with a thrown error: a slot's first
    /// start while the server starts (a bad command line). Later ones are that slot's failure.
    func spawnFailureIsFatal(slot index: Int) -> Bool {
        guard case .starting = phase else { return false }
        return !restartsDue.contains(index)
    }

    /// The driver could not start `slot`. While the server starts, every started child is
    /// stopped and the run throws; once it runs, it is that slot's failure: a restart backs off
    /// and retries under a restart policy (counting toward giving up), or fails the slot under
    /// the failure policy; a slot added by scaling retires, and the others run on.
    mutating func spawnFailed(
        slot index: Int, reason: String, error: SpawnError? = nil, now: ContinuousClock.Instant
    ) -> [Action] {
        let fatal = spawnFailureIsFatal(slot: index)
        if fatal, startupSpawnError == nil { startupSpawnError = error }
        let isRestart = restartsDue.remove(index) != nil
        if !isRestart { nextToSpawn = max(nextToSpawn, index + 1) }
        var actions: [Action] = [.emit(.failed(slot: index, .spawnFailed(reason)))]
        if fatal {
            slots[index].failure = .spawnFailed(reason)
            actions += beginStop(
                signal: defaultStopSignal, cause: .spawnFailed(slot: index), reason: .failFast, now: now)
            return actions
        }
        guard isRestart else {
            // A slot added by scaling that never started: it retires; the others run on.
            slots[index].retiring = true
            retiringCount += 1
            workerCount -= 1
            actions += setState(index, .exited)
            actions.append(
                .emit(
                    .scaleRefused(
                        workers: workerCount, reason: "worker.\(index) could not start: \(reason)")))
            return actions + checkAllRunning() + finishIfDone()
        }
        if restartPolicy != .no, !isStoppingOrStopped {
            let window = backoff.window
            slots[index].restartTimes.removeAll { now - $0 >= window }
            if slots[index].restartTimes.count < backoff.maxRestarts {
                return actions + scheduleRestart(index, reason: "spawn failed: \(reason)", now: now)
            }
            let gaveUp = SlotFailure.gaveUp(
                restarts: slots[index].restartTimes.count, window: window, last: .spawnFailed(reason))
            slots[index].failure = gaveUp
            actions.append(.emit(.failed(slot: index, gaveUp)))
        } else {
            slots[index].failure = .spawnFailed(reason)
        }
        actions += setState(index, .exited)
        if failurePolicy == .stopAll, !isStoppingOrStopped {
            actions += beginStop(signal: defaultStopSignal, cause: .failure(slot: index), reason: .failFast, now: now)
        }
        return actions + finishIfDone()
    }

    /// A notify datagram from `pid`; ignored unless `pid` is a live child.
    mutating func notify(from pid: pid_t, _ message: NotifyMessage, now: ContinuousClock.Instant) -> [Action] {
        guard let index = slotByPid[pid], slots[index].isLive, slots[index].pid == pid else { return [] }
        var actions: [Action] = []
        if let status = message.status, status != slots[index].lastStatus {
            slots[index].lastStatus = status
            actions.append(.emit(.status(slot: index, text: status)))
        }
        if message.ready, slots[index].state == .initializing, slots[index].readyMetAt == nil {
            actions += readinessMet(index, now: now)
        }
        if message.stopping, slots[index].state == .initializing || slots[index].state == .running {
            actions += setState(index, .stopping)
        }
        return actions
    }

    /// A signal reached the supervisor. The first stop signal starts the stop and is forwarded;
    /// the first terminating signal that is not a stop signal starts it with the default stop
    /// signal. Later ones send nothing and keep the deadline; they are acknowledged
    /// (``EngineEvent/stopRepeated(_:deadline:)``). Ignored signals are reported.
    mutating func stopSignalReceived(_ signal: Signal, now: ContinuousClock.Instant) -> [Action] {
        let stops = stopSignals.contains(signal)
        guard stops || terminatingSignals.contains(signal) else {
            return ignoredSignals.contains(signal) ? [.emit(.signalIgnored(signal))] : []
        }
        switch phase {
        case .stopping(_, _, let deadline, let escalated):
            return [.emit(.stopRepeated(signal, deadline: escalated ? nil : deadline))]
        case .stopped:
            return []
        case .starting, .running:
            if stops { return beginStop(signal: signal, cause: .signal(signal), reason: .forward, now: now) }
            return beginStop(signal: defaultStopSignal, cause: .signal(signal), reason: .stopCommand, now: now)
        }
    }

    /// A command signal (``SupervisorConfiguration/commandSignals``) reached the supervisor; one
    /// the kernel sent (a terminal's job control) is only reported as ignored, except a hangup
    /// for ``SignalCommand/reloadUnlessHungUp``. `terminalHungUp`: the controlling terminal
    /// corral had at start can no longer be opened.
    mutating func commandSignalReceived(
        _ signal: Signal, sentByProcess: Bool, terminalHungUp: Bool = false, now: ContinuousClock.Instant
    ) -> [Action] {
        if commandSignals[signal] == .reloadUnlessHungUp, terminalHungUp || !sentByProcess {
            if case .stopping(_, _, let deadline, let escalated) = phase {
                return [.emit(.stopRepeated(signal, deadline: escalated ? nil : deadline))]
            }
            if isStoppingOrStopped { return [] }
            // The terminal closed: as q in it would, the first stop signal.
            let first = stopSignals.first ?? defaultStopSignal
            return beginStop(signal: first, cause: .signal(signal), reason: .stopCommand, now: now)
        }
        guard let meaning = commandSignals[signal], sentByProcess else { return [.emit(.signalIgnored(signal))] }
        switch meaning {
        case .reload, .reloadUnlessHungUp: return command(.reload, now: now)
        case .scaleUp:
            return command(.scale(workers: min(workerCount + 1, SupervisorConfiguration.maximumWorkers)), now: now)
        case .scaleDown: return workerCount > 1 ? command(.scale(workers: workerCount - 1), now: now) : []
        }
    }

    /// A front end's command.
    mutating func command(_ command: SupervisorCommand, now: ContinuousClock.Instant) -> [Action] {
        switch command {
        case .stop:
            return beginStop(
                signal: defaultStopSignal, cause: .command(defaultStopSignal), reason: .stopCommand, now: now)
        case .signal(let signal, .all):
            if stopSignals.contains(signal), !isStoppingOrStopped {
                return beginStop(signal: signal, cause: .command(signal), reason: .command, now: now)
            }
            // As intended as one sent to one process: dying of it is not a failure.
            return liveSlots.flatMap { index in
                slots[index].operatorSignals.insert(signal)
                return send(signal, to: index, reason: .command)
            }
        case .signal(let signal, .slot(let index)):
            guard slots.indices.contains(index) else { return [] }
            if servesFromOutgoing(index) { return signalOutgoingByOperator(index, signal) }
            guard slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(signal)
            return send(signal, to: index, reason: .command)
        case .signal(let signal, .process(let index, let generation)):
            guard slots.indices.contains(index) else { return [] }
            if slots[index].outgoing?.generation == generation { return signalOutgoingByOperator(index, signal) }
            guard slots[index].generation == generation, slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(signal)
            return send(signal, to: index, reason: .command)
        case .forceKill(.all):
            var actions: [Action] = []
            if !isStoppingOrStopped {
                phase = .stopping(signal: .kill, cause: .command(.kill), deadline: nil, escalated: true)
                actions.append(.emit(.serverStateChanged(.stopping)))
                actions.append(.emit(.stopping(.kill, cause: .command(.kill), deadline: nil)))
                actions += cancelRestarts()
            }
            actions += liveSlots.flatMap { killGroup($0, reason: .command) }
            actions += endReloadForStop()
            for index in outgoingSlots.sorted() where slots[index].outgoing?.killed == false {
                actions += killOutgoing(index, reason: .command)
            }
            return actions + finishIfDone()
        case .forceKill(.slot(let index)):
            guard slots.indices.contains(index) else { return [] }
            if servesFromOutgoing(index) { return killOutgoing(index, reason: .command) }
            guard slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(.kill)
            return killGroup(index, reason: .command)
        case .forceKill(.process(let index, let generation)):
            guard slots.indices.contains(index) else { return [] }
            if slots[index].outgoing?.generation == generation { return killOutgoing(index, reason: .command) }
            guard slots[index].generation == generation, slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(.kill)
            return killGroup(index, reason: .command)
        case .restart(let index):
            return restartOnRequest(index, now: now)
        case .scale(let workers):
            guard reload == nil else {
                return [
                    .emit(
                        .scaleRefused(
                            workers: workerCount, reason: "a reload is under way: scale to \(workers) once it is done"))
                ]
            }
            return scale(to: workers, now: now)
        case .reload:
            return beginReload(now: now)
        }
    }

    /// The child in `slot` ended and was reaped. `groupRemains`: other processes of its
    /// process group still run; they are stopped like it (the stop signal once, `SIGKILL` at
    /// the deadline), and the slot holds the run until ``groupEnded(slot:)``.
    mutating func exited(
        slot index: Int, _ termination: Termination, groupRemains: Bool = false, lastLines: [String] = [],
        now: ContinuousClock.Instant
    ) -> [Action] {
        guard let pid = slots[index].pid, slots[index].end == nil else { return [] }
        if slots[index].outgoing != nil, !isStoppingOrStopped,
            slots[index].readyDeadline != nil || reload?.active.contains(index) == true
        {
            return failedSuccessorExited(index, termination, lastLines: lastLines, now: now)
        }
        var end = classify(index, termination)
        end.lastLines = lastLines
        killDeadlineSlots.remove(index)
        forgetReadiness(index)
        healthSlots.remove(index)
        let replaced = slots[index].restartRequested && !isStoppingOrStopped
        let healthRestart = isStoppingOrStopped ? nil : slots[index].healthRestart
        let restart: RestartDecision
        if replaced {
            restart = .none
        } else if healthRestart != nil {
            restart = healthRestartDecision(index, now: now)
        } else {
            restart = restartDecision(index, end, now: now)
        }
        if case .giveUp(let failure) = restart { end.failure = failure }
        slots[index].end = end
        slots[index].groupLingers = groupRemains
        if groupRemains { lingeringSlots.insert(index) }
        slotByPid[pid] = nil
        if !groupRemains { liveCount -= 1 }
        var actions = setState(index, .exited)
        actions.append(.emit(.exited(slot: index, pid: pid, end, generation: slots[index].generation)))
        // A reload's new generation that ended after its predecessor had already gone: nothing
        // to give the slot back to, but the reload stops there all the same.
        if reload?.active.remove(index) != nil {
            slots[index].readyDeadline = nil
            if reload?.rollback == nil {
                actions += rollBack(index, reason: "generation \(slots[index].generation) \(termination)", now: now)
            }
            actions += continueReload(now: now)
        }
        if replaced {
            // Replaced on request: how the old process ended is in its event, not in the report.
            slots[index].end?.failure = nil
            actions += scheduleRequestedRestart(index, now: now)
        } else if case .restart = restart {
            // The policy handles the crash: by itself it does not fail the run (its event said how
            // it ended), also when a stop cancels the restart.
            slots[index].end?.failure = nil
            let reason = healthRestart.map { "\($0.reason): \($0.detail)" } ?? termination.description
            actions += scheduleRestart(index, reason: reason, now: now)
        } else if slots[index].retiring {
            // Retired by a scale-down: an end, not a failure of the server.
        } else if end.failure != nil, !isStoppingOrStopped, failurePolicy == .stopAll {
            actions += beginStop(signal: defaultStopSignal, cause: .failure(slot: index), reason: .failFast, now: now)
        }
        if groupRemains { actions += stopLingeringGroup(index, now: now) }
        return actions + finishIfDone()
    }

    /// The last process of `slot`'s process group has ended (after its own process did).
    mutating func groupEnded(slot index: Int) -> [Action] {
        guard slots[index].groupLingers else { return [] }
        slots[index].groupLingers = false
        lingeringSlots.remove(index)
        liveCount -= 1
        return finishIfDone()
    }

    /// Every child has ended and the driver has looked for what outlived them (descendants
    /// that left their process groups): the final report, as the `stopped` event. Once.
    mutating func finish(leftBehind: [SupervisorReport.LeftBehind]) -> [Action] {
        guard isStopped, !finished else { return [] }
        finished = true
        self.leftBehind = leftBehind
        return [.emit(.stopped(report))]
    }

    /// Time passed: escalate after the wait timeout, fail slots past the init timeout, make
    /// restarts due whose delay has passed (and whose old process group has ended).
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions = readinessTick(now: now) + healthTick(now: now)
        for index in backoffSlots.sorted() where !slots[index].groupLingers {
            guard let due = slots[index].restartAt, now >= due else { continue }
            backoffSlots.remove(index)
            restartsDue.insert(index)
        }
        for index in outgoingSlots.sorted() {
            if let due = slots[index].outgoing?.killAt, now >= due, slots[index].outgoing?.killed == false {
                actions += killOutgoing(index, reason: .timeout)
            }
        }
        for index in (reload?.active ?? []).sorted() {
            if let due = slots[index].readyDeadline, now >= due, slots[index].state == .initializing,
                slots[index].isLive, !isStoppingOrStopped
            {
                slots[index].readyDeadline = nil
                actions += rollBack(
                    index, reason: "\(readyTimeout?.secondsText ?? "the ready timeout") passed before it was running",
                    now: now)
            }
        }
        for index in killDeadlineSlots.sorted() {
            guard let due = slots[index].killAt, now >= due else { continue }
            killDeadlineSlots.remove(index)
            slots[index].killAt = nil
            if slots[index].holdsRun, !slots[index].groupKilled { actions += killGroup(index, reason: .timeout) }
        }
        if case .stopping(let signal, let cause, let deadline?, false) = phase, now >= deadline {
            phase = .stopping(signal: signal, cause: cause, deadline: deadline, escalated: true)
            actions += liveSlots.filter { !slots[$0].groupKilled }.flatMap { killGroup($0, reason: .timeout) }
            for index in outgoingSlots.sorted() where slots[index].outgoing?.killed == false {
                actions += killOutgoing(index, reason: .timeout)
            }
        }
        // A group that lingers since its process ended has a deadline of its own, also when a
        // stop began after it (the stop's may be later).
        for index in lingeringSlots.sorted() where !slots[index].groupKilled {
            guard let due = slots[index].groupDeadline, now >= due else { continue }
            slots[index].groupDeadline = nil
            actions += killGroup(index, reason: .timeout)
        }
        if let initTimeout {
            for index in slots.indices where slots[index].state == .initializing && slots[index].failure == nil {
                guard let spawnedAt = slots[index].spawnedAt, now >= spawnedAt + initTimeout else { continue }
                slots[index].failure = .initTimedOut(initTimeout)
                actions.append(.emit(.failed(slot: index, .initTimedOut(initTimeout))))
                if failurePolicy == .stopAll && !isStoppingOrStopped {
                    actions += beginStop(
                        signal: defaultStopSignal, cause: .failure(slot: index), reason: .failFast, now: now)
                } else if slots[index].isLive {
                    actions += killGroup(index, reason: .timeout)
                }
            }
        }
        return actions
    }

    // MARK: - Transitions

    var isStoppingOrStopped: Bool {
        switch phase {
        case .starting, .running: return false
        case .stopping, .stopped: return true
        }
    }

    /// The slots whose process or process group still runs.
    private var liveSlots: [Int] { slots.indices.filter { slots[$0].holdsRun } }

    /// What remains of an ended slot's group gets a stop signal once: the stop's (at once, or
    /// `SIGKILL` if the stop already escalated), or outside a stop the default stop signal with
    /// a deadline of its own.
    private mutating func stopLingeringGroup(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        switch phase {
        case .stopping(let signal, _, _, let escalated):
            if escalated { return slots[index].groupKilled ? [] : killGroup(index, reason: .timeout) }
            if slots[index].groupStopSignalled { return [] }
            return send(signal, to: index, reason: .cleanup)
        case .starting, .running:
            slots[index].groupDeadline = waitTimeout.map { now + $0 }
            if slots[index].groupStopSignalled { return [] }
            return send(defaultStopSignal, to: index, reason: .cleanup)
        case .stopped:
            return []
        }
    }

    private mutating func beginStop(
        signal: Signal, cause: StopCause, reason: SignalReason, now: ContinuousClock.Instant
    ) -> [Action] {
        guard !isStoppingOrStopped else { return [] }
        let deadline = waitTimeout.map { now + $0 }
        phase = .stopping(signal: signal, cause: cause, deadline: deadline, escalated: false)
        var actions: [Action] = [
            .emit(.serverStateChanged(.stopping)), .emit(.stopping(signal, cause: cause, deadline: deadline)),
        ]
        actions += cancelRestarts()
        actions += endReloadForStop()
        for index in outgoingSlots.sorted() where slots[index].outgoing?.stopSent == false {
            actions += stopOutgoing(index, signal: signal, reason: reason, now: now)
        }
        // A group already sent a stop signal (by a command, or after its process ended) is not
        // sent another: one stop signal per process.
        for index in liveSlots where !slots[index].groupStopSignalled {
            actions += send(signal, to: index, reason: reason)
        }
        return actions + finishIfDone()
    }

    mutating func send(_ signal: Signal, to index: Int, reason: SignalReason) -> [Action] {
        guard let pid = slots[index].pid else { return [] }
        slots[index].sent.append(SentSignal(signal: signal, reason: reason))
        if reason != .command || stopSignals.contains(signal) || signal == .terminate || signal == .interrupt
            || signal == .kill
        {
            slots[index].endRequested = true
        }
        if stopSignals.contains(signal) || signal == defaultStopSignal { slots[index].groupStopSignalled = true }
        var actions: [Action] = [
            .signal(slot: index, signal),
            .emit(.signalSent(slot: index, pid: pid, signal, reason, generation: slots[index].generation)),
        ]
        if slots[index].endRequested, slots[index].state == .initializing || slots[index].state == .running {
            actions += setState(index, .stopping)
        }
        return actions
    }

    private mutating func killGroup(_ index: Int, reason: SignalReason) -> [Action] {
        guard let pid = slots[index].pid else { return [] }
        if slots[index].groupLingers, reason == .timeout, slots[index].end?.failure == nil,
            slots[index].failure == nil
        {
            slots[index].failure = .groupKilledAfterTimeout(waitTimeout ?? .zero)
        }
        slots[index].sent.append(SentSignal(signal: .kill, reason: reason))
        slots[index].endRequested = true
        slots[index].groupKilled = true
        var actions: [Action] = [
            .killGroup(slot: index),
            .emit(.signalSent(slot: index, pid: pid, .kill, reason, generation: slots[index].generation)),
        ]
        if slots[index].state == .initializing || slots[index].state == .running {
            actions += setState(index, .stopping)
        }
        return actions
    }

    mutating func setState(_ index: Int, _ state: ProcessState) -> [Action] {
        guard slots[index].state != state else { return [] }
        if slots[index].state == .running { runningCount -= 1 }
        if state == .running { runningCount += 1 }
        slots[index].state = state
        return [.emit(.stateChanged(slot: index, state, generation: slots[index].generation))]
    }

    mutating func checkAllRunning() -> [Action] {
        guard case .starting = phase, firstUnspawned == nil, runningCount == slots.count - retiringCount else {
            return []
        }
        phase = .running
        return [.emit(.serverStateChanged(.running))]
    }

    private mutating func finishIfDone() -> [Action] {
        guard !isStopped, liveCount == 0, backoffSlots.isEmpty, restartsDue.isEmpty, outgoingSlots.isEmpty else {
            return []
        }
        switch phase {
        case .starting, .running:
            // Nothing live and nothing left to spawn: every child ended by itself.
            guard firstUnspawned == nil else { return [] }
            finalCause = .allExited
            finalSignal = nil
        case .stopping(let signal, let cause, _, _):
            finalCause = cause
            finalSignal = signal
        case .stopped:
            return []
        }
        phase = .stopped
        return [.emit(.serverStateChanged(.stopped))]
    }

    // MARK: - Reloads

    /// ``SupervisorCommand/reload``: every running worker, in index order.
    private mutating func beginReload(now: ContinuousClock.Instant) -> [Action] {
        guard reload == nil, !isStoppingOrStopped else { return [] }
        let targets = slots.indices.filter {
            slots[$0].plan.kind == .worker && !slots[$0].retiring && slots[$0].state == .running
                && slots[$0].outgoing == nil
        }
        reload = Reload(queue: targets)
        reloadRound += 1
        return [.emit(.reload(.started(workers: targets.count)))] + continueReload(now: now)
    }

    /// Starts the next slots while fewer than a batch are starting; reports the end.
    private mutating func continueReload(now: ContinuousClock.Instant) -> [Action] {
        guard var current = reload else { return [] }
        if current.rollback == nil {
            while current.active.count < reloadBatch, !current.queue.isEmpty {
                let index = current.queue.removeFirst()
                // A slot that stopped running meanwhile (it crashed, it retired) is skipped.
                guard slots[index].state == .running, slots[index].outgoing == nil, slots[index].isLive else {
                    continue
                }
                current.active.insert(index)
                reloadsDue.insert(index)
            }
        }
        reload = current
        guard current.active.isEmpty else { return [] }
        reload = nil
        if let rollback = current.rollback {
            return [
                .emit(
                    .reload(
                        .rolledBack(
                            slot: rollback.slot, reason: rollback.reason, replaced: current.replaced,
                            failedEnd: current.failedEnd)))
            ]
        }
        return [.emit(.reload(.done(replaced: current.replaced)))]
    }

    /// The slot's new generation is running: its outgoing process stops (new before old).
    mutating func successorRunning(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        guard reload?.active.contains(index) == true else { return [] }
        slots[index].readyDeadline = nil
        reload?.active.remove(index)
        reload?.replaced += 1
        // Its predecessor may have ended by itself meanwhile: then there is nothing to stop.
        var actions = stopOutgoing(index, signal: defaultStopSignal, reason: .reload, now: now)
        actions += continueReload(now: now)
        return actions
    }

    /// The first stop signal to the outgoing process's group, with a `SIGKILL` deadline.
    private mutating func stopOutgoing(
        _ index: Int, signal: Signal, reason: SignalReason, now: ContinuousClock.Instant
    ) -> [Action] {
        guard let outgoing = slots[index].outgoing, !outgoing.stopSent else { return [] }
        slots[index].outgoing?.sent.append(SentSignal(signal: signal, reason: reason))
        let deadline = waitTimeout.map { now + $0 }
        if slots[index].outgoing?.killAt == nil { slots[index].outgoing?.killAt = deadline }
        return [
            .signalOutgoing(slot: index, signal),
            .emit(.signalSent(slot: index, pid: outgoing.pid, signal, reason, generation: outgoing.generation)),
        ]
    }

    /// Whether the slot's serving process is its outgoing one: a reload's successor starts.
    private func servesFromOutgoing(_ index: Int) -> Bool {
        guard let outgoing = slots[index].outgoing, !outgoing.killed else { return false }
        return slots[index].state != .running
    }

    /// An operator's signal to the outgoing process of `slot` (dying of it is intended).
    private mutating func signalOutgoingByOperator(_ index: Int, _ signal: Signal) -> [Action] {
        guard let outgoing = slots[index].outgoing, !outgoing.killed else { return [] }
        if signal == .kill { return killOutgoing(index, reason: .command) }
        slots[index].outgoing?.sent.append(SentSignal(signal: signal, reason: .command))
        return [
            .signalOutgoing(slot: index, signal),
            .emit(.signalSent(slot: index, pid: outgoing.pid, signal, .command, generation: outgoing.generation)),
        ]
    }

    private mutating func killOutgoing(_ index: Int, reason: SignalReason) -> [Action] {
        guard let outgoing = slots[index].outgoing, !outgoing.killed else { return [] }
        slots[index].outgoing?.sent.append(SentSignal(signal: .kill, reason: reason))
        return [
            .killOutgoingGroup(slot: index),
            .emit(.signalSent(slot: index, pid: outgoing.pid, .kill, reason, generation: outgoing.generation)),
        ]
    }

    /// A reload's new generation failed (`reason`): it is stopped; when it has ended the old
    /// process is the slot's again. Nothing more starts; the reload reports the rollback once
    /// the new generations still starting have ended.
    private mutating func rollBack(_ index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        if reload?.rollback == nil { reload?.rollback = (index, reason) }
        reload?.queue.removeAll()
        var actions: [Action] = []
        for other in (reload?.active ?? []).sorted() where slots[other].isLive && !slots[other].groupKilled {
            actions += killGroup(other, reason: .reload)
        }
        return actions
    }

    /// The new generation of a slot under reload ended before it was running: the old process
    /// takes the slot back, and the reload rolls back.
    private mutating func failedSuccessorExited(
        _ index: Int, _ termination: Termination, lastLines: [String], now: ContinuousClock.Instant
    ) -> [Action] {
        guard let pid = slots[index].pid, let outgoing = slots[index].outgoing else { return [] }
        var actions: [Action] = []
        // It has ended: the rollback stops the rest of its batch, not it.
        reload?.active.remove(index)
        if reload?.rollback == nil {
            actions += rollBack(index, reason: "generation \(slots[index].generation) \(termination)", now: now)
        }
        var end = SlotEnd(termination: termination, origin: nil, failure: .initFailed(termination))
        end.lastLines = lastLines
        if let signal = termination.signal {
            end.origin =
                slots[index].sent.last(where: { $0.signal == signal }).map { .supervisor($0.reason) } ?? .external
        }
        if reload?.rollback?.slot == index, reload?.failedEnd == nil { reload?.failedEnd = end }
        slotByPid[pid] = nil
        liveCount -= 1
        forgetReadiness(index)
        healthSlots.remove(index)
        actions.append(.emit(.exited(slot: index, pid: pid, end, generation: slots[index].generation)))
        // The old process is the slot's again, running as before.
        let restarts = slots[index].restarts
        let plan = slots[index].plan
        slots[index] = Slot(plan: plan)
        slots[index].pid = outgoing.pid
        slots[index].generation = outgoing.generation
        slots[index].restarts = restarts
        slots[index].restartTimes = []
        slots[index].spawnedAt = outgoing.spawnedAt
        slots[index].runningSince = outgoing.runningSince
        outgoingSlots.remove(index)
        actions.append(.emit(.reinstated(slot: index, pid: outgoing.pid, generation: outgoing.generation)))
        actions += setState(index, .running)
        return actions + continueReload(now: now)
    }

    /// The outgoing process of `slot` ended: reported with its own generation. What remains of
    /// its process group (it was sent the stop signal) is `SIGKILL`ed.
    mutating func outgoingExited(
        slot index: Int, _ termination: Termination, groupRemains: Bool, now: ContinuousClock.Instant
    ) -> [Action] {
        guard let outgoing = slots[index].outgoing else { return [] }
        // Who sent the signal it died of, as for a slot's process (``classify(_:_:)``).
        let origin: SignalOrigin? = termination.signal.map { signal in
            outgoing.sent.last { $0.signal == signal }.map { .supervisor($0.reason) } ?? .external
        }
        let failure: SlotFailure?
        switch (termination, origin) {
        case (.exited(code: 0), _) where outgoing.stopSent, (.reapedElsewhere, _): failure = nil
        case (.signaled(.kill, _), .supervisor(.timeout)?): failure = .killedAfterTimeout(waitTimeout ?? .zero)
        case (.signaled(.kill, _), .supervisor(.command)?): failure = .forceKilled
        case (.signaled, .supervisor?): failure = nil
        // Never asked to stop: it crashed while its successor was starting.
        case _ where !outgoing.stopSent: failure = .exitedUnexpectedly(termination)
        default: failure = .shutdownFailed(termination)
        }
        let end = SlotEnd(termination: termination, origin: origin, failure: failure)
        var actions: [Action] = [.emit(.exited(slot: index, pid: outgoing.pid, end, generation: outgoing.generation))]
        if groupRemains, !outgoing.killed { actions += killOutgoing(index, reason: .cleanup) }
        slots[index].outgoing = nil
        outgoingSlots.remove(index)
        slotByPid[outgoing.pid] = nil
        liveCount -= 1
        if !outgoing.stopSent, reload?.active.contains(index) == true, !isStoppingOrStopped {
            // Its successor, still starting, is the slot's only process now: nothing to roll back
            // to, so no ready timeout; it takes the slot once running (or fails as any process does).
            slots[index].readyDeadline = nil
            reload?.active.remove(index)
            reload?.replaced += 1
            actions += continueReload(now: now)
        }
        return actions + finishIfDone()
    }

    /// The server began to stop during a reload: nothing more starts.
    private mutating func endReloadForStop() -> [Action] {
        guard let current = reload else { return [] }
        reload = nil
        reloadsDue.removeAll()
        return [
            .emit(
                .reload(
                    .rolledBack(
                        slot: nil, reason: "the server is stopping", replaced: current.replaced, failedEnd: nil)))
        ]
    }

    // MARK: - Restarts

    enum RestartDecision {
        case none
        case restart
        case giveUp(SlotFailure)
    }

    /// Whether the slot's process that just ended (as `end`) is restarted, or gave up.
    private mutating func restartDecision(_ index: Int, _ end: SlotEnd, now: ContinuousClock.Instant)
        -> RestartDecision
    {
        guard restartPolicy != .no, !isStoppingOrStopped else { return .none }
        let slot = slots[index]
        guard !slot.endRequested, !end.isStoppedByOperator, slot.failure == nil else { return .none }
        // On the first start, an init failure is a broken configuration: fail fast, do not loop.
        if case .initFailed? = end.failure, slot.generation == 0 { return .none }
        switch restartPolicy {
        case .no: return .none
        case .onFailure: if end.failure == nil || end.termination == .exited(code: 0) { return .none }
        case .always: break
        }
        let window = backoff.window
        slots[index].restartTimes.removeAll { now - $0 >= window }
        if slots[index].restartTimes.count >= backoff.maxRestarts {
            return .giveUp(
                .gaveUp(restarts: slots[index].restartTimes.count, window: backoff.window, last: end.failure))
        }
        return .restart
    }

    /// Puts the slot in backoff for its next generation.
    mutating func scheduleRestart(_ index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        if let since = slots[index].runningSince, now - since >= backoff.reset { slots[index].streak = 0 }
        slots[index].streak += 1
        let attempt = slots[index].streak
        let delay = backoff.delay(attempt: attempt, jitter: jitter())
        slots[index].restartAt = now + delay
        slots[index].restartTimes.append(now)
        backoffSlots.insert(index)
        var actions = setState(index, .backoff)
        actions.append(
            .emit(
                .restartScheduled(
                    slot: index, generation: slots[index].generation + 1, attempt: attempt, delay: delay,
                    reason: reason)))
        return actions
    }

    /// Schedules the next generation of a slot whose process was replaced on request: at once.
    private mutating func scheduleRequestedRestart(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        slots[index].restartAt = now
        backoffSlots.insert(index)
        var actions = setState(index, .backoff)
        actions.append(
            .emit(
                .restartScheduled(
                    slot: index, generation: slots[index].generation + 1, attempt: 0, delay: .zero,
                    reason: "restart requested")))
        return actions
    }

    /// ``SupervisorCommand/restart(slot:)``.
    private mutating func restartOnRequest(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        guard slots.indices.contains(index), !isStoppingOrStopped, !slots[index].retiring else { return [] }
        if slots[index].isLive {
            guard !slots[index].restartRequested else { return [] }
            slots[index].restartRequested = true
            if let waitTimeout {
                slots[index].killAt = now + waitTimeout
                killDeadlineSlots.insert(index)
            }
            // Its group may have had a stop signal already (an operator's): then only SIGKILL
            // at the deadline ends it.
            if slots[index].groupStopSignalled { return [] }
            return send(defaultStopSignal, to: index, reason: .restart)
        }
        if backoffSlots.contains(index) {
            slots[index].restartAt = now
            return []
        }
        // Ended for good (gave up, or failed with keep-running): start it again now.
        guard slots[index].pid != nil, slots[index].end != nil, !restartsDue.contains(index) else { return [] }
        slots[index].restartRequested = true
        return scheduleRequestedRestart(index, now: now)
    }

    /// ``SupervisorCommand/scale(workers:)``.
    private mutating func scale(to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        guard !isStoppingOrStopped, (1...SupervisorConfiguration.maximumWorkers).contains(workers) else { return [] }
        let active = slots.indices.filter { slots[$0].plan.kind == .worker && !slots[$0].retiring }
        var actions: [Action] = []
        if workers > active.count {
            for _ in active.count..<workers { slots.append(Slot(plan: workerPlan)) }
            workerCount += workers - active.count
        } else {
            for index in active.suffix(active.count - workers).reversed() { actions += retire(index, now: now) }
        }
        actions.append(.emit(.scaled(workers: workers)))
        return actions + checkAllRunning() + finishIfDone()
    }

    /// Retires a worker slot: its process gets the default stop signal (`SIGKILL` after the
    /// wait timeout); a pending restart is cancelled; a slot not started yet never starts.
    private mutating func retire(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        slots[index].retiring = true
        retiringCount += 1
        workerCount -= 1
        if backoffSlots.remove(index) != nil || restartsDue.remove(index) != nil {
            slots[index].restartAt = nil
            return setState(index, .exited)
        }
        guard slots[index].isLive else { return [] }
        if let waitTimeout {
            slots[index].killAt = now + waitTimeout
            killDeadlineSlots.insert(index)
        }
        if slots[index].groupStopSignalled { return [] }
        return send(defaultStopSignal, to: index, reason: .scale)
    }

    /// A stop began: restarts waiting for their time are cancelled, nothing more is spawned.
    private mutating func cancelRestarts() -> [Action] {
        let waiting = backoffSlots.union(restartsDue).sorted()
        backoffSlots.removeAll()
        restartsDue.removeAll()
        var actions: [Action] = []
        for index in waiting {
            slots[index].restartAt = nil
            actions += setState(index, .exited)
        }
        return actions
    }

    /// Decides whether an ended slot failed, and who sent the signal that ended it.
    private func classify(_ index: Int, _ termination: Termination) -> SlotEnd {
        let slot = slots[index]
        var origin: SignalOrigin?
        if let signal = termination.signal {
            origin = slot.sent.last(where: { $0.signal == signal }).map { .supervisor($0.reason) } ?? .external
        }
        if let failure = slot.failure { return SlotEnd(termination: termination, origin: origin, failure: failure) }
        if let signal = termination.signal, slot.operatorSignals.contains(signal), origin == .supervisor(.command) {
            var end = SlotEnd(termination: termination, origin: origin, failure: nil)
            end.isStoppedByOperator = true
            return end
        }
        let failure: SlotFailure?
        if case .supervisor(let reason)? = origin, termination.signal == .kill {
            failure = reason == .timeout ? .killedAfterTimeout(waitTimeout ?? .zero) : .forceKilled
        } else if slot.endRequested {
            switch termination {
            case .exited(0): failure = nil
            case .exited(WorkerExitCode.initFailure) where slot.state != .running && slot.state != .stopping:
                failure = .initFailed(termination)
            case .exited:
                failure = slot.state == .initializing ? .initFailed(termination) : .shutdownFailed(termination)
            case .signaled:
                failure = origin == .external ? .shutdownFailed(termination) : nil
            case .reapedElsewhere:
                failure = nil
            }
        } else if slot.state == .initializing {
            failure = .initFailed(termination)
        } else if slot.plan.kind == .extra, termination == .exited(code: 0) {
            failure = nil
        } else {
            failure = .exitedUnexpectedly(termination)
        }
        return SlotEnd(termination: termination, origin: origin, failure: failure)
    }
}
