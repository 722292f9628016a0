import Glibc

/// Stopping: the stop signal once to every process group, `SIGKILL` at the deadline; an
/// operator's signals and kills; what remains of a group after its process ended; the end of
/// the run once nothing holds it.
extension SupervisorCore {
    /// A signal reached the supervisor. The first stop signal starts the stop and is forwarded;
    /// the first terminating signal that is not a stop signal starts it with the default stop
    /// signal. Later ones send nothing and keep the deadline; they are acknowledged
    /// (``EngineEvent/stopRepeated(_:deadline:)``). Ignored signals are reported.
    mutating func stopSignalReceived(_ signal: Signal, now: ContinuousClock.Instant) -> [Action] {
        let stops = stopSignals.contains(signal)
        guard stops || terminatingSignals.contains(signal) else {
            return ignoredSignals.contains(signal) ? [.emit(.signalIgnored(signal))] : []
        }
        switch phase {
        case .stopping(_, _, let deadline, let escalated):
            return [.emit(.stopRepeated(signal, deadline: escalated ? nil : deadline))]
        case .stopped:
            return []
        case .starting, .running:
            if stops { return beginStop(signal: signal, cause: .signal(signal), reason: .forward, now: now) }
            return beginStop(signal: defaultStopSignal, cause: .signal(signal), reason: .stopCommand, now: now)
        }
    }

    /// The terminal corral started on hung up: as `q` in it would, a stop with the first stop
    /// signal.
    mutating func hangUp(_ signal: Signal, now: ContinuousClock.Instant) -> [Action] {
        if case .stopping(_, _, let deadline, let escalated) = phase {
            return [.emit(.stopRepeated(signal, deadline: escalated ? nil : deadline))]
        }
        if isStoppingOrStopped { return [] }
        let first = stopSignals.first ?? defaultStopSignal
        return beginStop(signal: first, cause: .signal(signal), reason: .stopCommand, now: now)
    }

    /// The stop begins: nothing more starts; every process group (and outgoing process) gets
    /// `signal` once, `SIGKILL` at the wait timeout.
    mutating func beginStop(
        signal: Signal, cause: StopCause, reason: SignalReason, now: ContinuousClock.Instant
    ) -> [Action] {
        guard !isStoppingOrStopped else { return [] }
        let deadline = waitTimeout.map { now + $0 }
        phase = .stopping(signal: signal, cause: cause, deadline: deadline, escalated: false)
        var actions: [Action] = [
            .emit(.serverStateChanged(.stopping)), .emit(.stopping(signal, cause: cause, deadline: deadline)),
        ]
        actions += cancelRestarts()
        actions += endReloadForStop()
        actions += stopOutgoing(signal: signal, reason: reason, now: now)
        // In reverse order of dependencies: a program whose dependents run is stopped once they
        // have ended (``continueStop(now:)``).
        stopReason = reason
        stoppedLater = programsStoppedLater()
        // A group already sent a stop signal (by a command, or after its process ended) is not
        // sent another: one stop signal per process.
        for index in liveSlots where !slots[index].sent.stopSent && !isStoppedLater(index) {
            // A program's own wait timeout is its processes' own SIGKILL deadline.
            if hasOwnWaitTimeout(index) { armKillDeadline(index, now: now) }
            actions += send(stopSignal(of: index, forwarding: signal), to: index, reason: reason)
        }
        return actions + continueStop(now: now) + finishIfDone()
    }

    /// ``SupervisorCommand/signal(_:_:)``: a stop signal to all starts the stop; any other is
    /// sent as asked, and dying of it is intended, not a failure.
    mutating func signalByOperator(_ signal: Signal, to target: SlotTarget, now: ContinuousClock.Instant)
        -> [Action]
    {
        switch target {
        case .all:
            if stopSignals.contains(signal), !isStoppingOrStopped {
                return beginStop(signal: signal, cause: .command(signal), reason: .command, now: now)
            }
            return liveSlots.flatMap { index in
                slots[index].operatorSignals.insert(signal)
                return send(signal, to: index, reason: .command)
            }
        case .slot(let index):
            guard slots.indices.contains(index) else { return [] }
            if servesFromOutgoing(index) { return signalOutgoingByOperator(index, signal) }
            guard slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(signal)
            return send(signal, to: index, reason: .command)
        case .process(let index, let generation):
            guard slots.indices.contains(index) else { return [] }
            if reloads.outgoing[index]?.generation == generation { return signalOutgoingByOperator(index, signal) }
            guard slots[index].generation == generation, slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(signal)
            return send(signal, to: index, reason: .command)
        case .program(let name):
            guard let gate = programIndex(named: name) else { return [] }
            return activeMembers(gate).flatMap { signalByOperator(signal, to: .slot($0), now: now) }
        }
    }

