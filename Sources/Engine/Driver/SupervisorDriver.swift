import Glibc
import Logging
import SystemPackage

/// The one-thread `poll()` loop that performs what ``SupervisorCore`` decides: spawns children,
/// watches the stop-signal pipe, the notify socket, every pidfd and output pipe and the front
/// end's descriptors, and sleeps without a timeout when nothing is due.
final class SupervisorDriver {
    private let configuration: SupervisorConfiguration
    private let signals: SignalPipe
    /// The command signals (reload, scale), read from a signalfd while the run lasts.
    private var commandSignals: CommandSignalSource?
    private let frontend: any Frontend
    /// The front end again when the driver also polls it (its descriptors, deadline, commands).
    private let polling: (any PollingFrontend)?
    private var core: SupervisorCore
    private let notify: NotifySocket
    private let children: ChildTable
    private let starter: ChildStarter
    private var spawnError: SpawnError?
    private var watchdog: Watchdog?
    /// The watchdog was replaced: children still register with the one that ended (the spawner's
    /// copy of its pipe), so each new child is registered from here too.
    private var watchdogReplaced = false
    /// Notify datagrams from pids not known yet, kept while forks are in flight: a forked
    /// worker may report before the zygote's answer with its pid has been read.
    private var earlyNotifications: [(pid: pid_t, message: NotifyMessage)] = []
    /// Slots whose process ended while others of its process group still run, and when to
    /// look at /proc again for whether they still do.
    private var lingering: Set<Int> = []
    private var lingeringCheckDue: ContinuousClock.Instant?
    private static var lingeringCheckInterval: Duration { .milliseconds(50) }
    private let clock = ContinuousClock()
    private var logger: Logger { configuration.logger }
    /// Whether the supervisor had a controlling terminal when the run began (a later `SIGHUP`
    /// may be its hangup).
    private let hadTerminal = Syscalls.canOpenControllingTerminal()
    /// The probes under way (readiness and health).
    private let probes: ProbeRunner
    /// The workers' readiness line, when their readiness is a line of output.
    private let readinessLine: OutputMatcher?
    /// With a memory limit: the sampler of the workers' process trees, and when it next runs.
    private var memorySampler = ProcessTreeSampler()
    private var memorySampleDue: ContinuousClock.Instant?

