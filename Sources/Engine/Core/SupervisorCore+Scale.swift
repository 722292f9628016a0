import Glibc

/// Scaling: slots added at the end start like the first ones; the highest worker slots retire
/// with the default stop signal (`SIGKILL` after the wait timeout) and never start again.
extension SupervisorCore {
    /// ``SupervisorCommand/scale(workers:)``: refused while a reload is under way.
    mutating func scaleOnRequest(to workers: Int, now: ContinuousClock.Instant) -> [Action] {
        if let scaleRefusal { return [.emit(.scaleRefused(workers: workerCount, reason: scaleRefusal))] }
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

    /// Retires a worker slot: its process gets the default stop signal (`SIGKILL` after the
    /// wait timeout); a pending restart is cancelled; a slot not started yet never starts.
    mutating func retire(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
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
        return send(defaultStopSignal, to: index, reason: .scale)
    }

    /// A slot added by scaling that could not start: it retires; the others run on.
    mutating func addedSlotFailedToStart(_ index: Int, reason: String) -> [Action] {
        markRetiring(index)
        var actions = setState(index, .exited)
        actions.append(
            .emit(.scaleRefused(workers: workerCount, reason: "worker.\(index) could not start: \(reason)")))
        return actions + checkAllRunning() + finishIfDone()
    }

    /// The slot no longer counts among the workers the server runs.
    private mutating func markRetiring(_ index: Int) {
        slots[index].retiring = true
        retiringCount += 1
        workerCount -= 1
    }
}