    /// ``SupervisorCommand/forceKill(_:)``: to all, the stop (already escalated) with `SIGKILL`
    /// to every group; to one process, `SIGKILL` to its group.
    mutating func forceKill(_ target: SlotTarget) -> [Action] {
        switch target {
        case .all:
            var actions: [Action] = []
            if !isStoppingOrStopped {
                phase = .stopping(signal: .kill, cause: .command(.kill), deadline: nil, escalated: true)
                actions.append(.emit(.serverStateChanged(.stopping)))
                actions.append(.emit(.stopping(.kill, cause: .command(.kill), deadline: nil)))
                actions += cancelRestarts()
            }
            stoppedLater = []
            actions += liveSlots.flatMap { killGroup($0, reason: .command) }
            actions += endReloadForStop()
            actions += killOutgoing(reason: .command)
            return actions + finishIfDone()
        case .slot(let index):
            guard slots.indices.contains(index) else { return [] }
            if servesFromOutgoing(index) { return killOutgoing(index, reason: .command) }
            guard slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(.kill)
            return killGroup(index, reason: .command)
        case .process(let index, let generation):
            guard slots.indices.contains(index) else { return [] }
            if reloads.outgoing[index]?.generation == generation { return killOutgoing(index, reason: .command) }
            guard slots[index].generation == generation, slots[index].isLive else { return [] }
            slots[index].operatorSignals.insert(.kill)
            return killGroup(index, reason: .command)
        case .program(let name):
            guard let gate = programIndex(named: name) else { return [] }
            return activeMembers(gate).flatMap { forceKill(.slot($0)) }
        }
    }

    /// What remains of an ended slot's group gets a stop signal once: the stop's (at once, or
    /// `SIGKILL` if the stop already escalated), or outside a stop the default stop signal with
    /// a deadline of its own.
    mutating func stopLingeringGroup(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        switch phase {
        case .stopping(let signal, _, _, let escalated):
            if escalated { return slots[index].sent.killed ? [] : killGroup(index, reason: .timeout) }
            if slots[index].sent.stopSent { return [] }
            return send(stopSignal(of: index, forwarding: signal), to: index, reason: .cleanup)
        case .starting, .running:
            let deadline = waitTimeout(of: index).map { now + $0 }
            slots[index].lingering?.killAt = deadline
            if slots[index].sent.stopSent { return [] }
            return send(defaultStopSignal(of: index), to: index, reason: .cleanup)
        case .stopped:
            return []
        }
    }

    /// Sends `signal` to the slot's process group, recorded in its ledger. A stop signal, or any
    /// signal the supervisor sends on its own, asks the process to end (it goes to `stopping`).
    mutating func send(_ signal: Signal, to index: Int, reason: SignalReason) -> [Action] {
        guard let pid = slots[index].pid else { return [] }
        let isStop = isStopSignal(signal, of: index)
        let asksToEnd =
            reason != .command || isStop || signal == .terminate || signal == .interrupt
            || signal == .kill
        slots[index].sent.record(signal, reason, isStop: isStop, asksToEnd: asksToEnd)
        var actions: [Action] = [
            .signal(slot: index, signal),
            .emit(.signalSent(slot: index, pid: pid, signal, reason, generation: slots[index].generation)),
        ]
        if slots[index].sent.asksToEnd, slots[index].state == .initializing || slots[index].state == .running {
            actions += setState(index, .stopping)
        }
        return actions
    }

    /// `SIGKILL` to the slot's whole process group. A lingering group killed at its deadline
    /// makes the slot a failure.
    mutating func killGroup(_ index: Int, reason: SignalReason) -> [Action] {
        guard let pid = slots[index].pid else { return [] }
        if slots[index].lingering != nil, reason == .timeout, slots[index].end?.failure == nil,
            slots[index].failure == nil
        {
            slots[index].failure = .groupKilledAfterTimeout(waitTimeout(of: index) ?? .zero)
        }
        slots[index].sent.record(.kill, reason, isStop: false, asksToEnd: true)
        var actions: [Action] = [
            .killGroup(slot: index),
            .emit(.signalSent(slot: index, pid: pid, .kill, reason, generation: slots[index].generation)),
        ]
        if slots[index].state == .initializing || slots[index].state == .running {
            actions += setState(index, .stopping)
        }
        return actions
    }

    /// The run ends once nothing holds it and nothing is left to start.
    mutating func finishIfDone() -> [Action] {
        guard !isStopped, liveCount == 0, backoffSlots.isEmpty, restartsDue.isEmpty, reloads.outgoing.isEmpty else {
            return []
        }
        switch phase {
        case .starting, .running:
            // Nothing live and nothing left to spawn: every child ended by itself (every one-shot
            // completed, in a run of one-shots).
            guard firstUnspawned == nil else { return [] }
            let allCompleted = !gates.isEmpty && completedCount == slots.count - retiringCount
            finalCause = allCompleted ? .allCompleted : .allExited
            finalSignal = nil
        case .stopping(let signal, let cause, _, _):
            finalCause = cause
            finalSignal = signal
        case .stopped:
            return []
        }
        phase = .stopped
        return [.emit(.serverStateChanged(.stopped))]
    }
}
