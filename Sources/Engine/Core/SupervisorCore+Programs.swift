import Glibc

/// Programs and their dependencies: in a run of programs each program is a range of slots that
/// starts once what it depends on holds (`started`, `ready`, `completed`,
/// `completed-successfully`); until then its processes are pending and said to wait. A program
/// whose dependency can no longer hold (it failed, or ended when it had to be ready) never starts:
/// its processes fail with ``SlotFailure/dependencyFailed(_:)``. One-shots complete rather than fail.
extension SupervisorCore {
    /// A program as the core keeps it: its definition, how its processes run, its slots and its
    /// start condition.
    struct ProgramGate {
        /// Its definition as last given (by the configuration, or a file reload).
        var program: Program
        /// How its processes run.
        var plan: SlotPlan
        /// Its slots, in order: the first ones, then those added by scaling (retired ones too).
        var members: [Int]
        var dependencies: [(program: Int, condition: Program.Condition)] = []
        /// How many of ``members`` had their first start (or failed it).
        var started = 0
        /// Its conditions held: its slots start (checked until they do, then never again).
        var released = false
        /// A dependency failed: its slots never start.
        var doomed = false
        /// Its processes were told what they wait for.
        var saidWaiting = false
        /// A file reload removed it: its processes stop and never start again.
        var removed = false
        /// Its definition and plan before a file reload changed them: back if that reload rolls back.
        var previous: (program: Program, plan: SlotPlan)?

        /// Its name.
        var name: String { program.name }
        /// Every slot of it was started (or failed to start).
        var allStarted: Bool { started >= members.count }
    }

    /// What a program's processes run like when it does not say (the configuration's workers').
    struct ProgramDefaults {
        var readiness: Readiness = .onExec
        var readyAfter: Duration?
        var healthChecked = false
    }

    /// How the processes of `program` (the one at `position`) run.
    static func plan(of program: Program, at position: Int, defaults: ProgramDefaults) -> SlotPlan {
        var plan: SlotPlan
        if program.oneshot {
            plan = SlotPlan(kind: .worker, readyOnExec: true)
            plan.oneshot = true
        } else {
            let readiness = program.readiness ?? defaults.readiness
            plan = SlotPlan(kind: .worker, readyOnExec: readiness == .onExec)
            plan.readyAfter =
                program.readyAfter ?? defaults.readyAfter ?? SupervisorConfiguration.defaultReadyAfter(readiness)
            plan.healthChecked = defaults.healthChecked || program.health != nil
            switch readiness {
            case .onExec, .notify: break
            case .outputLine: plan.waitingFor = readiness.waitingFor
            case .probe:
                plan.probesReadiness = true
                plan.waitingFor = readiness.waitingFor
            }
        }
        plan.program = position
        return plan
    }

    /// Sets up `programs` as the run's: one gate each, its slots the next ones in order.
    mutating func setUpPrograms(_ programs: [Program]) {
        for program in programs { _ = addProgram(program) }
        linkDependencies()
    }

    /// A new program's gate and slots (pending until its conditions hold); its index.
    mutating func addProgram(_ program: Program) -> Int {
        let position = gates.count
        let plan = Self.plan(of: program, at: position, defaults: programDefaults)
        let first = slots.count
        for index in 0..<program.workers {
            slots.append(Slot(plan: plan))
            names.append(ProcessName(program: program.name, index: index))
        }
        workerCount += program.workers
        gates.append(ProgramGate(program: program, plan: plan, members: Array(first..<slots.count)))
        return position
    }

    /// Each gate's dependencies, by program index (after programs were added).
    mutating func linkDependencies() {
        var positions: [String: Int] = [:]
        for (index, gate) in gates.enumerated() where !gate.removed { positions[gate.name] = index }
        for index in gates.indices {
            gates[index].dependencies = gates[index].program.dependencies.compactMap { dependency in
                positions[dependency.program].map { (program: $0, condition: dependency.condition) }
            }
            if gates[index].dependencies.isEmpty, !gates[index].doomed { gates[index].released = true }
        }
    }

    /// The program `slot` belongs to, in a run of programs.
    func gate(ofSlot slot: Int) -> Int? { slots[slot].plan.program }

    /// The name of `slot`'s process: `web.1` in a run of programs.
    func name(ofSlot slot: Int) -> ProcessName? { slot < names.count ? names[slot] : nil }

    /// The definition of the program `slot` belongs to, and how many processes it runs now.
    func program(ofSlot slot: Int) -> (program: Program, count: Int)? {
        gate(ofSlot: slot).map { (gates[$0].program, activeMembers($0).count) }
    }

    /// The program's slots that are not retiring.
    func activeMembers(_ gate: Int) -> [Int] { gates[gate].members.filter { !slots[$0].retiring } }

    /// The index of the program named `name`, unless a file reload removed it.
    func programIndex(named name: String) -> Int? { gates.firstIndex { $0.name == name && !$0.removed } }

    /// The run begins: the programs that wait say what for.
    mutating func begin(now: ContinuousClock.Instant) -> [Action] {
        updateGates(now: now)
    }

    /// The next slot of a released program not started yet, in program order.
    var firstUnspawnedOfPrograms: Int? {
        for gate in gates where gate.released && !gate.doomed && !gate.removed {
            if let next = gate.members.dropFirst(gate.started).first(where: { !slots[$0].retiring }) { return next }
        }
        return nil
    }

    /// Every program started, or will never start.
    var allProgramsStarted: Bool { gates.allSatisfy { $0.doomed || $0.removed || $0.allStarted } }

    /// The first start of `slot` happened (or failed): its program counts it as started.
    mutating func advanceGate(past slot: Int) {
        guard let index = gate(ofSlot: slot), let position = gates[index].members.firstIndex(of: slot) else { return }
        gates[index].started = max(gates[index].started, position + 1)
    }

    /// Releases the programs whose conditions now hold, dooms those whose conditions never will,
    /// and tells the waiting ones' processes what they wait for.
    mutating func updateGates(now: ContinuousClock.Instant) -> [Action] {
        guard !gates.isEmpty, !isStoppingOrStopped else { return [] }
        var actions: [Action] = []
        var changed = true
        while changed {
            changed = false
            for index in gates.indices where !gates[index].released && !gates[index].doomed && !gates[index].removed {
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
                    for slot in gates[index].members {
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
        let members = activeMembers(index)
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
        let ended = gate.members.filter { slots[$0].state == .exited && !slots[$0].retiring }
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
        for slot in gates[index].members.dropFirst(gates[index].started) where !slots[slot].retiring {
            slots[slot].failure = .dependencyFailed(dependency)
            actions.append(.emit(.failed(slot: slot, .dependencyFailed(dependency))))
            actions += setState(slot, .exited)
        }
        gates[index].started = gates[index].members.count
        return actions
    }

    // MARK: - Stopping in reverse order

    /// The programs whose dependents still run when the stop begins: they get the stop signal
    /// only once every process of every program that depends on them has ended.
    func programsStoppedLater() -> Set<Int> {
        var later: Set<Int> = []
        for gate in gates {
            for dependency in gate.dependencies where gate.members.contains(where: { slots[$0].holdsRun }) {
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
                        && gates[other].members.contains { slots[$0].holdsRun }
                }
                guard !dependentsRun else { continue }
                stoppedLater.remove(index)
                released = true
                for slot in gates[index].members
                where slots[slot].holdsRun && !slots[slot].sent.stopSent && !slots[slot].sent.killed {
                    armKillDeadline(slot, now: now)
                    actions += send(stopSignal(of: slot, forwarding: signal), to: slot, reason: stopReason)
                }
            }
        }
        return actions
    }
}
