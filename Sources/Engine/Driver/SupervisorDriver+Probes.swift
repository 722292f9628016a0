import Glibc
import Logging
import SystemPackage

/// Readiness lines, probes and memory samples: run by the driver, judged by the core.
extension SupervisorDriver {
    /// Where the output lines of the child `pid` go: to the front end, and while it is a
    /// slot's current process that waits for its readiness line, past the matcher too.
    func outputSink(pid: pid_t) -> (EngineEvent) -> Void {
        guard watchesReadinessLines else { return emit }
        return { [self] event in
            emit(event)
            guard case .output(let slot, _, let line) = event, core.awaitsReadinessLine(slot: slot, pid: pid),
                let matcher = readinessLine(ofSlot: slot), matcher.matches(line)
            else { return }
            perform(core.readinessLineSeen(slot: slot, pid: pid, now: clock.now))
        }
    }

    /// The readiness line `slot` waits for (its program's, else the workers'), compiled once.
    func readinessLine(ofSlot slot: Int) -> OutputMatcher? {
        guard case .outputLine(let pattern) = readiness(ofSlot: slot) else { return nil }
        if let matcher = readinessMatchers[pattern] { return matcher }
        let matcher = OutputMatcher(pattern)
        readinessMatchers[pattern] = matcher
        return matcher
    }

    /// The readiness of `slot`: its program's, else the workers'.
    func readiness(ofSlot slot: Int) -> Readiness {
        core.program(ofSlot: slot)?.program.readiness ?? configuration.workerReadiness
    }

    /// Starts the probe the core asked for, of the slot's current process.
    func startProbe(slot: Int, generation: Int, purpose: SupervisorCore.ProbePurpose) {
        let now = clock.now
        guard let pid = children[slot]?.pid, let (probe, timeout) = probe(for: purpose, slot: slot) else { return }
        let environment = starter.environment(of: slot) + ["CORRAL_PID=\(pid)"]
        let result = probes.start(
            probe, slot: slot, generation: generation, purpose: purpose, environment: environment, timeout: timeout,
            now: now
        ) { [starter] command, environment throws(SpawnError) in
            try starter.spawnProbe(command, environment: environment, slot: slot)
        }
        if let result { report(result, now: now) }
    }

    /// The configured probe for `purpose`, and how long it may take.
    func probe(for purpose: SupervisorCore.ProbePurpose, slot: Int) -> (probe: Probe, timeout: Duration)? {
        switch purpose {
        case .readiness:
            if case .probe(let probe) = readiness(ofSlot: slot) {
                return (probe, configuration.probeTimeout)
            }
            return nil
        case .health:
            return (core.ownProgram(slot)?.health ?? configuration.health).map { ($0.probe, $0.timeout) }
        }
    }

    /// With a memory limit: about once a second, the resident memory of every running
    /// worker's process tree, to the core.
    func sampleMemory(now: ContinuousClock.Instant) {
        guard memorySampleDue != nil else { return }
        if let due = memorySampleDue, now < due { return }
        memorySampleDue = now + .seconds(1)
        var roots: [pid_t: Int] = [:]
        for slot in 0..<core.slotCount where core.watchesMemory(slot: slot) {
            if let pid = children[slot]?.pid { roots[pid] = slot }
        }
        guard !roots.isEmpty else { return }
        for (pid, usage) in memorySampler.sample(Array(roots.keys), now: now) {
            guard let slot = roots[pid] else { continue }
            perform(core.memorySampled(slot: slot, pid: pid, residentBytes: usage.residentBytes, now: now))
        }
    }

    func report(_ result: ProbeRunner.Finding, now: ContinuousClock.Instant) {
        perform(
            core.probeFinished(
                slot: result.slot, generation: result.generation, purpose: result.purpose, ok: result.ok,
                detail: result.detail, now: now))
    }
}