    /// Prepares a run; nothing is spawned until ``run()``.
    init(
        configuration: SupervisorConfiguration, payload: LaunchPayload, signals: SignalPipe, frontend: any Frontend
    ) throws(SupervisorError) {
        self.configuration = configuration
        self.signals = signals
        self.frontend = frontend
        self.polling = frontend as? any PollingFrontend
        self.core = SupervisorCore(configuration: configuration)
        self.probes = ProbeRunner()
        if case .command(_, .outputLine(let pattern)) = configuration.worker {
            readinessLine = OutputMatcher(pattern)
        } else {
            readinessLine = nil
        }
        // Programs first: a command that is not found fails before any descriptor is opened.
        let plan = try LaunchPlan(configuration: configuration, payload: payload)
        do {
            watchdog = try Watchdog()
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
            children = try ChildTable(count: plan.programs.count)
            starter = try ChildStarter(
                configuration: configuration, payload: payload, plan: plan, watchdog: watchdog?.descriptor,
                notifyAddress: notify.address)
        } catch {
            notify.close()
            throw .system(error)
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
        emit(.serverStateChanged(.starting))
        if configuration.maxMemory != nil { memorySampleDue = start + .seconds(1) }
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
        var leftBehind: [SupervisorReport.LeftBehind] = []
        if configuration.adoptsOrphans {
            reapOrphans()
            let ours = Set(starter.allZygotes.map(\.pid) + [watchdog?.pid].compactMap { $0 })
            leftBehind = ProcessTable.children(of: Syscalls.processID).filter { !ours.contains($0.pid) }
                .map { SupervisorReport.LeftBehind(pid: $0.pid, command: $0.command) }
        }
        // Its children have all ended: the spawner thread can go (their parent-death signal).
        starter.stopSpawner()
        // Both helpers end in parallel: the watchdog is told first, then waited for last.
        watchdog?.beginDisarm()
        for zygote in starter.allZygotes { zygote.finish() }
        watchdog?.disarm()
        perform(core.finish(leftBehind: leftBehind))
        if let spawnError { throw .spawnFailed(spawnError) }
        return core.report
    }

    // MARK: - The loop

    private func pollTimeout() -> CInt {
        let deadlines = [
            core.nextDeadline, polling?.nextDeadline, lingeringCheckDue, probes.nextDeadline, memorySampleDue,
        ].compactMap { $0 }
        guard let nearest = deadlines.min() else { return -1 }
        let remaining = clock.now.duration(to: nearest)
        if remaining <= .zero { return 0 }
        return CInt(clamping: remaining.milliseconds(roundingUp: true))
    }

    private func waitAndHandle(timeout: CInt) throws(SupervisorError) {
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
        set.add(.children, children.descriptor)
        for probe in probes.descriptors { set.add(.probe(probe.id), probe.fd, writing: probe.writing) }
        set.add(.watchdog, watchdog?.pidfd ?? -1)
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
            for (slot, role, outgoing) in children.ready() {
                switch role {
                case .stdout:
                    children.readOutput(
                        slot: slot, stream: .stdout, limit: 4, outgoing: outgoing, emit: outputSink(outgoing: outgoing))
                case .stderr:
                    children.readOutput(
                        slot: slot, stream: .stderr, limit: 4, outgoing: outgoing, emit: outputSink(outgoing: outgoing))
                case .exit: reap(slot: slot, outgoing: outgoing, now: now)
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
    private func wakeFrontend(now: ContinuousClock.Instant, readable: [FileDescriptor]) {
        for command in polling?.wake(now: now, readable: readable) ?? [] {
            perform(core.command(command, now: now))
        }
    }

    private func handleSignals(_ received: [Signal], now: ContinuousClock.Instant) {
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
    private func checkLingeringGroups() {
        let running = ProcessTable.runningGroups()
        for slot in lingering.sorted() {
            guard let group = children[slot]?.pid, !running.contains(group) else { continue }
            lingering.remove(slot)
            perform(core.groupEnded(slot: slot))
        }
        lingeringCheckDue = lingering.isEmpty ? nil : clock.now + Self.lingeringCheckInterval
    }

    /// Reaps adopted orphans that ended: every waitable child that is not one of ours (ours are
    /// reaped through their pidfds). Stops at one of ours that is not reaped yet; the next
    /// iteration reaps it, and the orphans behind it.
    private func reapOrphans() {
        // Ours: a live slot's process we exec'ed (reaped through its pidfd), the zygote, the
        // watchdog. Looked up per ended child, not built over every child on each SIGCHLD.
        func isOurs(_ pid: pid_t) -> Bool {
            if pid == watchdog?.pid || starter.allZygotes.contains(where: { $0.pid == pid }) || probes.owns(pid) {
                return true
            }
            guard let slot = core.slot(forPid: pid) else { return false }
            return children.isExecChild(pid, slot: slot)
        }
        while let pid = Syscalls.peekEndedChild(), !isOurs(pid) {
            Syscalls.reap(pid)
            logger.debug("reaped orphan \(pid)")
        }
    }

    private func receiveNotifications(now: ContinuousClock.Instant) {
        do {
            for (sender, message) in try notify.receiveAll() {
                let pid = attribute(sender)
                guard core.slot(forPid: pid) != nil else {
                    if starter.hasForksInFlight, earlyNotifications.count < 4096 {
                        earlyNotifications.append((pid, message))
                    } else {
                        logger.debug("ignored a notify datagram from pid \(pid), not a child")
                    }
                    continue
                }
                perform(core.notify(from: pid, message, now: now))
            }
        } catch {
            logger.error("notify socket: \(error)")
        }
    }

    /// The child a datagram from `sender` counts for: the sender itself, or with
    /// ``NotifyAccess/all`` the child whose process group it belongs to.
    private func attribute(_ sender: pid_t) -> pid_t {
        guard configuration.notifyAccess == .all, core.slot(forPid: sender) == nil,
            let group = Syscalls.processGroup(of: sender), let slot = core.slot(forPid: group),
            children[slot]?.pid == group
        else { return sender }
        return group
    }

    /// Hands the datagrams that came before their sender's pid to the core, once it knows them.
    private func replayEarlyNotifications() {
        guard !earlyNotifications.isEmpty else { return }
        let now = clock.now
        var unknown: [(pid: pid_t, message: NotifyMessage)] = []
        for (pid, message) in earlyNotifications {
            if core.slot(forPid: pid) != nil {
                perform(core.notify(from: pid, message, now: now))
            } else if starter.hasForksInFlight {
                unknown.append((pid, message))
            }
        }
        earlyNotifications = unknown
    }

    // MARK: - Children

    /// Starts what can start now: the next slot by exec, or every worker slot whose pid the
    /// zygote has sent (asking ahead for the next ones, so that it forks while we go on).
    /// Returns whether a slot was started or failed.
    private func spawnWhatIsReady() -> Bool {
        starter.workerCount = core.workerCount
        guard let slot = core.slotToSpawn else {
            starter.abandonAnsweredForks()
            return false
        }
        guard forks(slot) else {
            spawnByExec()
            return true
        }
        if core.isRestart(slot) || core.isReload(slot) {
            starter.requestRestartFork(slot)
        } else {
            starter.requestForks(from: slot)
        }
        var started = false
        while let next = core.slotToSpawn, let outcome = starter.takeFork(next) {
            take(outcome, slot: next)
            started = true
        }
        return started
    }

    /// Whether `slot` is forked by the zygote: a Swift worker's first start, or a restart while
    /// the zygote takes requests. A reload's new generation is exec'ed from the binary on disk.
    private func forks(_ slot: Int) -> Bool {
        if core.isReload(slot) { return starter.forksReload(slot, round: core.reloadRound) }
        if core.isRestart(slot) { return starter.canForkRestart(slot) }
        return starter.forksWorker(slot)
    }

    /// Starts slots by exec one after another for up to 5 ms: a thousand workers start in a few
    /// loop iterations, and signals are still read every few milliseconds.
    private func spawnByExec() {
        let until = clock.now + .milliseconds(5)
        repeat {
            guard let slot = core.slotToSpawn, !forks(slot) else { return }
            take(starter.exec(slot, fromDisk: core.isReload(slot)), slot: slot)
        } while clock.now < until
    }

    /// Watches a started child and tells the core, or reports why `slot` could not start.
    private func take(_ outcome: Result<ChildTable.Child, SpawnError>, slot: Int) {
        let now = clock.now
        switch outcome {
        case .success(let child):
            if core.isReload(slot) {
                // New before old: the running process keeps serving as the outgoing one.
                children.demote(slot: slot)
            } else {
                // A restart replaces the ended process's entry: what its pipes still held goes first.
                children.retire(slot: slot, emit: emit)
            }
            children.add(child)
            if watchdogReplaced { watchdog?.register([child.pid]) }
            perform(core.spawned(slot: slot, pid: child.pid, now: now))
            if child.viaZygote { replayEarlyNotifications() }
        case .failure(let error) where core.isReload(slot):
            // A reload's new generation that cannot start rolls the reload back; the old one serves on.
            logger.error("\(error)", metadata: ["slot": "\(slot)"])
            perform(core.reloadSpawnFailed(slot: slot, reason: error.description, now: now))
        case .failure(let error):
            // A bad command line ends the run with the error; later, it is that slot's failure.
            if core.spawnFailureIsFatal(slot: slot) { spawnError = error }
            logger.error("\(error)", metadata: ["slot": "\(slot)"])
            perform(core.spawnFailed(slot: slot, reason: error.description, error: error, now: now))
        }
    }

    private func reap(slot: Int, outgoing: Bool, now: ContinuousClock.Instant) {
        do {
            guard let termination = try children.reap(slot: slot, outgoing: outgoing) else { return }
            if outgoing {
                finishOutgoingExit(slot: slot, termination: termination, now: now)
            } else {
                finishExit(slot: slot, termination: termination, now: now)
            }
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)"])
        }
    }

    /// Exits the zygote reported, and the end of the zygote itself.
    private func reapZygoteChildren(now: ContinuousClock.Instant) {
        for retired in starter.retiredZygotes {
            for exit in retired.takeExits() { finishZygoteExit(exit, now: now) }
        }
        starter.forgetEndedZygotes()
        guard let zygote = starter.zygote else { return }
        for exit in zygote.takeExits() { finishZygoteExit(exit, now: now) }
        if zygote.isGone, children.hasUnreapedForkedWorkers {
            logger.error("the zygote ended; its workers are reported when their pidfds say they ended")
        }
    }

    /// An exit a zygote reported: of a slot's process, or of the outgoing one a reload replaces.
    private func finishZygoteExit(_ exit: Zygote.Exit, now: ContinuousClock.Instant) {
        guard let slot = core.slot(forPid: exit.pid) else { return }
        if core.outgoingPid(ofSlot: slot) == exit.pid {
            finishOutgoingExit(slot: slot, termination: exit.termination, now: now)
        } else {
            finishExit(slot: slot, termination: exit.termination, now: now)
        }
    }

    /// Reads what the ended child left in its pipes (its last lines come before its exit), then
    /// closes its pidfd and reports the exit.
    private func finishExit(slot: Int, termination: Termination, now: ContinuousClock.Instant) {
        for stream in [ChildStream.stdout, .stderr] {
            children.readOutput(slot: slot, stream: stream, limit: 16, emit: emit)
        }
        guard let child = children.markEnded(slot: slot) else { return }
        // Its group id stays reserved while any member lives, so the group can still be signalled.
        let groupRemains = (try? Syscalls.killProcessGroup(child.pid, 0)) ?? false
        if groupRemains {
            lingering.insert(slot)
            lingeringCheckDue = lingeringCheckDue ?? now + Self.lingeringCheckInterval
        }
        perform(
            core.exited(slot: slot, termination, groupRemains: groupRemains, lastLines: child.lastErrors, now: now))
        if children.child(slot, outgoing: true) != nil, core.outgoingPid(ofSlot: slot) == nil {
            // A reload's new generation failed before it ran: the old process has the slot back,
            // and what the failed one started goes with it.
            if groupRemains {
                lingering.remove(slot)
                _ = try? Syscalls.killProcessGroup(child.pid, SIGKILL)
            }
            children.retire(slot: slot, emit: emit)
            children.promote(slot: slot)
        }
    }

    /// The outgoing process of a slot under reload ended: its last lines, then its end.
    private func finishOutgoingExit(slot: Int, termination: Termination, now: ContinuousClock.Instant) {
        for stream in [ChildStream.stdout, .stderr] {
            children.readOutput(slot: slot, stream: stream, limit: 16, outgoing: true, emit: emit)
        }
        guard let child = children.markEnded(slot: slot, outgoing: true) else { return }
        let groupRemains = (try? Syscalls.killProcessGroup(child.pid, 0)) ?? false
        perform(core.outgoingExited(slot: slot, termination, groupRemains: groupRemains, now: now))
        children.retire(slot: slot, outgoing: true, emit: emit)
    }

    // MARK: - The watchdog

    /// The watchdog ended while the run goes on (it was killed): a new one is started and told
    /// every live process group, and the front ends are told.
    private func replaceEndedWatchdog() {
        guard let ended = watchdog, ended.hasEnded() else { return }
        do {
            let fresh = try Watchdog()
            watchdog = fresh
            watchdogReplaced = true
            fresh.register(children.liveGroups + starter.allZygotes.map(\.pid))
            if let directory = notify.directory { fresh.removeOnDeath(directory) }
            logger.error("the watchdog (pid \(ended.pid)) ended: replaced by pid \(fresh.pid)")
            emit(.watchdogEnded(pid: ended.pid, replacement: fresh.pid))
        } catch {
            watchdog = nil
            logger.error("the watchdog (pid \(ended.pid)) ended and none could be started: \(error)")
            emit(.watchdogEnded(pid: ended.pid, replacement: nil))
        }
    }

    // MARK: - Readiness and probes

    /// Where a child's output lines go: to the front end, and for a slot's current process
    /// that waits for its readiness line, past the matcher too.
    private func outputSink(outgoing: Bool) -> (EngineEvent) -> Void {
        guard !outgoing, let readinessLine else { return emit }
        return { [self] event in
            emit(event)
            guard case .output(let slot, _, let line) = event, let pid = children[slot]?.pid,
                core.awaitsReadinessLine(slot: slot, pid: pid), readinessLine.matches(line)
            else { return }
            perform(core.readinessLineSeen(slot: slot, pid: pid, now: clock.now))
        }
    }

    /// Starts the probe the core asked for, of the slot's current process.
    private func startProbe(slot: Int, generation: Int, purpose: SupervisorCore.ProbePurpose) {
        let now = clock.now
        guard let pid = children[slot]?.pid, let (probe, timeout) = probe(for: purpose) else { return }
        let environment = starter.environment(of: slot) + ["CORRAL_PID=\(pid)"]
        let result = probes.start(
            probe, slot: slot, generation: generation, purpose: purpose, environment: environment, timeout: timeout,
            now: now
        ) { [starter] command, environment throws(SpawnError) in
            try starter.spawnProbe(command, environment: environment, slot: slot)
        }
        if let result { report(result, now: now) }
    }

    /// The configured probe for `purpose`, and how long it may take.
    private func probe(for purpose: SupervisorCore.ProbePurpose) -> (probe: Probe, timeout: Duration)? {
        switch purpose {
        case .readiness:
            if case .command(_, .probe(let probe)) = configuration.worker { return (probe, configuration.probeTimeout) }
            return nil
        case .health:
            return configuration.health.map { ($0.probe, $0.timeout) }
        }
    }

    /// With a memory limit: about once a second, the resident memory of every running
    /// worker's process tree, to the core.
    private func sampleMemory(now: ContinuousClock.Instant) {
        guard configuration.maxMemory != nil else { return }
        if let due = memorySampleDue, now < due { return }
        memorySampleDue = now + .seconds(1)
        var roots: [pid_t: Int] = [:]
        for slot in 0..<core.slotCount where core.watchesMemory(slot: slot) {
            if let pid = children[slot]?.pid { roots[pid] = slot }
        }
        guard !roots.isEmpty else { return }
        for (pid, usage) in memorySampler.sample(Array(roots.keys), now: now) {
            guard let slot = roots[pid] else { continue }
            perform(core.memorySampled(slot: slot, pid: pid, residentBytes: usage.residentBytes, now: now))
        }
    }

    private func report(_ result: ProbeRunner.Finding, now: ContinuousClock.Instant) {
        perform(
            core.probeFinished(
                slot: result.slot, generation: result.generation, purpose: result.purpose, ok: result.ok,
                detail: result.detail, now: now))
    }

    // MARK: - Actions

    private func perform(_ actions: [SupervisorCore.Action]) {
        for action in actions {
            switch action {
            case .signal(let slot, let signal):
                signalGroup(slot: slot, signal.rawValue)
                // As systemd does: a stopped (SIGSTOP) process must run to act on its stop signal.
                if isStopSignal(signal) { signalGroup(slot: slot, SIGCONT) }
            case .killGroup(let slot):
                signalGroup(slot: slot, SIGKILL)
            case .signalOutgoing(let slot, let signal):
                signalGroup(slot: slot, signal.rawValue, outgoing: true)
                if isStopSignal(signal) { signalGroup(slot: slot, SIGCONT, outgoing: true) }
            case .killOutgoingGroup(let slot):
                signalGroup(slot: slot, SIGKILL, outgoing: true)
            case .emit(let event):
                emit(event)
            case .probe(let slot, let generation, let purpose):
                startProbe(slot: slot, generation: generation, purpose: purpose)
            }
        }
    }

    /// Whether `signal` asks a process to end (a stop signal, or the default one).
    private func isStopSignal(_ signal: Signal) -> Bool {
        configuration.stopSignals.contains(signal) || signal == configuration.defaultStopSignal
    }

    private func signalGroup(slot: Int, _ signal: CInt, outgoing: Bool = false) {
        do {
            try children.signalGroup(
                slot: slot, signal, lingering: !outgoing && lingering.contains(slot), outgoing: outgoing)
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)", "pid": "\(children[slot]?.pid ?? 0)"])
        }
    }

    private func emit(_ event: EngineEvent) {
        frontend.handle(event)
    }
}
