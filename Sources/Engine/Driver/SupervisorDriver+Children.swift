import Glibc
import Logging
import SystemPackage

/// Children: starting what can start (by exec, or forked by the zygote), reaping what ended
/// (through pidfds, or the zygote's exit messages), and a watchdog that ended.
extension SupervisorDriver {
    /// Starts what can start now: the next slot by exec, or every worker slot whose pid the
    /// zygote has sent (asking ahead for the next ones, so that it forks while we go on).
    /// Returns whether a slot was started or failed.
    func spawnWhatIsReady() -> Bool {
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
    func forks(_ slot: Int) -> Bool {
        if core.isReload(slot) { return starter.forksReload(slot, round: core.reloadRound) }
        if core.isRestart(slot) { return starter.canForkRestart(slot) }
        return starter.forksWorker(slot)
    }

    /// Starts slots by exec one after another for up to 5 ms: a thousand workers start in a few
    /// loop iterations, and signals are still read every few milliseconds. A first start is
    /// pipelined: up to ``spawnsAhead`` slots are with the spawner threads at once, so that they
    /// fork the next ones while this thread takes the last; every one is taken before this returns.
    func spawnByExec() {
        let until = clock.now + .milliseconds(5)
        repeat {
            if starter.submittedSlots.isEmpty {
                guard let slot = core.slotToSpawn, !forks(slot) else { break }
                guard core.isFirstStart(slot), starter.submitExec(slot) else {
                    let started = clock.now
                    take(starter.exec(slot, fromDisk: core.isReload(slot)), slot: slot, since: started)
                    continue
                }
            }
            while starter.submittedSlots.count < Self.spawnsAhead, clock.now < until,
                let last = starter.submittedSlots.last, let next = core.firstStart(after: last), !forks(next),
                starter.submitExec(next)
            {}
            takeOldestSubmitted()
        } while clock.now < until
        while !starter.submittedSlots.isEmpty { takeOldestSubmitted() }
    }

    /// How many first starts may be with the spawner threads at once.
    static let spawnsAhead = 4

    /// Takes the oldest slot submitted to the spawner thread, or kills its child when the slot is
    /// no longer the one to start (the start of an earlier one ended the run).
    private func takeOldestSubmitted() {
        guard let (slot, outcome, submitted) = starter.collectExec() else { return }
        if core.slotToSpawn == slot {
            take(outcome, slot: slot, since: submitted)
        } else {
            starter.abandon(outcome)
        }
    }

    /// Watches a started child and tells the core, or reports why `slot` could not start;
    /// `since`: an instant before its process started (its readiness and uptime count from
    /// there), now when not given.
    func take(_ outcome: Result<ChildTable.Child, SpawnError>, slot: Int, since: ContinuousClock.Instant? = nil) {
        let now = since ?? clock.now
        switch outcome {
        case .success(let child):
            // New before old: a reload's running process stays, serving as the outgoing one; a
            // restart replaces the ended process's entry: what its pipes still held goes first.
            if !core.isReload(slot), let ended = children[slot] { children.retire(pid: ended.pid, emit: emit) }
            children.add(child)
            if watchdogReplaced { watchdog?.register([child.pid]) }
            // Its start happened before this thread took it.
            eventsHappenedAt = now
            perform(core.spawned(slot: slot, pid: child.pid, now: now))
            eventsHappenedAt = nil
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

    /// The pidfd of the child `pid` says it ended: reaps it and reports the end, of its slot's
    /// current process or of the outgoing one a reload replaces.
    func reap(pid: pid_t, now: ContinuousClock.Instant) {
        guard let slot = children.child(pid: pid)?.slot else { return }
        do {
            guard let termination = try children.reap(pid: pid) else { return }
            if children[slot]?.pid == pid {
                finishExit(slot: slot, termination: termination, now: now)
            } else {
                finishOutgoingExit(slot: slot, pid: pid, termination: termination, now: now)
            }
        } catch {
            logger.error("\(error)", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        }
    }

    /// Exits the zygote reported, and the end of the zygote itself.
    func reapZygoteChildren(now: ContinuousClock.Instant) {
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
    func finishZygoteExit(_ exit: Zygote.Exit, now: ContinuousClock.Instant) {
        guard let slot = core.slot(forPid: exit.pid) else { return }
        if core.outgoingPid(ofSlot: slot) == exit.pid {
            finishOutgoingExit(slot: slot, pid: exit.pid, termination: exit.termination, now: now)
        } else {
            finishExit(slot: slot, termination: exit.termination, now: now)
        }
    }

    /// Reads what the ended child left in its pipes (its last lines come before its exit), then
    /// closes its pidfd and reports the exit.
    func finishExit(slot: Int, termination: Termination, now: ContinuousClock.Instant) {
        guard let pid = children[slot]?.pid else { return }
        for stream in [ChildStream.stdout, .stderr] {
            children.readOutput(pid: pid, stream: stream, limit: 16, emit: emit)
        }
        guard let child = children.markEnded(pid: pid) else { return }
        // Its group id stays reserved while any member lives, so the group can still be signalled.
        let groupRemains = (try? Syscalls.killProcessGroup(child.pid, 0)) ?? false
        if groupRemains {
            lingering.insert(slot)
            lingeringCheckDue = lingeringCheckDue ?? now + Self.lingeringCheckInterval
        }
        let outgoing = core.outgoingPid(ofSlot: slot)
        perform(
            core.exited(slot: slot, termination, groupRemains: groupRemains, lastLines: child.lastErrors, now: now))
        if let outgoing, core.outgoingPid(ofSlot: slot) == nil {
            // A reload's new generation failed before it ran: the old process has the slot back,
            // and what the failed one started goes with it.
            if groupRemains {
                lingering.remove(slot)
                _ = try? Syscalls.killProcessGroup(child.pid, SIGKILL)
            }
            children.retire(pid: pid, emit: emit)
            children.reinstate(outgoing)
        }
    }

    /// The outgoing process `pid` of a slot under reload ended: its last lines, then its end.
    func finishOutgoingExit(slot: Int, pid: pid_t, termination: Termination, now: ContinuousClock.Instant) {
        for stream in [ChildStream.stdout, .stderr] {
            children.readOutput(pid: pid, stream: stream, limit: 16, emit: emit)
        }
        guard let child = children.markEnded(pid: pid) else { return }
        let groupRemains = (try? Syscalls.killProcessGroup(child.pid, 0)) ?? false
        perform(core.outgoingExited(slot: slot, termination, groupRemains: groupRemains, now: now))
        children.retire(pid: pid, emit: emit)
    }

    // MARK: - The watchdog

    /// The watchdog ended while the run goes on (it was killed): a new one is started and told
    /// every live process group, and the front ends are told.
    func replaceEndedWatchdog() {
        guard let ended = watchdog, let endedPid = ended.pid, ended.hasEnded() else { return }
        endedWatchdogs.append(ended)
        do {
            let fresh = try Watchdog()
            if let error = fresh.awaitStart() { throw error }
            watchdog = fresh
            watchdogReplaced = true
            fresh.register(children.liveGroups + starter.allZygotes.map(\.pid))
            if let directory = notify.directory { fresh.removeOnDeath(directory) }
            logger.error("the watchdog (pid \(endedPid)) ended: replaced by pid \(fresh.pid ?? 0)")
            emit(.watchdogEnded(pid: endedPid, replacement: fresh.pid))
        } catch {
            watchdog = nil
            logger.error("the watchdog (pid \(endedPid)) ended and none could be started: \(error)")
            emit(.watchdogEnded(pid: endedPid, replacement: nil))
        }
    }

    /// The watchdog's pidfd, to watch (-1: none); the first call waits for its start, and says
    /// so when it could not start.
    func watchdogToWatch() -> CInt {
        guard let watchdog else { return -1 }
        if let error = watchdog.awaitStart() {
            logger.warning("no watchdog: grandchildren may outlive a killed supervisor: \(error)")
        }
        return watchdog.pidfd ?? -1
    }
}
