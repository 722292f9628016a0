import Glibc
import Logging

/// The one-thread `poll()` loop that performs what ``SupervisorCore`` decides: spawns children,
/// watches the stop-signal pipe, the notify socket, every pidfd and output pipe and the front
/// end's descriptors, and sleeps without a timeout when nothing is due.
final class SupervisorDriver<F: Frontend> {
    /// A started child and its descriptors.
    private struct Child {
        let slot: Int
        let pid: pid_t
        var pidfd: CInt?
        /// Forked by the zygote: its exit is reported by the zygote, not read with waitid.
        var viaZygote = false
        /// Its exit was reported to the core.
        var ended = false
        var output: [OutputStream: CInt]
        var lines: [OutputStream: OutputLineBuffer] = [.stdout: OutputLineBuffer(), .stderr: OutputLineBuffer()]
        /// The last standard error lines, for the report of its end.
        var lastErrors: [String] = []

        mutating func keepError(_ line: String) {
            if lastErrors.count == SlotEnd.lastLinesKept { lastErrors.removeFirst() }
            lastErrors.append(line.count > 512 ? String(line.prefix(512)) + "…" : line)
        }
    }

    private let configuration: SupervisorConfiguration
    private let payload: LaunchPayload
    private let signals: SignalPipe
    private var frontend: F
    private var core: SupervisorCore
    private let notify: NotifySocket
    private let devNull: CInt
    /// The started children, by slot.
    private var children: [Child?] = []
    /// Their pipes and pidfds, in one epoll set (the pidfds of zygote-forked workers only once
    /// the zygote, which reports their exits, is gone).
    private let watch: ChildWatch
    private var watchesForkedExits = false
    /// One read buffer for every pipe.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private let plan: LaunchPlan
    private var spawnError: SpawnError?
    private var zygote: Zygote?
    /// Where children started by exec are spawned from (started with the first of them); nil
    /// after it could not start: then from this thread.
    private var spawner: Spawner?
    private var spawnerUnavailable = false
    private var watchdog: Watchdog?
    private var zygoteUnavailable = false
    /// The workers asked of the zygote ahead of their turn.
    private var forks: ZygoteForks?
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

    /// Prepares a run; nothing is spawned until ``run()``.
    init(
        configuration: SupervisorConfiguration, payload: LaunchPayload, signals: SignalPipe, frontend: F
    ) throws(SupervisorError) {
        self.configuration = configuration
        self.payload = payload
        self.signals = signals
        self.frontend = frontend
        self.core = SupervisorCore(configuration: configuration)
        // Programs first: a command that is not found fails before any descriptor is opened.
        plan = try LaunchPlan(configuration: configuration, payload: payload)
        do {
            notify = try NotifySocket()
        } catch {
            throw .system(error)
        }
        do {
            watch = try ChildWatch()
        } catch {
            notify.close()
            throw .system(error)
        }
        do {
            devNull = try Syscalls.open("/dev/null", flags: O_RDWR)
        } catch {
            notify.close()
            throw .system(error)
        }
        children = Array(repeating: nil, count: plan.programs.count)
        do {
            watchdog = try Watchdog()
        } catch {
            configuration.logger.warning("no watchdog: grandchildren may outlive a killed supervisor: \(error)")
        }
    }

    deinit {
        spawner?.stop()
        zygote?.finish()
        watchdog?.disarm()
        for case let child? in children { close(child) }
        notify.close()
        Syscalls.close(devNull)
        readBuffer.deallocate()
    }

