import Glibc
import Logging
import SystemPackage

/// The one-thread `poll()` loop that performs what ``SupervisorCore`` decides: spawns children,
/// watches the stop-signal pipe, the notify socket, every pidfd and output pipe and the front
/// end's descriptors, and sleeps without a timeout when nothing is due.
final class SupervisorDriver {
    let configuration: SupervisorConfiguration
    let signals: SignalPipe
    /// The command signals (reload, scale), read from a signalfd while the run lasts.
    var commandSignals: CommandSignalSource?
    let frontend: any Frontend
    /// The front end again when the driver also polls it (its descriptors, deadline, commands).
    let polling: (any PollingFrontend)?
    var core: SupervisorCore
    let notify: NotifySocket
    let children: ChildTable
    let starter: ChildStarter
    var spawnError: SpawnError?
    var watchdog: Watchdog?
    /// The watchdog was replaced: children still register with the one that ended (its pipe,
    /// kept open), so each new child is registered from here too.
    var watchdogReplaced = false
    /// Watchdogs that ended during the run, kept until its end: their pipes' descriptor numbers
    /// are still handed to children (the first one's by the starter), so they stay open.
    var endedWatchdogs: [Watchdog] = []
    /// When the events emitted now happened, if not now (a child taken after it started).
    var eventsHappenedAt: ContinuousClock.Instant?
    /// Notify datagrams from pids not known yet, kept while forks are in flight: a forked
    /// worker may report before the zygote's answer with its pid has been read.
    var earlyNotifications: [(pid: pid_t, message: NotifyMessage)] = []
    /// Slots whose process ended while others of its process group still run, and when to
    /// look at /proc again for whether they still do.
    var lingering: Set<Int> = []
    var lingeringCheckDue: ContinuousClock.Instant?
    static var lingeringCheckInterval: Duration { .milliseconds(50) }
    let clock = ContinuousClock()
    var logger: Logger { configuration.logger }
    /// Whether the supervisor had a controlling terminal when the run began (a later `SIGHUP`
    /// may be its hangup).
    let hadTerminal = Syscalls.canOpenControllingTerminal()
    /// The probes under way (readiness and health).
    let probes: ProbeRunner
    /// The readiness lines processes wait for, by pattern, compiled once.
    var readinessMatchers: [OutputPattern: OutputMatcher] = [:]
    /// Whether any process may wait for a readiness line (else output goes straight to the
    /// front end).
    var watchesReadinessLines: Bool
    /// With a memory limit: the sampler of the workers' process trees, and when it next runs.
    var memorySampler = ProcessTreeSampler()
    var memorySampleDue: ContinuousClock.Instant?

    /// Prepares a run; nothing is spawned until ``run()``. `polling` is `frontend` when it is
    /// also a polling front end.
    init(
        configuration: SupervisorConfiguration, payload: LaunchPayload, signals: SignalPipe, frontend: any Frontend,
        polling: (any PollingFrontend)?
    ) throws(SupervisorError) {
        self.configuration = configuration
        self.signals = signals
        self.frontend = frontend
        self.polling = polling
        self.core = SupervisorCore(configuration: configuration)
        self.probes = ProbeRunner()
        watchesReadinessLines = ([configuration.workerReadiness] + configuration.programs.compactMap(\.readiness))
            .contains { if case .outputLine = $0 { return true } else { return false } }
        // Programs first: a command that is not found fails before any descriptor is opened.
        let plan = try LaunchPlan(configuration: configuration, payload: payload)
        do {
            watchdog = try Watchdog.takeEarly() ?? Watchdog()
        } catch {
            configuration.logger.warning("no watchdog: grandchildren may outlive a killed supervisor: \(error)")
        }
        do {
            notify = try NotifySocket()
        } catch {
            throw .system(error)
        }
        if let directory = notify.directory { watchdog?.removeOnDeath(directory) }
        do {
            children = try ChildTable()
            starter = try ChildStarter(
                configuration: configuration, payload: payload, plan: plan, watchdog: watchdog?.descriptor,
                notifyAddress: notify.address)
            // The thread makes its descriptor table while this one prepares the run.
            starter.prepareSpawner()
        } catch {
            notify.close()
            throw .system(error)
        }
        starter.seat = { [unowned self] slot in
            guard let (program, count) = core.program(ofSlot: slot), let name = core.name(ofSlot: slot) else {
                return nil
            }
            return LaunchPlan.Seat(program: program, name: name, count: count)
        }
    }

