import Glibc

/// Health while running: periodic checks (probes the driver runs) and the memory limit (samples
/// the driver takes). A process that fails too many checks in a row, or stays above the limit,
/// is unhealthy: it gets its stop signal (SIGKILL after the wait timeout) and its next
/// generation, whatever the restart policy says; such restarts count toward giving up.
extension SupervisorCore {
    /// Schedules the slot's first (or next) health check, if it has one.
    mutating func scheduleHealthCheck(_ index: Int, now: ContinuousClock.Instant) {
        guard slots[index].plan.healthChecked else { return }
        slots[index].healthDueAt = now + healthTiming(of: index).interval
        healthSlots.insert(index)
    }

    /// Due health checks are asked of the driver.
    mutating func healthTick(now: ContinuousClock.Instant) -> [Action] {
        dueProbes(.health, while: .running, now: now)
    }

    /// A health check of the slot's running process ended.
    mutating func healthCheckFinished(_ index: Int, ok: Bool, detail: String, now: ContinuousClock.Instant)
        -> [Action]
    {
        guard slots[index].state == .running, !isStoppingOrStopped else { return [] }
        let generation = slots[index].generation
        if ok {
            let wasFailing = slots[index].healthFailures > 0
            slots[index].healthFailures = 0
            scheduleHealthCheck(index, now: now)
            guard wasFailing else { return [] }
            return [.emit(.health(slot: index, generation: generation, ok: true, failures: 0, detail: ""))]
        }
        slots[index].healthFailures += 1
        let failures = slots[index].healthFailures
        var actions: [Action] = [
            .emit(.health(slot: index, generation: generation, ok: false, failures: failures, detail: detail))
        ]
        if failures >= healthTiming(of: index).failures {
            let because = "\(failures) health check\(failures == 1 ? "" : "s") failed in a row: \(detail)"
            actions += restartForHealth(index, reason: .unhealthy, detail: because, now: now)
        } else {
            scheduleHealthCheck(index, now: now)
        }
        return actions
    }

    /// The resident memory of the slot's process tree, sampled about once a second: above the
    /// limit in two samples in a row restarts it.
    mutating func memorySampled(slot index: Int, pid: pid_t, residentBytes: Int, now: ContinuousClock.Instant)
        -> [Action]
    {
        guard slots.indices.contains(index), let maxMemory = maxMemory(of: index), slots[index].pid == pid,
            slots[index].state == .running,
            slots[index].isLive, !isStoppingOrStopped
        else { return [] }
        guard residentBytes > maxMemory else {
            slots[index].memoryStrikes = 0
            return []
        }
        slots[index].memoryStrikes += 1
        let strikes = slots[index].memoryStrikes
        let detail = "memory \(ByteCount.text(residentBytes)) above the \(ByteCount.text(maxMemory)) limit"
        var actions: [Action] = [
            .emit(
                .health(slot: index, generation: slots[index].generation, ok: false, failures: strikes, detail: detail))
        ]
        if strikes >= 2 { actions += restartForHealth(index, reason: .memory, detail: detail, now: now) }
        return actions
    }

    /// Whether `pid` is the running process of a slot whose memory is watched.
    func watchesMemory(slot index: Int) -> Bool {
        slots.indices.contains(index) && maxMemory(of: index) != nil && slots[index].state == .running
            && slots[index].isLive
    }

    /// The unhealthy process gets the default stop signal (`reason`), `SIGKILL` after the wait
    /// timeout; its end starts its next generation (``healthRestartDecision(_:now:)``).
    private mutating func restartForHealth(
        _ index: Int, reason: SignalReason, detail: String, now: ContinuousClock.Instant
    ) -> [Action] {
        guard slots[index].replacement == nil else { return [] }
        slots[index].replacement = .unhealthy(reason: reason, detail: detail)
        stopAwaitingProbe(.health, index)
        var actions = setState(index, .unhealthy)
        armKillDeadline(index, now: now)
        if !slots[index].sent.stopSent { actions += send(defaultStopSignal(of: index), to: index, reason: reason) }
        return actions
    }

    /// A process restarted for its health ended: its next generation starts, unless the slot
    /// has restarted too often within the restart window (then it gives up: a failure).
    mutating func healthRestartDecision(_ index: Int, now: ContinuousClock.Instant) -> RestartDecision {
        if let restarts = tooManyRestarts(index, now: now) {
            return .giveUp(.gaveUp(restarts: restarts, window: backoff(of: index).window, last: nil))
        }
        return .restart
    }
}
