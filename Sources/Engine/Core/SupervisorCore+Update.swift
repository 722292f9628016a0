import Glibc

/// A run of programs changed while it runs: some programs reloaded by name, or every program
/// compared with its definition read again (a file reload) — added ones start, removed ones
/// stop, changed ones roll new before old, unchanged ones are not touched.
extension SupervisorCore {
    /// ``SupervisorCommand/reloadPrograms(_:)``: a reload of these programs' running processes.
    mutating func reloadPrograms(_ names: [String], now: ContinuousClock.Instant) -> [Action] {
        guard !isStoppingOrStopped else { return [] }
        var chosen: Set<Int> = []
        for name in names {
            guard let gate = programIndex(named: name) else {
                return [.emit(.reload(.refused(reason: unknownProgram(name))))]
            }
            chosen.insert(gate)
        }
        if isReloading { return [.emit(.reload(.refused(reason: "a reload is already under way")))] }
        return beginReload(now: now, programs: names.isEmpty ? nil : chosen)
    }

    /// ``SupervisorCommand/update(_:)``: the programs compared with `programs` by name and
    /// definition; refused during a reload.
    mutating func update(_ programs: [Program], now: ContinuousClock.Instant) -> [Action] {
        guard !isStoppingOrStopped else { return [] }
        if isReloading {
            return [.emit(.reload(.refused(reason: "a reload is under way: read the programs again once it is done")))]
        }
        guard !programs.isEmpty else {
            return [.emit(.reload(.refused(reason: "no programs: a run of programs keeps at least one")))]
        }
        // The same checks as the configuration's: names, processes, commands, dependencies.
        let check = SupervisorConfiguration(
            workers: programs.reduce(0) { $0 + $1.workers }, worker: .command(["/bin/sh"]), programs: programs)
        do throws(ConfigurationError) {
            try check.validatePrograms()
        } catch {
            return [.emit(.reload(.refused(reason: error.problem)))]
        }
        var changes = ProgramChanges()
        var actions: [Action] = []
        let wanted = Set(programs.map(\.name))
        for gate in gates.indices where !gates[gate].removed && !wanted.contains(gates[gate].name) {
            changes.removed.append(gates[gate].name)
            actions += removeProgram(gate, now: now)
        }
        var redefined: Set<Int> = []
        for program in programs {
            guard let gate = programIndex(named: program.name) else {
                changes.added.append(program.name)
                let added = addProgram(program)
                actions += gates[added].members.map { .emit(.slotAdded(slot: $0, names[$0])) }
                continue
            }
            let old = gates[gate].program
            guard old != program else {
                changes.unchanged.append(program.name)
                continue
            }
            changes.changed.append(program.name)
            var resized = old
            resized.workers = program.workers
            if resized != program {
                gates[gate].previous = (old, gates[gate].plan)
                gates[gate].plan = Self.plan(of: program, at: gate, defaults: programDefaults)
                redefined.insert(gate)
            }
            gates[gate].program = program
            if activeMembers(gate).count != program.workers, !program.oneshot, !gates[gate].doomed {
                actions += scaleProgram(gate, to: program.workers, now: now)
            }
        }
        linkDependencies()
        actions.insert(.emit(.reload(.programsRead(changes))), at: 0)
        actions += updateGates(now: now)
        if !redefined.isEmpty { actions += beginReload(now: now, programs: redefined) }
        return actions + checkAllRunning() + finishIfDone()
    }

    /// A program no longer defined: its processes retire (the default stop signal, `SIGKILL`
    /// after the wait timeout), and it never starts again.
    mutating func removeProgram(_ gate: Int, now: ContinuousClock.Instant) -> [Action] {
        gates[gate].removed = true
        var actions: [Action] = []
        for slot in activeMembers(gate).reversed() { actions += retire(slot, reason: .removed, now: now) }
        return actions
    }

    /// A reload ended: the programs it redefined keep their new definitions (`keep`), or get
    /// their old ones back (it rolled back: the change did not take).
    mutating func settleDefinitions(keep: Bool) {
        for gate in gates.indices {
            guard let previous = gates[gate].previous else { continue }
            gates[gate].previous = nil
            guard !keep else { continue }
            var restored = previous.program
            restored.workers = gates[gate].program.workers
            gates[gate].program = restored
            gates[gate].plan = previous.plan
        }
    }

    /// Why a program name is refused: `no program api (programs: web, worker)`.
    func unknownProgram(_ name: String) -> String {
        let known = gates.filter { !$0.removed }.map(\.name)
        if known.isEmpty { return "no program \(name): this run is one command, not programs" }
        return "no program \(name) (programs: \(known.joined(separator: ", ")))"
    }
}