    deinit {
        starter.stopSpawner()
        starter.zygote?.finish()
        watchdog?.disarm()
        notify.close()
    }

    /// Runs until every child has ended; returns the report, or throws the spawn error after the
    /// started children were stopped and reaped.
    func run() throws(SupervisorError) -> SupervisorReport {
        let start = clock.now
        if configuration.adoptsOrphans, Syscalls.processID != 1 { Syscalls.setChildSubreaper(true) }
        defer { if configuration.adoptsOrphans, Syscalls.processID != 1 { Syscalls.setChildSubreaper(false) } }
        if !configuration.commandSignals.isEmpty {
            do {
                commandSignals = try CommandSignalSource(signals: Array(configuration.commandSignals.keys))
            } catch {
                throw .system(error)
            }
        }
        defer { commandSignals?.close() }
        // The watchdog exists before any child does: a supervisor killed after the first spawn
        // still has it kill what the child started. (Its start overlapped the set-up until here.)
        _ = watchdogToWatch()
        emit(.serverStateChanged(.starting))
        perform(core.begin(now: start))
        if configuration.maxMemory != nil || configuration.programs.contains(where: { $0.maxMemory != nil }) {
            memorySampleDue = start + .seconds(1)
        }
        handleSignals(signals.drain(), now: start)
        while !core.isStopped {
            if spawnWhatIsReady() { wakeFrontend(now: clock.now, readable: []) }
            // With a restart policy the zygote stays, to fork restarts too; during a reload, to
            // fork its next slots.
            if core.slotToSpawn == nil, !starter.hasForksInFlight, configuration.restartPolicy == .no,
                !core.isReloading
            {
                starter.zygote?.closeRequests()
            }
            if core.isStopped { break }
            let canSpawnNow = core.slotToSpawn.map { !starter.isRequested($0) } ?? false
            // Exits read while taking the zygote's answers are handled without waiting.
            let exitsWaiting = starter.zygote?.hasPendingExits == true
            try waitAndHandle(timeout: canSpawnNow || exitsWaiting ? 0 : pollTimeout())
        }
        starter.abandonAllForks(within: .seconds(1))
        probes.cancelAll()
        children.finishOutput(emit: emit)
        // Children of a worker are re-parented to us before its own exit is reported, so the
        // ones that had already ended are waiting now, whether or not their SIGCHLD came.
        if configuration.adoptsOrphans { reapOrphans() }
        // Every group the watchdog watches is empty: it is told to go, and exits while orphans
        // left behind are looked for; waited for last. Not before the orphans are reaped: the
        // reaper stops at an ended child of ours.
        watchdog?.beginDisarm()
        var leftBehind: [SupervisorReport.LeftBehind] = []
        if configuration.adoptsOrphans {
            let ours = Set(starter.allZygotes.map(\.pid) + [watchdog?.pid].compactMap { $0 })
            leftBehind = ProcessTable.children(of: Syscalls.processID).filter { !ours.contains($0.pid) }
                .map { SupervisorReport.LeftBehind(pid: $0.pid, command: $0.command) }
        }
        // Every child has ended, so the spawner threads can go too (their parent-death signal).
        starter.stopSpawner()
        for zygote in starter.allZygotes { zygote.finish() }
        watchdog?.disarm()
        perform(core.finish(leftBehind: leftBehind))
        if let spawnError { throw .spawnFailed(spawnError) }
        return core.report
    }

    // MARK: - The loop

