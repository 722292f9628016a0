import Glibc

/// Time: every deadline the core keeps (the stop's `SIGKILL`, a lingering group's, a restart's
/// backoff, a replaced or retired process's, an outgoing process's, a reload's ready timeout,
/// readiness uptime, probes, health checks, the init timeout) and what happens when one passes.
extension SupervisorCore {
    /// The earliest time at which ``tick(now:)`` has something to do, or nil.
    var nextDeadline: ContinuousClock.Instant? {
        var due: [ContinuousClock.Instant] = []
        if case .stopping(_, _, let deadline?, false) = phase { due.append(deadline) }
        due += lingeringSlots.compactMap { slots[$0].sent.killed ? nil : slots[$0].lingering?.killAt }
        due += backoffSlots.compactMap { slots[$0].lingering != nil ? nil : slots[$0].restartAt }
        due += killDeadlineSlots.compactMap { slots[$0].killAt }
        due += reloads.outgoing.values.compactMap { $0.sent.killed ? nil : $0.killAt }
        due += (reloads.current?.active ?? []).compactMap {
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

    /// Time passed: escalate after the wait timeout, fail slots past the init timeout, make
    /// restarts due whose delay has passed (and whose old process group has ended).
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions = readinessTick(now: now) + healthTick(now: now)
        for index in backoffSlots.sorted() where slots[index].lingering == nil {
            guard let due = slots[index].restartAt, now >= due else { continue }
            backoffSlots.remove(index)
            restartsDue.insert(index)
        }
        actions += outgoingTick(now: now)
        for index in killDeadlineSlots.sorted() {
            guard let due = slots[index].killAt, now >= due else { continue }
            killDeadlineSlots.remove(index)
            slots[index].killAt = nil
            if slots[index].holdsRun, !slots[index].sent.killed { actions += killGroup(index, reason: .timeout) }
        }
        if case .stopping(let signal, let cause, let deadline?, false) = phase, now >= deadline {
            phase = .stopping(signal: signal, cause: cause, deadline: deadline, escalated: true)
            // Programs still waiting for their dependents to end, or with a wait timeout of their
            // own, have a deadline of their own.
            actions += liveSlots.filter {
                !slots[$0].sent.killed && !isStoppedLater($0) && !killDeadlineSlots.contains($0)
            }
            .flatMap { killGroup($0, reason: .timeout) }
            actions += killOutgoing(reason: .timeout)
        }
        // A group that lingers since its process ended has a deadline of its own, also when a
        // stop began after it (the stop's may be later).
        for index in lingeringSlots.sorted() where !slots[index].sent.killed {
            guard let due = slots[index].lingering?.killAt, now >= due else { continue }
            slots[index].lingering?.killAt = nil
            actions += killGroup(index, reason: .timeout)
        }
        return actions + initTimeoutTick(now: now)
    }

    /// Slots still initializing past the init timeout fail: the run stops under the stop-all
    /// failure policy, else the slot's group is killed.
    private mutating func initTimeoutTick(now: ContinuousClock.Instant) -> [Action] {
        guard let initTimeout else { return [] }
        var actions: [Action] = []
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
        return actions
    }
}
