import Glibc

/// The supervisor's lifecycle as a pure state machine: inputs (spawned, notify message, exit,
/// stop signal, command, time) in, actions (signal, kill a group, emit an event) out. No I/O:
/// the driver performs the actions. Time is always passed in, so tests are deterministic.
///
/// This file holds the stored state and dispatches each input; the rules live one concern per
/// file: `+Slot` (the seat record), `SignalLedger` (who sent what), `+Spawn`, `+Readiness`,
/// `+Health`, `+Stop`, `+Restart`, `+Scale`, `+Reload` (which owns the outgoing processes),
/// `+Timers` and `+Classification`.
struct SupervisorCore {
    let waitTimeout: Duration?
    let initTimeout: Duration?
    let stopSignals: [Signal]
    let terminatingSignals: [Signal]
    let ignoredSignals: [Signal]
    let defaultStopSignal: Signal
    let failurePolicy: FailurePolicy
    let restartPolicy: RestartPolicy
    let backoff: RestartBackoff
    /// A number in -1...1 for each restart's jitter (injected by tests).
    let jitter: () -> Double
    let commandSignals: [Signal: SignalCommand]
    var slots: [Slot]
    var phase: Phase = .starting
    /// The first slot of the first start (or added by scaling) not spawned yet.
    var nextToSpawn = 0
    var slotByPid: [pid_t: Int] = [:]
    /// The slots whose group lingers (so timers look at them, not at every slot).
    var lingeringSlots: Set<Int> = []
    /// How many slots are in the running state (so "all running" costs no scan).
    var runningCount = 0
    /// How many processes hold the run up (``Slot/holdsRun``, and outgoing processes).
    var liveCount = 0
    /// Slots in backoff, waiting for their restart time (and for their old group to end).
    var backoffSlots: Set<Int> = []
    /// Slots whose next generation is due: the driver spawns them after the initial ones.
    var restartsDue: Set<Int> = []
    /// Live slots with a `SIGKILL` deadline of their own (a restart or a retirement under way).
    var killDeadlineSlots: Set<Int> = []
    /// How many slots retire (or retired): they are not counted as wanted running.
    var retiringCount = 0
    /// How many worker slots the server runs (not counting the retiring ones); kept as slots are
    /// added and retired, so the driver can read it on every spawn.
    var workerCount: Int
    /// What a worker slot added by scaling runs like.
    let workerPlan: SlotPlan
    /// The slots' names in a run of programs (`web.1`), for the report; empty otherwise.
    var names: [ProcessName] = []
    /// A run of programs' programs, in order (none for one command's run); a file reload adds
    /// to them and marks some removed.
    var gates: [ProgramGate] = []
    /// How a program's processes run where it does not say.
    var programDefaults = ProgramDefaults()
    /// A reload without programs reads the programs again (``Action/readPrograms``): a run of a
    /// file's programs.
    var readsPrograms = false
    /// One-shot processes that completed (exit 0): done, not waited for to run.
    var completedCount = 0
    /// During a stop, the programs that get the stop signal once their dependents have ended.
    var stoppedLater: Set<Int> = []
    /// Why the stop under way sends its signal (for the programs stopped later).
    var stopReason: SignalReason = .forward
    /// Reloads: the one under way, and the processes they replace.
    var reloads: Reloads
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
    /// The spawn error that ended the start (``spawnFailed(slot:reason:error:now:)``).
    var startupSpawnError: SpawnError?
    var finalCause: StopCause?
    var finalSignal: Signal?
    /// What outlived the run, learnt by the driver once every child ended (``finish(leftBehind:)``).
    var leftBehind: [SupervisorReport.LeftBehind] = []
    var finished = false

    /// The server's phases; a stop's signal, cause and `SIGKILL` deadline are part of it.
    enum Phase {
        case starting
        case running
        case stopping(signal: Signal, cause: StopCause, deadline: ContinuousClock.Instant?, escalated: Bool)
        case stopped
    }

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
        self.reloads = Reloads(batch: max(1, reloadBatch), readyTimeout: readyTimeout ?? waitTimeout)
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
        let plans: [SlotPlan]
        if configuration.programs.isEmpty {
            plans =
                Array(repeating: Self.workerPlan(configuration), count: configuration.workers)
                + Array(repeating: SlotPlan(kind: .extra, readyOnExec: true), count: configuration.extras.count)
        } else {
            plans = []
        }
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
        programDefaults = ProgramDefaults(
            readiness: configuration.workerReadiness, readyAfter: configuration.readyAfter,
            healthChecked: configuration.health != nil)
        setUpPrograms(configuration.programs)
        readsPrograms = configuration.programSource != nil && !configuration.programs.isEmpty
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

    /// Whether the server began to stop (or stopped): nothing more starts.
    var isStoppingOrStopped: Bool {
        switch phase {
        case .starting, .running: return false
        case .stopping, .stopped: return true
        }
    }

    /// The slot a live child pid belongs to.
    func slot(forPid pid: pid_t) -> Int? { slotByPid[pid] }

    /// How many slots there are (configured and added by scaling).
    var slotCount: Int { slots.count }

    /// The state of one slot.
    func state(ofSlot index: Int) -> ProcessState { slots[index].state }

