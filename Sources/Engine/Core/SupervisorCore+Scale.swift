import Glibc

/// Scaling: slots added at the end start like the first ones; the highest worker slots retire
/// with the default stop signal (`SIGKILL` after the wait timeout) and never start again.
extension SupervisorCore {
    /// ``SupervisorCommand/scale(workers:)``: refused while a reload is under way; in a run of
    /// programs, the one program's (refused when there are several: a scale names one).
    mutating func scaleOnRequest(to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        if !gates.isEmpty {
            let live = gates.indices.filter { !gates[$0].removed }
            guard live.count == 1, let only = live.first else {
                let names = live.map { gates[$0].name }
                return [
                    .emit(
                        .scaleRefused(
                            workers: workerCount,
                            reason: "name the program to scale: \(names.map { "\($0)=N" }.joined(separator: ", "))"))
                ]
            }
            return scaleProgramOnRequest(only, to: workers, now: now)
        }
        guard !isReloading else {
            return [
                .emit(
                    .scaleRefused(
                        workers: workerCount, reason: "a reload is under way: scale to \(workers) once it is done"))
            ]
        }
        return scale(to: workers, now: now)
    }

    /// Adds worker slots, or retires the highest ones.
    mutating func scale(to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        guard !isStoppingOrStopped, (1...SupervisorConfiguration.maximumWorkers).contains(workers) else { return [] }
        let active = slots.indices.filter { slots[$0].plan.kind == .worker && !slots[$0].retiring }
        var actions: [Action] = []
        if workers > active.count {
            for _ in active.count..<workers { slots.append(Slot(plan: workerPlan)) }
            workerCount += workers - active.count
        } else {
            for index in active.suffix(active.count - workers).reversed() { actions += retire(index, now: now) }
        }
        actions.append(.emit(.scaled(workers: workers)))
        return actions + checkAllRunning() + finishIfDone()
    }

    /// ``SupervisorCommand/scaleProgram(_:workers:)``: refused while a reload is under way and
    /// for a one-shot.
    mutating func scaleProgramOnRequest(_ gate: Int, to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        let name = gates[gate].name
        let current = activeMembers(gate).count
        func refused(_ reason: String) -> [Action] {
            [.emit(.scaleRefused(workers: current, reason: reason, program: name))]
        }
        if isReloading { return refused("a reload is under way: scale \(name) to \(workers) once it is done") }
        if gates[gate].program.oneshot { return refused("\(name) is a one-shot: it runs once, it is not scaled") }
        if gates[gate].doomed { return refused("\(name) never started: a program it depends on failed") }
        guard !isStoppingOrStopped, (1...SupervisorConfiguration.maximumWorkers).contains(workers) else { return [] }
        return scaleProgram(gate, to: workers, now: now)
    }

    /// Adds slots to a program (named with the lowest indices free: `web.2`), or retires its
    /// highest ones.
    mutating func scaleProgram(_ gate: Int, to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        let active = activeMembers(gate)
        var actions: [Action] = []
        if workers > active.count {
            var taken = Set(
                gates[gate].members.filter { !slots[$0].retiring || slots[$0].holdsRun }.map { names[$0].index })
            for _ in active.count..<workers {
                var index = 0
                while taken.contains(index) { index += 1 }
                taken.insert(index)
                let slot = slots.count
                slots.append(Slot(plan: gates[gate].plan))
                let name = ProcessName(program: gates[gate].name, index: index)
                names.append(name)
                gates[gate].members.append(slot)
                actions.append(.emit(.slotAdded(slot: slot, name)))
            }
            workerCount += workers - active.count
        } else {
            for index in active.suffix(active.count - workers).reversed() { actions += retire(index, now: now) }
        }
        actions.append(.emit(.scaled(workers: workers, program: gates[gate].name)))
        return actions + checkAllRunning() + finishIfDone()
    }

    /// Retires a worker slot: its process gets the default stop signal (`SIGKILL` after the
    /// wait timeout); a pending restart is cancelled; a slot not started yet never starts.
    mutating func retire(_ index: Int, reason: SignalReason = .scale, now: ContinuousClock.Instant) -> [Action] {
        markRetiring(index)
        // Retiring supersedes a replacement asked for before: the slot does not start again.
        slots[index].replacement = nil
        if backoffSlots.remove(index) != nil || restartsDue.remove(index) != nil {
            slots[index].restartAt = nil
            return setState(index, .exited)
        }
        guard slots[index].isLive else { return [] }
        armKillDeadline(index, now: now)
        if slots[index].sent.stopSent { return [] }
        return send(defaultStopSignal(of: index), to: index, reason: reason)
    }

    /// A slot added by scaling that could not start: it retires; the others run on.
    mutating func addedSlotFailedToStart(_ index: Int, reason: String) -> [Action] {
        markRetiring(index)
        var actions = setState(index, .exited)
        let name = self.name(ofSlot: index) ?? ProcessName(program: "worker", index: index)
        let program = gate(ofSlot: index)
        actions.append(
            .emit(
                .scaleRefused(
                    workers: program.map { activeMembers($0).count } ?? workerCount,
                    reason: "\(name) could not start: \(reason)", program: program.map { gates[$0].name })))
        return actions + checkAllRunning() + finishIfDone()
    }

    /// The slot no longer counts among the workers the server runs.
    private mutating func markRetiring(_ index: Int) {
        slots[index].retiring = true
        retiringCount += 1
        workerCount -= 1
    }
}
