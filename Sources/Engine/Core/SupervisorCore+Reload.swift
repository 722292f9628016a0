import Glibc

/// Reloads: a rolling replacement, new before old. A slot's next generation starts beside its
/// running process, which becomes the slot's outgoing process and keeps serving; once the new
/// one runs, the outgoing one gets the stop signal. A new generation that ends or misses the
/// ready timeout rolls the reload back: the rest of the batch is stopped, nothing more starts,
/// and the outgoing process is the slot's again. This machine owns the outgoing processes.
extension SupervisorCore {
    /// A process a reload replaces: it keeps serving until its successor runs, then stops.
    struct Outgoing {
        var pid: pid_t
        /// How it runs (it gets the slot back with it if the reload rolls back).
        var plan: SlotPlan
        var generation: Int
        /// When it was started and became running (it gets the slot back if the reload rolls back).
        var spawnedAt: ContinuousClock.Instant?
        var runningSince: ContinuousClock.Instant?
        /// When its group is `SIGKILL`ed if it has not ended.
        var killAt: ContinuousClock.Instant?
        /// What the supervisor sent its group, and why.
        var sent = SignalLedger()
    }

    /// A rolling reload under way.
    struct Reload {
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

    /// The reload machine's state.
    struct Reloads {
        /// How many new generations start at a time.
        let batch: Int
        /// How long a new generation may take to be running before the reload rolls back.
        let readyTimeout: Duration?
        /// The reload under way.
        var current: Reload?
        /// The processes being replaced, by slot (they outlive their reload while they stop).
        var outgoing: [Int: Outgoing] = [:]
        /// Slots whose new generation the driver should start now.
        var due: Set<Int> = []
        /// How many reloads began: a reload's new Swift workers come from a zygote of its own.
        var round = 0
    }

    /// Whether a reload is under way.
    var isReloading: Bool { reloads.current != nil }

    /// How many reloads began.
    var reloadRound: Int { reloads.round }

    /// The pid of the slot's outgoing process (being replaced by a reload), if any.
    func outgoingPid(ofSlot index: Int) -> pid_t? { reloads.outgoing[index]?.pid }

    /// ``SupervisorCommand/reload``: every running worker, in index order (`programs`: only
    /// those of these programs).
    mutating func beginReload(now: ContinuousClock.Instant, programs: Set<Int>? = nil) -> [Action] {
        guard !isReloading, !isStoppingOrStopped else { return [] }
        let targets = slots.indices.filter { index in
            let slot = slots[index]
            let chosen = programs.map { chosen in slot.plan.program.map(chosen.contains) ?? false } ?? true
            return slot.plan.kind == .worker && !slot.retiring && slot.state == .running
                && reloads.outgoing[index] == nil && !slot.plan.oneshot && chosen
        }
        reloads.current = Reload(queue: targets)
        reloads.round += 1
        return [.emit(.reload(.started(workers: targets.count)))] + continueReload(now: now)
    }

