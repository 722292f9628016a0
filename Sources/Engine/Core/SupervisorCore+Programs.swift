import Glibc

/// Programs and their dependencies: in a run of programs each program is a range of slots that
/// starts once what it depends on holds (`started`, `ready`, `completed`,
/// `completed-successfully`); until then its processes are pending and said to wait. A program
/// whose dependency can no longer hold (it failed, or ended when it had to be ready) never starts:
/// its processes fail with ``SlotFailure/dependencyFailed(_:)``. One-shots complete rather than fail.
extension SupervisorCore {
    /// A program's slots and start condition, as the core keeps them.
    struct ProgramGate {
        var name: String
        var slots: Range<Int>
        var dependencies: [(program: Int, condition: Program.Condition)]
        /// The next of its slots to start for the first time.
        var cursor: Int
        /// Its conditions held: its slots start (checked until they do, then never again).
        var released: Bool
        /// A dependency failed: its slots never start.
        var doomed = false
        /// Its processes were told what they wait for.
        var saidWaiting = false

        /// Every slot of it was started (or failed to start).
        var allStarted: Bool { cursor >= slots.upperBound }
    }

    /// The gates of `configuration`'s programs (none for a run of one command).
    static func gates(_ configuration: SupervisorConfiguration) -> [ProgramGate] {
        var first = 0
        let positions = Dictionary(
            configuration.programs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        return configuration.programs.map { program in
            defer { first += program.workers }
            let dependencies = program.dependencies.compactMap { dependency in
                positions[dependency.program].map { (program: $0, condition: dependency.condition) }
            }
            return ProgramGate(
                name: program.name, slots: first..<(first + program.workers), dependencies: dependencies,
                cursor: first, released: dependencies.isEmpty)
        }
    }

    /// The run begins: the programs that wait say what for.
    mutating func begin(now: ContinuousClock.Instant) -> [Action] {
        updateGates(now: now)
    }

    /// The gate `slot` belongs to, in a run of programs.
    func gate(ofSlot slot: Int) -> Int? { gates.firstIndex { $0.slots.contains(slot) } }

    /// The next slot of a released program not started yet, in program order.
    var firstUnspawnedOfPrograms: Int? {
        for gate in gates where gate.released && !gate.doomed {
            var index = gate.cursor
            while index < gate.slots.upperBound, slots[index].retiring { index += 1 }
            if index < gate.slots.upperBound { return index }
        }
        return nil
    }

    /// Every program started, or will never start.
    var allProgramsStarted: Bool { gates.allSatisfy { $0.doomed || $0.allStarted } }

    /// The first start of `slot` happened (or failed): its program's cursor moves past it.
    mutating func advanceGate(past slot: Int) {
        guard let index = gate(ofSlot: slot) else { return }
        gates[index].cursor = max(gates[index].cursor, slot + 1)
    }

    /// Releases the programs whose conditions now hold, dooms those whose conditions never will,
    /// and tells the waiting ones' processes what they wait for.
    mutating func updateGates(now: ContinuousClock.Instant) -> [Action] {
        guard !gates.isEmpty, !isStoppingOrStopped else { return [] }
        var actions: [Action] = []
        var changed = true
        while changed {
            changed = false
            for index in gates.indices where !gates[index].released && !gates[index].doomed {
                if let failed = gates[index].dependencies.first(where: { cannotHold($0.program, $0.condition) }) {
                    actions += doom(index, because: gates[failed.program].name)
                    changed = true
                } else if gates[index].dependencies.allSatisfy({ holds($0.program, $0.condition) }) {
                    gates[index].released = true
                    changed = true
                } else if !gates[index].saidWaiting {
                    gates[index].saidWaiting = true
                    let text = gates[index].dependencies.filter { !holds($0.program, $0.condition) }
                        .map { Self.waitText(gates[$0.program].name, $0.condition) }.joined(separator: " and ")
                    for slot in gates[index].slots {
                        actions.append(.emit(.waiting(slot: slot, .condition(text), generation: 0)))
                    }
                }
            }
        }
        return actions
    }

    /// `migrate to complete`.
    static func waitText(_ name: String, _ condition: Program.Condition) -> String {
        switch condition {
        case .started: return "\(name) to start"
        case .ready: return "\(name) to be ready"
        case .completed: return "\(name) to complete"
        case .completedSuccessfully: return "\(name) to complete successfully"
        }
    }

    /// Whether `condition` holds of the program at `index`.
    private func holds(_ index: Int, _ condition: Program.Condition) -> Bool {
        let gate = gates[index]
        let members = gate.slots.filter { !slots[$0].retiring }
        switch condition {
        case .started: return gate.allStarted
        case .ready: return gate.allStarted && members.allSatisfy { slots[$0].state == .running }
        case .completed: return gate.allStarted && members.allSatisfy { slots[$0].state == .exited }
        case .completedSuccessfully:
            return gate.allStarted
                && members.allSatisfy { slots[$0].state == .exited && slots[$0].end?.termination == .exited(code: 0) }
        }
    }

    /// Whether `condition` can no longer hold of the program at `index`: it will never start,
    /// one of its processes failed, or (for `ready`) one ended.
    private func cannotHold(_ index: Int, _ condition: Program.Condition) -> Bool {
        let gate = gates[index]
        if gate.doomed { return true }
        let ended = gate.slots.filter { slots[$0].state == .exited && !slots[$0].retiring }
        let failed = ended.contains { (slots[$0].end?.failure ?? slots[$0].failure) != nil }
        switch condition {
        case .started, .completed: return failed
        case .ready: return failed || !ended.isEmpty
        case .completedSuccessfully:
            return failed || ended.contains { slots[$0].end.map { $0.termination != .exited(code: 0) } ?? true }
        }
    }

    /// The program at `index` will never start: its processes fail without a process.
    private mutating func doom(_ index: Int, because dependency: String) -> [Action] {
        gates[index].doomed = true
        var actions: [Action] = []
        for slot in gates[index].slots.dropFirst(gates[index].cursor - gates[index].slots.lowerBound) {
            slots[slot].failure = .dependencyFailed(dependency)
            actions.append(.emit(.failed(slot: slot, .dependencyFailed(dependency))))
            actions += setState(slot, .exited)
        }
        gates[index].cursor = gates[index].slots.upperBound
        return actions
    }

    // MARK: - Stopping in reverse order

    /// The programs whose dependents still run when the stop begins: they get the stop signal
    /// only once every process of every program that depends on them has ended.
    func programsStoppedLater() -> Set<Int> {
        var later: Set<Int> = []
        for gate in gates {
            for dependency in gate.dependencies where gate.slots.contains(where: { slots[$0].holdsRun }) {
                later.insert(dependency.program)
            }
        }
        return later
    }

    /// Whether `slot`'s program waits for its dependents to end before it is stopped.
    func isStoppedLater(_ slot: Int) -> Bool {
        guard !stoppedLater.isEmpty, let index = gate(ofSlot: slot) else { return false }
        return stoppedLater.contains(index)
    }

    /// Programs whose every dependent process has ended get the stop signal now, each with a
    /// `SIGKILL` deadline of its own (the wait timeout from now).
    mutating func continueStop(now: ContinuousClock.Instant) -> [Action] {
        guard !stoppedLater.isEmpty, case .stopping(let signal, _, _, _) = phase else { return [] }
        var actions: [Action] = []
        var released = true
        while released {
            released = false
            for index in stoppedLater.sorted() {
                let dependentsRun = gates.indices.contains { other in
                    gates[other].dependencies.contains { $0.program == index }
                        && gates[other].slots.contains { slots[$0].holdsRun }
                }
                guard !dependentsRun else { continue }
                stoppedLater.remove(index)
                released = true
                for slot in gates[index].slots
                where slots[slot].holdsRun && !slots[slot].sent.stopSent && !slots[slot].sent.killed {
                    armKillDeadline(slot, now: now)
                    actions += send(signal, to: slot, reason: stopReason)
                }
            }
        }
        return actions
    }
}
