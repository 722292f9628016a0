import Glibc

/// Spawning: which slot the driver starts next (the first start in order, then restarts, then
/// a reload's new generations), what a started process does first, and what a failed start
/// means at each point of the run.
extension SupervisorCore {
    /// How a worker slot of `configuration` becomes running.
    static func workerPlan(_ configuration: SupervisorConfiguration) -> SlotPlan {
        let defaults = ProgramDefaults(
            readiness: configuration.workerReadiness, readyAfter: configuration.readyAfter,
            healthChecked: configuration.health != nil)
        var plan = plan(of: Program("worker", command: []), at: 0, defaults: defaults)
        plan.program = nil
        return plan
    }

    /// The slot the driver should spawn next, or nil (all spawned, or the stop began): the
    /// initial slots in order, then slots whose restart is due.
    var slotToSpawn: Int? {
        switch phase {
        case .starting, .running: return firstUnspawned ?? restartsDue.min() ?? reloads.due.min()
        case .stopping, .stopped: return nil
        }
    }

    /// The next slot of the first start (or added by scaling) not spawned yet, skipping slots
    /// retired before their turn.
    var firstUnspawned: Int? {
        if !gates.isEmpty { return firstUnspawnedOfPrograms }
        var index = nextToSpawn
        while index < slots.count, slots[index].retiring { index += 1 }
        return index < slots.count ? index : nil
    }

    /// Whether `slot` is the next of the first start (or added by scaling).
    func isFirstStart(_ slot: Int) -> Bool { slotToSpawn == slot && firstUnspawned == slot }

    /// The slot of the first start after `slot` (one the driver may start ahead while `slot` is
    /// being started), or nil: none left, the stop began, or a program still waits for another
    /// (whose release could put its processes first: none is started on a guess).
    func firstStart(after slot: Int) -> Int? {
        guard slotToSpawn != nil else { return nil }
        guard !gates.isEmpty else {
            guard slot >= nextToSpawn else { return nil }
            var index = slot + 1
            while index < slots.count, slots[index].retiring { index += 1 }
            return index < slots.count ? index : nil
        }
        guard gates.allSatisfy({ $0.released || $0.doomed || $0.removed }) else { return nil }
        var passed = false
        for gate in gates where gate.released && !gate.doomed && !gate.removed {
            for member in gate.members.dropFirst(gate.started) where !slots[member].retiring {
                if passed { return member }
                passed = member == slot
            }
        }
        return nil
    }

    /// Whether the spawn of `slot` would start a later generation (a restart), not its first.
    func isRestart(_ slot: Int) -> Bool { restartsDue.contains(slot) }

    /// Whether the spawn of `slot` starts a reload's new generation beside the running one.
    func isReload(_ slot: Int) -> Bool { reloads.due.contains(slot) && !restartsDue.contains(slot) }

    /// The driver started `slot` as `pid` (and, for exec-ready slots, exec succeeded).
    mutating func spawned(slot index: Int, pid: pid_t, now: ContinuousClock.Instant) -> [Action] {
        if restartsDue.remove(index) != nil {
            slots[index] = slots[index].nextGeneration(restart: true)
        } else if reloads.due.remove(index) != nil, slots[index].pid != nil {
            handOver(index, now: now)
        } else {
            precondition(index == firstUnspawned, "slots are spawned in order; got \(index), expected \(nextToSpawn)")
            nextToSpawn = index + 1
            advanceGate(past: index)
        }
        // A program's definition changed by a file reload reaches the slot with this process.
        if let program = slots[index].plan.program { slots[index].plan = gates[program].plan }
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
        return actions + updateGates(now: now) + checkAllRunning()
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
        if !isRestart {
            nextToSpawn = max(nextToSpawn, index + 1)
            advanceGate(past: index)
        }
        var actions: [Action] = [.emit(.failed(slot: index, .spawnFailed(reason)))]
        if fatal {
            slots[index].failure = .spawnFailed(reason)
            actions += beginStop(
                signal: defaultStopSignal, cause: .spawnFailed(slot: index), reason: .failFast, now: now)
            return actions
        }
        guard isRestart else { return actions + addedSlotFailedToStart(index, reason: reason) }
        return actions + restartFailedToStart(index, reason: reason, now: now)
    }
}
