import Glibc

/// Restarts: the restart policy decides whether a process that ended is started again, after a
/// backoff that grows with each restart in a row; too many within the window is a crash loop
/// and the slot gives up. An operator's restart replaces a process at once.
extension SupervisorCore {
    /// What happens to a slot whose process ended.
    enum RestartDecision {
        case none
        case restart
        case giveUp(SlotFailure)
    }

    /// Whether the slot's process that just ended (as `end`) is restarted, or gave up.
    mutating func restartDecision(_ index: Int, _ end: SlotEnd, now: ContinuousClock.Instant) -> RestartDecision {
        guard restartPolicy(of: index) != .no, !isStoppingOrStopped, !slots[index].plan.oneshot else { return .none }
        let slot = slots[index]
        guard !slot.sent.asksToEnd, !end.isStoppedByOperator, slot.failure == nil else { return .none }
        // On the first start, an init failure is a broken configuration: fail fast, do not loop.
        if case .initFailed? = end.failure, slot.generation == 0 { return .none }
        switch restartPolicy(of: index) {
        case .no: return .none
        case .onFailure: if end.failure == nil || end.termination == .exited(code: 0) { return .none }
        case .always: break
        }
        if let restarts = tooManyRestarts(index, now: now) {
            return .giveUp(.gaveUp(restarts: restarts, window: backoff(of: index).window, last: end.failure))
        }
        return .restart
    }

    /// Forgets the slot's restarts older than the window; returns their count if it reached
    /// the limit (the slot gives up), else nil.
    mutating func tooManyRestarts(_ index: Int, now: ContinuousClock.Instant) -> Int? {
        let window = backoff(of: index).window
        slots[index].restartTimes.removeAll { now - $0 >= window }
        let count = slots[index].restartTimes.count
        return count >= backoff(of: index).maxRestarts ? count : nil
    }

    /// Puts the slot in backoff for its next generation.
    mutating func scheduleRestart(_ index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        if let since = slots[index].runningSince, now - since >= backoff(of: index).reset { slots[index].streak = 0 }
        slots[index].streak += 1
        let attempt = slots[index].streak
        let delay = backoff(of: index).delay(attempt: attempt, jitter: jitter())
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
    mutating func scheduleRequestedRestart(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
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
    mutating func restartOnRequest(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        guard slots.indices.contains(index), !isStoppingOrStopped, !slots[index].retiring else { return [] }
        if slots[index].isLive {
            guard slots[index].replacement != .requested else { return [] }
            slots[index].replacement = .requested
            armKillDeadline(index, now: now)
            // Its group may have had a stop signal already (an operator's): then only SIGKILL
            // at the deadline ends it.
            if slots[index].sent.stopSent { return [] }
            return send(defaultStopSignal(of: index), to: index, reason: .restart)
        }
        if backoffSlots.contains(index) {
            slots[index].restartAt = now
            return []
        }
        // Ended for good (gave up, or failed with keep-running): start it again now.
        guard slots[index].pid != nil, slots[index].end != nil, !restartsDue.contains(index) else { return [] }
        slots[index].replacement = .requested
        return scheduleRequestedRestart(index, now: now)
    }

    /// The slot's live process is `SIGKILL`ed at the wait timeout if it has not ended by then.
    mutating func armKillDeadline(_ index: Int, now: ContinuousClock.Instant) {
        guard let waitTimeout = waitTimeout(of: index) else { return }
        slots[index].killAt = now + waitTimeout
        killDeadlineSlots.insert(index)
    }

    /// A restart's spawn failed: under a restart policy it backs off and retries (counting
    /// toward giving up); otherwise the slot fails, and the failure policy applies.
    mutating func restartFailedToStart(_ index: Int, reason: String, now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        if restartPolicy(of: index) != .no, !isStoppingOrStopped {
            guard let restarts = tooManyRestarts(index, now: now) else {
                return scheduleRestart(index, reason: "spawn failed: \(reason)", now: now)
            }
            let gaveUp = SlotFailure.gaveUp(
                restarts: restarts, window: backoff(of: index).window, last: .spawnFailed(reason))
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

    /// A stop began: restarts waiting for their time are cancelled, nothing more is spawned.
    mutating func cancelRestarts() -> [Action] {
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
}