    /// Runs until every child has ended; returns the report, or throws the spawn error after the
    /// started children were stopped and reaped.
    func run() throws(SupervisorError) -> (SupervisorReport, F) {
        let start = clock.now
        if configuration.adoptsOrphans, Syscalls.processID != 1 { Syscalls.setChildSubreaper(true) }
        defer { if configuration.adoptsOrphans, Syscalls.processID != 1 { Syscalls.setChildSubreaper(false) } }
        handleSignals(signals.drain(), now: start)
        while !core.isStopped {
            if spawnWhatIsReady() { wakeFrontend(now: clock.now, readable: []) }
            if core.slotToSpawn == nil, forks?.isEmpty != false { zygote?.closeRequests() }
            if core.isStopped { break }
            let canSpawnNow = core.slotToSpawn.map { forks?.isRequested($0) != true } ?? false
            // Exits read while taking the zygote's answers are handled without waiting.
            let exitsWaiting = zygote?.hasPendingExits == true
            try waitAndHandle(timeout: canSpawnNow || exitsWaiting ? 0 : pollTimeout())
        }
        forks?.abandonAll(within: .seconds(1))
        finishOutput()
        // Children of a worker are re-parented to us before its own exit is reported, so the
        // ones that had already ended are waiting now, whether or not their SIGCHLD came.
        var leftBehind: [SupervisorReport.LeftBehind] = []
        if configuration.adoptsOrphans {
            reapOrphans()
            let ours = Set([zygote?.pid, watchdog?.pid].compactMap { $0 })
            leftBehind = ProcessTable.children(of: Syscalls.processID).filter { !ours.contains($0.pid) }
                .map { SupervisorReport.LeftBehind(pid: $0.pid, command: $0.command) }
        }
        // Its children have all ended: the spawner thread can go (their parent-death signal).
        spawner?.stop()
        // Both helpers end in parallel: the watchdog is told first, then waited for last.
        watchdog?.beginDisarm()
        zygote?.finish()
        watchdog?.disarm()
        perform(core.finish(leftBehind: leftBehind))
        if let spawnError { throw .spawnFailed(spawnError) }
        return (core.report, frontend)
    }

    // MARK: - The loop

    private func pollTimeout() -> CInt {
        let deadlines = [core.nextDeadline, frontend.nextDeadline, lingeringCheckDue].compactMap { $0 }
        guard let nearest = deadlines.min() else { return -1 }
        let remaining = clock.now.duration(to: nearest)
        if remaining <= .zero { return 0 }
        return CInt(clamping: remaining.milliseconds(roundingUp: true))
    }

    private func waitAndHandle(timeout: CInt) throws(SupervisorError) {
        var set = PollSet()
        set.add(.signals, signals.readDescriptor)
        set.add(.notify, notify.descriptor)
        set.add(.zygote, zygote.flatMap { $0.isGone ? nil : $0.control } ?? -1)
        for fd in frontend.descriptors { set.add(.frontend(fd), fd) }
        for fd in frontend.writeDescriptors { set.add(.frontendOutput(fd), fd, writing: true) }
        if zygote?.isGone != false, !watchesForkedExits { watchForkedExits() }
        set.add(.children, watch.descriptor)
        do {
            try set.wait(timeoutMilliseconds: timeout)
        } catch {
            throw .system(error)
        }
        let now = clock.now
        if set.isReady(.signals) {
            handleSignals(signals.drain(), now: now)
        }
        // Forked workers' pids first, so that their first datagrams find them.
        if set.isReady(.zygote), spawnWhatIsReady() { wakeFrontend(now: now, readable: []) }
        if set.isReady(.notify) { receiveNotifications(now: now) }
        if set.isReady(.zygote) || zygote?.hasPendingExits == true { reapZygoteChildren(now: now) }
        if set.isReady(.children) {
            for (slot, role) in watch.ready() {
                switch role {
                case .stdout: readOutput(slot: slot, stream: .stdout, limit: 4)
                case .stderr: readOutput(slot: slot, stream: .stderr, limit: 4)
                case .exit: reap(slot: slot, now: now)
                }
            }
        }
        if let due = lingeringCheckDue, now >= due { checkLingeringGroups() }
        perform(core.tick(now: now))
        wakeFrontend(now: now, readable: set.readableFrontend)
    }

    /// Watches a new child's pipes, and its pidfd unless the zygote reports its exit.
    private func watchChild(_ child: Child) {
        if let fd = child.output[.stdout] { watch.add(fd, slot: child.slot, role: .stdout) }
        if let fd = child.output[.stderr] { watch.add(fd, slot: child.slot, role: .stderr) }
        if let pidfd = child.pidfd, !child.viaZygote || watchesForkedExits {
            watch.add(pidfd, slot: child.slot, role: .exit)
        }
    }

    /// The zygote is gone: its workers' ends are seen on their pidfds from now on.
    private func watchForkedExits() {
        watchesForkedExits = true
        for case let child? in children where child.viaZygote {
            if let pidfd = child.pidfd { watch.add(pidfd, slot: child.slot, role: .exit) }
        }
    }