    func pollTimeout() -> CInt {
        let deadlines = [
            core.nextDeadline, polling?.nextDeadline, lingeringCheckDue, probes.nextDeadline, memorySampleDue,
        ].compactMap { $0 }
        guard let nearest = deadlines.min() else { return -1 }
        let remaining = clock.now.duration(to: nearest)
        if remaining <= .zero { return 0 }
        return CInt(clamping: remaining.milliseconds(roundingUp: true))
    }

    func waitAndHandle(timeout: CInt) throws(SupervisorError) {
        let zygote = starter.zygote
        var set = PollSet()
        set.add(.signals, signals.readDescriptor)
        set.add(.notify, notify.descriptor)
        set.add(.commandSignals, commandSignals?.descriptor ?? -1)
        set.add(.zygote, zygote.flatMap { $0.isGone ? nil : $0.control } ?? -1)
        for (offset, retired) in starter.retiredZygotes.enumerated() where !retired.isGone {
            set.add(.retiredZygote(offset), retired.control)
        }
        for fd in polling?.descriptors ?? [] { set.add(.frontend(fd), fd.rawValue) }
        for fd in polling?.writeDescriptors ?? [] { set.add(.frontendOutput(fd), fd.rawValue, writing: true) }
        if zygote?.isGone != false { children.watchForkedExits() }
        children.holdOutput(polling?.holdsOutput ?? false)
        set.add(.children, children.descriptor)
        for probe in probes.descriptors { set.add(.probe(probe.id), probe.fd, writing: probe.writing) }
        set.add(.watchdog, watchdogToWatch())
        do {
            try set.wait(timeoutMilliseconds: timeout)
        } catch {
            throw .system(error)
        }
        let now = clock.now
        if set.isReady(.signals) {
            handleSignals(signals.drain(), now: now)
        }
        if set.isReady(.commandSignals), let commandSignals {
            for received in commandSignals.drain() {
                let hungUp =
                    configuration.commandSignals[received.signal] == .reloadUnlessHungUp && hadTerminal
                    && !Syscalls.canOpenControllingTerminal()
                perform(
                    core.commandSignalReceived(
                        received.signal, sentByProcess: received.sentByProcess, terminalHungUp: hungUp, now: now))
            }
        }
        // Forked workers' pids first, so that their first datagrams find them.
        if set.isReady(.zygote), spawnWhatIsReady() { wakeFrontend(now: now, readable: []) }
        if set.isReady(.notify) { receiveNotifications(now: now) }
        if set.isReady(.zygote) || zygote?.hasPendingExits == true || set.anyRetiredZygoteReady
            || starter.retiredZygotes.contains(where: \.hasPendingExits)
        {
            reapZygoteChildren(now: now)
        }
        if set.isReady(.children) {
            for (pid, role) in children.ready() {
                switch role {
                case .stdout: children.readOutput(pid: pid, stream: .stdout, limit: 4, emit: outputSink(pid: pid))
                case .stderr: children.readOutput(pid: pid, stream: .stderr, limit: 4, emit: outputSink(pid: pid))
                case .exit: reap(pid: pid, now: now)
                }
            }
        }
        if let due = lingeringCheckDue, now >= due { checkLingeringGroups() }
        if set.isReady(.watchdog) { replaceEndedWatchdog() }
        for id in set.readyProbes {
            if let result = probes.advance(id) { report(result, now: now) }
        }
        for result in probes.expire(now: now) { report(result, now: now) }
        sampleMemory(now: now)
        perform(core.tick(now: now))
        wakeFrontend(now: now, readable: set.readableFrontend)
    }

    /// Lets the front end act on the events it just handled (and its readable descriptors).
    func wakeFrontend(now: ContinuousClock.Instant, readable: [FileDescriptor]) {
        for command in polling?.wake(now: now, readable: readable) ?? [] {
            perform(core.command(command, now: now))
        }
    }

    func handleSignals(_ received: [Signal], now: ContinuousClock.Instant) {
        for signal in received where signal.rawValue != SIGCHLD {
            perform(core.stopSignalReceived(signal, now: now))
        }
        if received.contains(where: { $0.rawValue == SIGCHLD }) {
            reapOrphans()
            if !lingering.isEmpty { checkLingeringGroups() }
        }
    }