    /// The slots whose process or process group still runs.
    var liveSlots: [Int] { slots.indices.filter { slots[$0].holdsRun } }

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
                    lastStatus: slot.lastStatus, generation: slot.generation, restarts: slot.restarts,
                    processName: index < names.count ? names[index] : nil)
            }, leftBehind: leftBehind, spawnError: startupSpawnError)
    }

    // MARK: - Inputs

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

    /// A command signal (``SupervisorConfiguration/commandSignals``) reached the supervisor; one
    /// the kernel sent (a terminal's job control) is only reported as ignored, except a hangup
    /// for ``SignalCommand/reloadUnlessHungUp``. `terminalHungUp`: the controlling terminal
    /// corral had at start can no longer be opened.
    mutating func commandSignalReceived(
        _ signal: Signal, sentByProcess: Bool, terminalHungUp: Bool = false, now: ContinuousClock.Instant
    ) -> [Action] {
        if commandSignals[signal] == .reloadUnlessHungUp, terminalHungUp || !sentByProcess {
            return hangUp(signal, now: now)
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
        case .signal(let signal, let target):
            return signalByOperator(signal, to: target, now: now)
        case .forceKill(let target):
            return forceKill(target)
        case .restart(let index):
            return restartOnRequest(index, now: now)
        case .scale(let workers):
            return scaleOnRequest(to: workers, now: now)
        case .reload:
            return readsPrograms ? [.readPrograms] : beginReload(now: now)
        case .scaleProgram(let name, let workers):
            guard let gate = programIndex(named: name) else {
                return [.emit(.scaleRefused(workers: 0, reason: unknownProgram(name), program: name))]
            }
            return scaleProgramOnRequest(gate, to: workers, now: now)
        case .reloadPrograms(let names):
            return reloadPrograms(names, now: now)
        case .update(let programs):
            return update(programs, now: now)
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
        if isSuccessorStarting(index) {
            return failedSuccessorExited(index, termination, lastLines: lastLines, now: now)
        }
        var end = classify(index, termination)
        end.lastLines = lastLines
        killDeadlineSlots.remove(index)
        forgetReadiness(index)
        healthSlots.remove(index)
        let replacement = isStoppingOrStopped ? nil : slots[index].replacement
        let restart: RestartDecision
        switch replacement {
        case .requested?: restart = .none
        case .unhealthy?: restart = healthRestartDecision(index, now: now)
        case nil: restart = restartDecision(index, end, now: now)
        }
        if case .giveUp(let failure) = restart { end.failure = failure }
        slots[index].end = end
        if groupRemains {
            slots[index].lingering = Lingering()
            lingeringSlots.insert(index)
        }
        slotByPid[pid] = nil
        if !groupRemains { liveCount -= 1 }
        var actions = setState(index, .exited)
        actions.append(.emit(.exited(slot: index, pid: pid, end, generation: slots[index].generation)))
        actions += successorEnded(index, termination, now: now)
        if slots[index].plan.oneshot, end.failure == nil, termination == .exited(code: 0), !isStoppingOrStopped {
            completedCount += 1
        }
        if case .requested? = replacement {
            // Replaced on request: how the old process ended is in its event, not in the report.
            slots[index].end?.failure = nil
            actions += scheduleRequestedRestart(index, now: now)
        } else if case .restart = restart {
            // The policy handles the crash: by itself it does not fail the run (its event said how
            // it ended), also when a stop cancels the restart.
            slots[index].end?.failure = nil
            let reason: String
            if case .unhealthy(let signalReason, let detail)? = replacement {
                reason = "\(signalReason): \(detail)"
            } else {
                reason = termination.description
            }
            actions += scheduleRestart(index, reason: reason, now: now)
        } else if slots[index].retiring {
            // Retired by a scale-down: an end, not a failure of the server.
        } else if end.failure != nil, !isStoppingOrStopped, failurePolicy == .stopAll {
            actions += beginStop(signal: defaultStopSignal, cause: .failure(slot: index), reason: .failFast, now: now)
        }
        if groupRemains { actions += stopLingeringGroup(index, now: now) }
        actions += updateGates(now: now)
        actions += continueStop(now: now)
        return actions + checkAllRunning() + finishIfDone()
    }

    /// The last process of `slot`'s process group has ended (after its own process did).
    mutating func groupEnded(slot index: Int, now: ContinuousClock.Instant) -> [Action] {
        guard slots[index].lingering != nil else { return [] }
        slots[index].lingering = nil
        lingeringSlots.remove(index)
        liveCount -= 1
        return continueStop(now: now) + finishIfDone()
    }

    /// Every child has ended and the driver has looked for what outlived them (descendants
    /// that left their process groups): the final report, as the `stopped` event. Once.
    mutating func finish(leftBehind: [SupervisorReport.LeftBehind]) -> [Action] {
        guard isStopped, !finished else { return [] }
        finished = true
        self.leftBehind = leftBehind
        return [.emit(.stopped(report))]
    }

    /// The slot's state changes (an event when it does).
    mutating func setState(_ index: Int, _ state: ProcessState) -> [Action] {
        guard slots[index].state != state else { return [] }
        if slots[index].state == .running { runningCount -= 1 }
        if state == .running { runningCount += 1 }
        slots[index].state = state
        return [.emit(.stateChanged(slot: index, state, generation: slots[index].generation))]
    }

    /// The server is running once every wanted slot is.
    mutating func checkAllRunning() -> [Action] {
        guard case .starting = phase, gates.isEmpty ? firstUnspawned == nil : allProgramsStarted,
            runningCount + completedCount == slots.count - retiringCount
        else {
            return []
        }
        phase = .running
        return [.emit(.serverStateChanged(.running))]
    }
}