    /// Lets the front end act on the events it just handled (and its readable descriptors).
    private func wakeFrontend(now: ContinuousClock.Instant, readable: [CInt]) {
        for command in frontend.wake(now: now, readable: readable) {
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
            if pid == zygote?.pid || pid == watchdog?.pid { return true }
            guard let slot = core.slot(forPid: pid), let child = children[slot] else { return false }
            return child.pidfd != nil && !child.viaZygote
        }
        while let pid = Syscalls.peekEndedChild(), !isOurs(pid) {
            Syscalls.reap(pid)
            logger.debug("reaped orphan \(pid)")
        }
    }

    private func receiveNotifications(now: ContinuousClock.Instant) {
        do {
            for (pid, message) in try notify.receiveAll() {
                guard core.slot(forPid: pid) != nil else {
                    if forks?.isEmpty == false, earlyNotifications.count < 4096 {
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

    // MARK: - Children

    /// Starts what can start now: the next slot by exec, or every worker slot whose pid the
    /// zygote has sent (asking ahead for the next ones, so that it forks while we go on).
    /// Returns whether a slot was started or failed.
    private func spawnWhatIsReady() -> Bool {
        guard let slot = core.slotToSpawn else {
            if let forks, !forks.isEmpty { forks.abandonAnswered() }
            return false
        }
        guard forks?.isRequested(slot) == true || forkWorker(slot), let forks else {
            spawnByExec()
            return true
        }
        forks.request(from: slot, upTo: configuration.workers)
        var started = false
        while let next = core.slotToSpawn, let outcome = forks.take(next) {
            switch outcome {
            case .success(let forked): adopt(forked, slot: next)
            case .failure(let error): fail(slot: next, error)
            }
            started = true
        }
        return started
    }

    /// Watches a worker the zygote forked for `slot`, or kills it if it cannot be watched.
    private func adopt(_ forked: ZygoteForks.Forked, slot: Int) {
        var child = Child(slot: slot, pid: forked.pid, output: [.stdout: forked.stdout, .stderr: forked.stderr])
        child.viaZygote = true
        do throws(SystemCallError) {
            child.pidfd = try Syscalls.pidfdOpen(forked.pid)
        } catch  where error.errno == .noSuchProcess {
            // It has already ended (a worker failing at once), and the zygote, its parent and
            // only reaper, reports how: take it without a pidfd; nothing is left to signal.
        } catch {
            // It runs but cannot be watched: kill it (the zygote reaps it), then report.
            ZygoteForks.kill(forked.pid)
            close(child)
            fail(
                slot: slot,
                SpawnError(executable: plan.programs[slot].executable, stage: .fork, errno: error.errno, slot: slot))
            return
        }
        children[slot] = child
        watchChild(child)
        perform(core.spawned(slot: slot, pid: forked.pid, now: clock.now))
        replayEarlyNotifications()
    }

    /// Hands the datagrams that came before their sender's pid to the core, once it knows them.
    private func replayEarlyNotifications() {
        guard !earlyNotifications.isEmpty else { return }
        let now = clock.now
        var unknown: [(pid: pid_t, message: NotifyMessage)] = []
        for (pid, message) in earlyNotifications {
            if core.slot(forPid: pid) != nil {
                perform(core.notify(from: pid, message, now: now))
            } else if forks?.isEmpty == false {
                unknown.append((pid, message))
            }
        }
        earlyNotifications = unknown
    }

    /// Starts slots by exec one after another for up to 5 ms: a thousand workers start in a few
    /// loop iterations, and signals are still read every few milliseconds.
    private func spawnByExec() {
        let until = clock.now + .milliseconds(5)
        repeat {
            guard let slot = core.slotToSpawn, forks?.isRequested(slot) != true, !forkWorker(slot) else { return }
            spawn(slot)
        } while clock.now < until
    }

    private func spawn(_ slot: Int) {
        let now = clock.now
        do {
            let child = try startChild(slot)
            children[slot] = child
            watchChild(child)
            perform(core.spawned(slot: slot, pid: child.pid, now: now))
        } catch {
            fail(slot: slot, error)
        }
    }

    private func fail(slot: Int, _ error: SpawnError) {
        spawnError = error
        logger.error("\(error)", metadata: ["slot": "\(slot)"])
        perform(core.spawnFailed(slot: slot, reason: error.description, now: clock.now))
    }

    /// What exec needs to start `slot` writing to `output`.
    private func spawnRequest(_ slot: Int, output: (stdout: CInt, stderr: CInt)) -> SpawnRequest {
        plan.request(
            slot, output: output, standardInput: devNull, watchdog: watchdog?.descriptor, notifyAddress: notify.address)
    }

    /// Starts `slot` by exec.
    private func startChild(_ slot: Int) throws(SpawnError) -> Child {
        let pipes: OutputPipes
        do {
            pipes = try OutputPipes.make()
        } catch {
            throw SpawnError(executable: plan.programs[slot].executable, stage: .fork, errno: error.errno, slot: slot)
        }
        let spawned: ChildSpawner.Spawned
        do {
            spawned = try ChildSpawner.spawn(
                spawnRequest(slot, output: (pipes.stdout.write, pipes.stderr.write)), via: startSpawner())
        } catch {
            pipes.closeWriteEnds()
            pipes.closeReadEnds()
            throw error
        }
        pipes.closeWriteEnds()
        let pid = spawned.pid
        var child = Child(slot: slot, pid: pid, output: [.stdout: pipes.stdout.read, .stderr: pipes.stderr.read])
        // The pidfd was made with the child, so no other reaper can have taken it; only on a
        // kernel without CLONE_PIDFD is it opened from the pid, with that risk.
        if let pidfd = spawned.pidfd {
            child.pidfd = pidfd
            return child
        }
        do {
            child.pidfd = try Syscalls.pidfdOpen(pid)
        } catch {
            // The child runs but cannot be watched: kill and reap it, then report.
            _ = try? Syscalls.killProcessGroup(pid, SIGKILL)
            var status: CInt = 0
            _ = waitpid(pid, &status, 0)
            close(child)
            throw SpawnError(executable: plan.programs[slot].executable, stage: .fork, errno: error.errno, slot: slot)
        }
        return child
    }

    /// The spawner thread, started on first use with the descriptors every child may be given.
    private func startSpawner() -> Spawner? {
        if let spawner { return spawner }
        guard !spawnerUnavailable else { return nil }
        let keep = [devNull] + [watchdog?.descriptor].compactMap { $0 } + payload.sockets.map(\.descriptor)
        do {
            spawner = try Spawner(keeping: keep)
        } catch {
            spawnerUnavailable = true
            logger.warning("no spawner thread, spawning from the supervisor's thread: \(error)")
        }
        return spawner
    }

    /// Whether the worker in `slot` is forked by the zygote; starts the zygote on first use
    /// (with its output to `/dev/null`). A zygote that cannot start (another thread was
    /// running in it) means exec for the rest of the run.
    private func forkWorker(_ slot: Int) -> Bool {
        guard plan.programs[slot].role == .worker, configuration.spawnStrategy == .zygote, !zygoteUnavailable else {
            return false
        }
        if let zygote { return !zygote.isGone }
        do {
            let zygote = try Zygote(request: spawnRequest(slot, output: (devNull, devNull)))
            self.zygote = zygote
            forks = ZygoteForks(zygote: zygote, executable: plan.programs[slot].executable)
            return true
        } catch {
            zygoteUnavailable = true
            logger.warning("no zygote, starting each Swift worker by exec: \(error)")
            return false
        }
    }

    /// Reads up to `limit` bufferfuls from one of a child's pipes and emits the complete lines;
    /// at the end of the pipe, emits the unfinished last line and closes it.
    private func readOutput(slot: Int, stream: OutputStream, limit: Int) {
        guard let fd = children[slot]?.output[stream] else { return }
        for _ in 0..<limit {
            let count: Int?
            do {
                count = try Syscalls.read(fd, into: readBuffer)
            } catch {
                count = 0
            }
            guard let count else { break }
            if count == 0 {
                if let last = children[slot]?.lines[stream]?.finish() {
                    if stream == .stderr { children[slot]?.keepError(last) }
                    emit(.output(slot: slot, stream, line: last))
                }
                watch.remove(fd)
                Syscalls.close(fd)
                children[slot]?.output[stream] = nil
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            for line in children[slot]?.lines[stream]?.append(bytes) ?? [] {
                if stream == .stderr { children[slot]?.keepError(line) }
                emit(.output(slot: slot, stream, line: line))
            }
        }
    }

    private func reap(slot: Int, now: ContinuousClock.Instant) {
        guard let child = children[slot], let pidfd = child.pidfd else { return }
        if child.viaZygote {
            // Its zygote died, so it was SIGKILLed (parent-death signal) and nobody can tell
            // more: report that once its pidfd says it is gone.
            finishExit(slot: slot, termination: .signaled(.kill, coreDumped: false), now: now)
            return
        }
        let termination: Termination?
        do {
            termination = try Syscalls.waitPidfd(pidfd, pid: child.pid, noHang: true)
        } catch  where error.errno == .noChildProcess {
            // Its pidfd says it ended, but someone else's waitpid(-1) reaped it: say so.
            termination = .reapedElsewhere
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)"])
            return
        }
        guard let termination else { return }
        finishExit(slot: slot, termination: termination, now: now)
    }

    /// Exits the zygote reported, and the end of the zygote itself.
    private func reapZygoteChildren(now: ContinuousClock.Instant) {
        guard let zygote else { return }
        for exit in zygote.takeExits() {
            guard let slot = core.slot(forPid: exit.pid) else { continue }
            finishExit(slot: slot, termination: exit.termination, now: now)
        }
        if zygote.isGone, children.contains(where: { $0?.viaZygote == true && $0?.pidfd != nil }) {
            logger.error("the zygote ended; its workers are reported when their pidfds say they ended")
        }
    }

    /// Reads what the ended child left in its pipes (its last lines come before its exit), then
    /// closes its pidfd and reports the exit.
    private func finishExit(slot: Int, termination: Termination, now: ContinuousClock.Instant) {
        for stream in [OutputStream.stdout, .stderr] { readOutput(slot: slot, stream: stream, limit: 16) }
        guard let child = children[slot], !child.ended else { return }
        children[slot]?.ended = true
        if let pidfd = child.pidfd {
            watch.remove(pidfd)
            Syscalls.close(pidfd)
            children[slot]?.pidfd = nil
        }
        // Its group id stays reserved while any member lives, so the group can still be signalled.
        let groupRemains = (try? Syscalls.killProcessGroup(child.pid, 0)) ?? false
        if groupRemains {
            lingering.insert(slot)
            lingeringCheckDue = lingeringCheckDue ?? now + Self.lingeringCheckInterval
        }
        perform(
            core.exited(
                slot: slot, termination, groupRemains: groupRemains, lastLines: children[slot]?.lastErrors ?? [],
                now: now))
    }

    /// Reads what is left in every pipe, emits the unfinished last lines, closes everything.
    private func finishOutput() {
        for slot in children.indices where children[slot] != nil {
            for stream in [OutputStream.stdout, .stderr] {
                readOutput(slot: slot, stream: stream, limit: 16)
                if let fd = children[slot]?.output[stream] {
                    if let last = children[slot]?.lines[stream]?.finish() {
                        emit(.output(slot: slot, stream, line: last))
                    }
                    watch.remove(fd)
                    Syscalls.close(fd)
                    children[slot]?.output[stream] = nil
                }
            }
        }
    }

    private func close(_ child: Child) {
        for fd in child.output.values { Syscalls.close(fd) }
        if let pidfd = child.pidfd { Syscalls.close(pidfd) }
    }

    // MARK: - Actions

    private func perform(_ actions: [SupervisorCore.Action]) {
        for action in actions {
            switch action {
            case .signal(let slot, let signal):
                signalGroup(slot: slot, signal.rawValue)
            case .killGroup(let slot):
                signalGroup(slot: slot, SIGKILL)
            case .emit(let event):
                emit(event)
            }
        }
    }

    /// Sends `signal` to the slot's process group, as a terminal sends Ctrl-C to its foreground
    /// group: the program behind `sh -c` gets it too, once. The process itself gets it through
    /// its pidfd only if it is not in that group (it left it, or a forked worker has not made
    /// it yet). After the process was reaped, only a lingering group is signalled: its id stays
    /// reserved while a member lives.
    private func signalGroup(slot: Int, _ signal: CInt) {
        guard let child = children[slot] else { return }
        do {
            if let pidfd = child.pidfd {
                let reachedGroup = try Syscalls.killProcessGroup(child.pid, signal)
                if !reachedGroup || Syscalls.processGroup(of: child.pid) != child.pid {
                    _ = try Syscalls.pidfdSendSignal(pidfd, signal, pid: child.pid)
                }
            } else if lingering.contains(slot) {
                _ = try Syscalls.killProcessGroup(child.pid, signal)
            }
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)", "pid": "\(child.pid)"])
        }
    }

    private func emit(_ event: EngineEvent) {
        frontend.handle(event)
    }
}