    /// Tells the core about every lingering group that has no running (non-zombie) process
    /// left; checks again soon while some remain.
    func checkLingeringGroups() {
        let running = ProcessTable.runningGroups()
        for slot in lingering.sorted() {
            guard let group = children[slot]?.pid, !running.contains(group) else { continue }
            lingering.remove(slot)
            perform(core.groupEnded(slot: slot, now: clock.now))
        }
        lingeringCheckDue = lingering.isEmpty ? nil : clock.now + Self.lingeringCheckInterval
    }

    /// Reaps adopted orphans that ended: every waitable child that is not one of ours (ours are
    /// reaped through their pidfds). Stops at one of ours that is not reaped yet; the next
    /// iteration reaps it, and the orphans behind it.
    func reapOrphans() {
        // Ours: a live slot's process we exec'ed (reaped through its pidfd), the zygote, the
        // watchdog. Looked up per ended child, not built over every child on each SIGCHLD.
        func isOurs(_ pid: pid_t) -> Bool {
            if pid == watchdog?.pid || starter.allZygotes.contains(where: { $0.pid == pid }) || probes.owns(pid) {
                return true
            }
            return children.isExecChild(pid)
        }
        while let pid = Syscalls.peekEndedChild(), !isOurs(pid) {
            Syscalls.reap(pid)
            logger.debug("reaped orphan \(pid)")
        }
    }

    // MARK: - Actions

    func perform(_ actions: [SupervisorCore.Action]) {
        for action in actions {
            switch action {
            case .signal(let slot, let signal):
                guard let pid = children[slot]?.pid else { continue }
                signalGroup(pid: pid, slot: slot, signal.rawValue, lingering: lingering.contains(slot))
                // As systemd does: a stopped (SIGSTOP) process must run to act on its stop signal.
                if core.isStopSignal(signal, of: slot) {
                    signalGroup(pid: pid, slot: slot, SIGCONT, lingering: lingering.contains(slot))
                }
            case .killGroup(let slot):
                guard let pid = children[slot]?.pid else { continue }
                signalGroup(pid: pid, slot: slot, SIGKILL, lingering: lingering.contains(slot))
            case .signalOutgoing(let slot, let pid, let signal):
                signalGroup(pid: pid, slot: slot, signal.rawValue, lingering: false)
                if core.isStopSignal(signal, of: slot) { signalGroup(pid: pid, slot: slot, SIGCONT, lingering: false) }
            case .killOutgoingGroup(let slot, let pid):
                signalGroup(pid: pid, slot: slot, SIGKILL, lingering: false)
            case .emit(let event):
                emit(event)
            case .probe(let slot, let generation, let purpose):
                startProbe(slot: slot, generation: generation, purpose: purpose)
            case .readPrograms:
                readPrograms()
            }
        }
    }

    /// Reads the programs again and gives them to the core; a source that cannot be read, or a
    /// command not found, changes nothing and says why.
    func readPrograms() {
        guard let source = configuration.programSource else { return }
        let now = clock.now
        switch source.read() {
        case .failure(let failure):
            emit(.reload(.refused(reason: failure.message)))
        case .success(let programs):
            do throws(SupervisorError) {
                try starter.plan.resolve(programs)
            } catch {
                emit(.reload(.refused(reason: "\(source.name): \(error)")))
                return
            }
            if programs.contains(where: { if case .outputLine? = $0.readiness { true } else { false } }) {
                watchesReadinessLines = true
            }
            if memorySampleDue == nil, programs.contains(where: { $0.maxMemory != nil }) {
                memorySampleDue = now + .seconds(1)
            }
            perform(core.command(.update(programs), now: now))
        }
    }

    /// Sends `signal` to the process group of the child `pid` (of `slot`), logging a failure.
    func signalGroup(pid: pid_t, slot: Int, _ signal: CInt, lingering: Bool) {
        do {
            try children.signalGroup(pid: pid, signal, lingering: lingering)
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        }
    }

    func emit(_ event: EngineEvent) {
        frontend.handle(event, at: eventsHappenedAt ?? clock.now)
    }
}
