import Glibc

/// Readiness: when a slot's process, once started, counts as running. Its readiness is met on
/// exec, on `READY=1`, on a line of output (the driver matches it) or on a probe's success (the
/// core schedules probes as actions, the driver runs them); it is running once it has then
/// stayed up for its plan's `readyAfter`.
extension SupervisorCore {
    /// Whether the driver should look for the slot's readiness line in its output: its process
    /// of `pid` is initializing and its readiness is not met yet.
    func awaitsReadinessLine(slot index: Int, pid: pid_t) -> Bool {
        slots.indices.contains(index) && slots[index].pid == pid && slots[index].state == .initializing
            && slots[index].readyMetAt == nil && slots[index].isLive
    }

    /// A line of output of the slot's process `pid` matched its readiness pattern.
    mutating func readinessLineSeen(slot index: Int, pid: pid_t, now: ContinuousClock.Instant) -> [Action] {
        guard awaitsReadinessLine(slot: index, pid: pid), !isStoppingOrStopped else { return [] }
        return readinessMet(index, now: now)
    }

    /// A probe the core asked for ended: `ok`, or failed with `detail` (e.g. "connection refused").
    mutating func probeFinished(
        slot index: Int, generation: Int, purpose: ProbePurpose, ok: Bool, detail: String,
        now: ContinuousClock.Instant
    ) -> [Action] {
        guard slots.indices.contains(index), slots[index].generation == generation, slots[index].isLive else {
            return []
        }
        switch purpose {
        case .health:
            return healthCheckFinished(index, ok: ok, detail: detail, now: now)
        case .readiness:
            guard slots[index].state == .initializing, slots[index].readyMetAt == nil, !isStoppingOrStopped else {
                return []
            }
            if ok { return readinessMet(index, now: now) }
            slots[index].probeDueAt = now + probeInterval
            probeSlots.insert(index)
            return sayWaiting(index, .condition(detail))
        }
    }

    /// A started process waits for its readiness: probes are scheduled (the first at once:
    /// its result says what it waits for, with the target expanded), or the front ends are
    /// told what it waits for.
    mutating func awaitReadiness(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        if slots[index].plan.probesReadiness {
            slots[index].probeDueAt = now
            probeSlots.insert(index)
            return []
        }
        guard let waitingFor = slots[index].plan.waitingFor else { return [] }
        return sayWaiting(index, .condition(waitingFor))
    }

    /// The slot's readiness is met: it is running now, or once it has stayed up for
    /// `readyAfter`.
    mutating func readinessMet(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        slots[index].readyMetAt = now
        slots[index].probeDueAt = nil
        probeSlots.remove(index)
        let readyAfter = slots[index].plan.readyAfter
        guard readyAfter > .zero else { return becomeRunning(index, now: now) }
        settlingSlots.insert(index)
        return sayWaiting(index, .uptime(readyAfter))
    }

    /// The slot's process counts as running (ready).
    private mutating func becomeRunning(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        settlingSlots.remove(index)
        slots[index].runningSince = now
        slots[index].waiting = nil
        scheduleHealthCheck(index, now: now)
        var actions = setState(index, .running)
        actions += successorRunning(index, now: now)
        return actions + updateGates(now: now) + checkAllRunning()
    }

    /// Settled slots become running; due readiness probes are asked of the driver.
    mutating func readinessTick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for index in settlingSlots.sorted() {
            guard slots[index].state == .initializing, slots[index].isLive, !isStoppingOrStopped else {
                settlingSlots.remove(index)
                continue
            }
            guard let metAt = slots[index].readyMetAt, now >= metAt + slots[index].plan.readyAfter else { continue }
            actions += becomeRunning(index, now: now)
        }
        return actions + dueProbes(.readiness, while: .initializing, now: now)
    }

    /// Takes the slots waiting for a `purpose` probe whose probe is due at `now` (their due time
    /// cleared: one probe at a time) and asks the driver for them; forgets slots no longer in
    /// `state`. (A switch rather than key paths: instantiating a key path costs more than a
    /// whole tick, on the first one.)
    mutating func dueProbes(_ purpose: ProbePurpose, while state: ProcessState, now: ContinuousClock.Instant)
        -> [Action]
    {
        var actions: [Action] = []
        for index in (purpose == .readiness ? probeSlots : healthSlots).sorted() {
            guard slots[index].state == state, slots[index].isLive, !isStoppingOrStopped else {
                stopAwaitingProbe(purpose, index)
                continue
            }
            let due = purpose == .readiness ? slots[index].probeDueAt : slots[index].healthDueAt
            guard let due, now >= due else { continue }
            stopAwaitingProbe(purpose, index)
            actions.append(.probe(slot: index, generation: slots[index].generation, purpose))
        }
        return actions
    }

    /// The slot no longer waits for a `purpose` probe.
    mutating func stopAwaitingProbe(_ purpose: ProbePurpose, _ index: Int) {
        switch purpose {
        case .readiness:
            probeSlots.remove(index)
            slots[index].probeDueAt = nil
        case .health:
            healthSlots.remove(index)
            slots[index].healthDueAt = nil
        }
    }

    /// The slot's process ended or was replaced: nothing more is awaited of it.
    mutating func forgetReadiness(_ index: Int) {
        settlingSlots.remove(index)
        stopAwaitingProbe(.readiness, index)
    }

    /// Tells the front ends what the slot waits for, when that changed.
    private mutating func sayWaiting(_ index: Int, _ wait: ReadinessWait) -> [Action] {
        let text = wait.description
        guard slots[index].waiting != text else { return [] }
        slots[index].waiting = text
        return [.emit(.waiting(slot: index, wait, generation: slots[index].generation))]
    }
}