    /// Starts the next slots while fewer than a batch are starting; reports the end.
    mutating func continueReload(now: ContinuousClock.Instant) -> [Action] {
        guard var current = reloads.current else { return [] }
        if current.rollback == nil {
            while current.active.count < reloads.batch, !current.queue.isEmpty {
                let index = current.queue.removeFirst()
                // A slot that stopped running meanwhile (it crashed, it retired) is skipped.
                guard slots[index].state == .running, reloads.outgoing[index] == nil, slots[index].isLive else {
                    continue
                }
                current.active.insert(index)
                reloads.due.insert(index)
            }
        }
        reloads.current = current
        guard current.active.isEmpty else { return [] }
        reloads.current = nil
        settleDefinitions(keep: current.rollback == nil)
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

    /// The slot's new generation was spawned: its running process becomes the outgoing one and
    /// keeps serving (new before old).
    mutating func handOver(_ index: Int, now: ContinuousClock.Instant) {
        guard let old = slots[index].pid else { return }
        reloads.outgoing[index] = Outgoing(
            pid: old, plan: slots[index].plan, generation: slots[index].generation, spawnedAt: slots[index].spawnedAt,
            runningSince: slots[index].runningSince)
        if slots[index].state == .running { runningCount -= 1 }
        slots[index].state = .pending
        slots[index] = slots[index].nextGeneration(restart: false)
        slots[index].readyDeadline = reloads.readyTimeout.map { now + $0 }
    }

    /// The driver could not start a reload's new generation for `slot`: the reload rolls back,
    /// the old process serves on.
    mutating func reloadSpawnFailed(slot index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        guard reloads.due.remove(index) != nil else { return [] }
        // Nothing was started: the slot's process is still the old one, serving; the rollback
        // stops only the rest of the batch.
        reloads.current?.active.remove(index)
        let actions = rollBack(index, reason: "cannot start its new generation: \(reason)", now: now)
        return actions + continueReload(now: now)
    }

    /// The slot's new generation is running: its outgoing process stops (new before old).
    mutating func successorRunning(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        guard reloads.current?.active.contains(index) == true else { return [] }
        slots[index].readyDeadline = nil
        reloads.current?.active.remove(index)
        reloads.current?.replaced += 1
        // Its predecessor may have ended by itself meanwhile: then there is nothing to stop.
        var actions = stopOutgoing(index, signal: defaultStopSignal(of: index), reason: .reload, now: now)
        actions += continueReload(now: now)
        return actions
    }

    /// Whether the slot's process is a reload's new generation that has not taken over yet
    /// (its end gives the slot back to the outgoing process).
    func isSuccessorStarting(_ index: Int) -> Bool {
        reloads.outgoing[index] != nil && !isStoppingOrStopped
            && (slots[index].readyDeadline != nil || reloads.current?.active.contains(index) == true)
    }

    /// A reload's new generation that ended after its predecessor had already gone: nothing
    /// to give the slot back to, but the reload stops there all the same.
    mutating func successorEnded(_ index: Int, _ termination: Termination, now: ContinuousClock.Instant)
        -> [Action]
    {
        guard reloads.current?.active.remove(index) != nil else { return [] }
        slots[index].readyDeadline = nil
        var actions: [Action] = []
        if reloads.current?.rollback == nil {
            actions += rollBack(index, reason: "generation \(slots[index].generation) \(termination)", now: now)
        }
        return actions + continueReload(now: now)
    }

    /// The new generation of a slot under reload ended before it was running: the old process
    /// takes the slot back, and the reload rolls back.
    mutating func failedSuccessorExited(
        _ index: Int, _ termination: Termination, lastLines: [String], now: ContinuousClock.Instant
    ) -> [Action] {
        guard let pid = slots[index].pid, let outgoing = reloads.outgoing[index] else { return [] }
        var actions: [Action] = []
        // It has ended: the rollback stops the rest of its batch, not it.
        reloads.current?.active.remove(index)
        if reloads.current?.rollback == nil {
            actions += rollBack(index, reason: "generation \(slots[index].generation) \(termination)", now: now)
        }
        var end = SlotEnd(
            termination: termination, origin: slots[index].sent.origin(of: termination),
            failure: .initFailed(termination))
        end.lastLines = lastLines
        if reloads.current?.rollback?.slot == index, reloads.current?.failedEnd == nil {
            reloads.current?.failedEnd = end
        }
        slotByPid[pid] = nil
        liveCount -= 1
        forgetReadiness(index)
        healthSlots.remove(index)
        actions.append(.emit(.exited(slot: index, pid: pid, end, generation: slots[index].generation)))
        // The old process is the slot's again, running as before.
        var reinstated = Slot(plan: outgoing.plan)
        reinstated.pid = outgoing.pid
        reinstated.generation = outgoing.generation
        reinstated.restarts = slots[index].restarts
        reinstated.spawnedAt = outgoing.spawnedAt
        reinstated.runningSince = outgoing.runningSince
        slots[index] = reinstated
        reloads.outgoing[index] = nil
        actions.append(.emit(.reinstated(slot: index, pid: outgoing.pid, generation: outgoing.generation)))
        actions += setState(index, .running)
        return actions + continueReload(now: now)
    }

    /// The outgoing process of `slot` ended: reported with its own generation. What remains of
    /// its process group (it was sent the stop signal) is `SIGKILL`ed.
    mutating func outgoingExited(
        slot index: Int, _ termination: Termination, groupRemains: Bool, now: ContinuousClock.Instant
    ) -> [Action] {
        guard let outgoing = reloads.outgoing[index] else { return [] }
        let end = classifyOutgoing(outgoing, termination)
        var actions: [Action] = [.emit(.exited(slot: index, pid: outgoing.pid, end, generation: outgoing.generation))]
        if groupRemains, !outgoing.sent.killed { actions += killOutgoing(index, reason: .cleanup) }
        reloads.outgoing[index] = nil
        slotByPid[outgoing.pid] = nil
        liveCount -= 1
        if !outgoing.sent.stopSent, reloads.current?.active.contains(index) == true, !isStoppingOrStopped {
            // Its successor, still starting, is the slot's only process now: nothing to roll back
            // to, so no ready timeout; it takes the slot once running (or fails as any process does).
            slots[index].readyDeadline = nil
            reloads.current?.active.remove(index)
            reloads.current?.replaced += 1
            actions += continueReload(now: now)
        }
        return actions + finishIfDone()
    }

    /// A reload's new generation failed (`reason`): it is stopped; when it has ended the old
    /// process is the slot's again. Nothing more starts; the reload reports the rollback once
    /// the new generations still starting have ended.
    mutating func rollBack(_ index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        if reloads.current?.rollback == nil { reloads.current?.rollback = (index, reason) }
        reloads.current?.queue.removeAll()
        var actions: [Action] = []
        for other in (reloads.current?.active ?? []).sorted() where slots[other].isLive && !slots[other].sent.killed {
            actions += killGroup(other, reason: .reload)
        }
        return actions
    }

    /// The server began to stop during a reload: nothing more starts.
    mutating func endReloadForStop() -> [Action] {
        guard let current = reloads.current else { return [] }
        reloads.current = nil
        reloads.due.removeAll()
        return [
            .emit(
                .reload(
                    .rolledBack(
                        slot: nil, reason: "the server is stopping", replaced: current.replaced, failedEnd: nil)))
        ]
    }

    /// Whether the slot's serving process is its outgoing one: a reload's successor starts.
    func servesFromOutgoing(_ index: Int) -> Bool {
        guard let outgoing = reloads.outgoing[index], !outgoing.sent.killed else { return false }
        return slots[index].state != .running
    }

    /// The first stop signal to the outgoing process's group, with a `SIGKILL` deadline.
    mutating func stopOutgoing(
        _ index: Int, signal: Signal, reason: SignalReason, now: ContinuousClock.Instant
    ) -> [Action] {
        guard let outgoing = reloads.outgoing[index], !outgoing.sent.stopSent else { return [] }
        reloads.outgoing[index]?.sent.record(signal, reason, isStop: true, asksToEnd: true)
        let deadline = waitTimeout(of: index).map { now + $0 }
        if outgoing.killAt == nil { reloads.outgoing[index]?.killAt = deadline }
        return [
            .signalOutgoing(slot: index, pid: outgoing.pid, signal),
            .emit(.signalSent(slot: index, pid: outgoing.pid, signal, reason, generation: outgoing.generation)),
        ]
    }

    /// The stop signal to every outgoing process not sent one yet (the server stops).
    mutating func stopOutgoing(signal: Signal, reason: SignalReason, now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for index in reloads.outgoing.keys.sorted() {
            actions += stopOutgoing(index, signal: stopSignal(of: index, forwarding: signal), reason: reason, now: now)
        }
        return actions
    }

    /// An operator's signal to the outgoing process of `slot` (dying of it is intended).
    mutating func signalOutgoingByOperator(_ index: Int, _ signal: Signal) -> [Action] {
        guard let outgoing = reloads.outgoing[index], !outgoing.sent.killed else { return [] }
        if signal == .kill { return killOutgoing(index, reason: .command) }
        reloads.outgoing[index]?.sent.record(signal, .command, isStop: false, asksToEnd: false)
        return [
            .signalOutgoing(slot: index, pid: outgoing.pid, signal),
            .emit(.signalSent(slot: index, pid: outgoing.pid, signal, .command, generation: outgoing.generation)),
        ]
    }

    /// `SIGKILL` to the outgoing process's group.
    mutating func killOutgoing(_ index: Int, reason: SignalReason) -> [Action] {
        guard let outgoing = reloads.outgoing[index], !outgoing.sent.killed else { return [] }
        reloads.outgoing[index]?.sent.record(.kill, reason, isStop: false, asksToEnd: true)
        return [
            .killOutgoingGroup(slot: index, pid: outgoing.pid),
            .emit(.signalSent(slot: index, pid: outgoing.pid, .kill, reason, generation: outgoing.generation)),
        ]
    }

    /// `SIGKILL` to every outgoing process not killed yet.
    mutating func killOutgoing(reason: SignalReason) -> [Action] {
        var actions: [Action] = []
        for index in reloads.outgoing.keys.sorted() { actions += killOutgoing(index, reason: reason) }
        return actions
    }

    /// Outgoing processes past their `SIGKILL` deadline are killed.
    mutating func outgoingTick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for index in reloads.outgoing.keys.sorted() {
            if let due = reloads.outgoing[index]?.killAt, now >= due {
                actions += killOutgoing(index, reason: .timeout)
            }
        }
        for index in (reloads.current?.active ?? []).sorted() {
            if let due = slots[index].readyDeadline, now >= due, slots[index].state == .initializing,
                slots[index].isLive, !isStoppingOrStopped
            {
                slots[index].readyDeadline = nil
                actions += rollBack(
                    index,
                    reason: "\(reloads.readyTimeout?.secondsText ?? "the ready timeout") passed before it was running",
                    now: now)
            }
        }
        return actions
    }
}
