import CoreMetrics
import CorralControl
import CorralEngine
import Glibc

/// `--metrics`: what the engine's events say about the run, recorded through swift-metrics (the
/// factory is Prometheus's, see ``MetricsEndpoint``). Updated on the supervisor's thread as each
/// event is handed out, so that a scrape sees every event before it; the processes' CPU and memory
/// come from ``ResourceMetrics``' thread. Each metric, its type and labels are in the README
/// ("Metrics").
final class CorralMetrics {
    /// The states `corral_processes` counts, each program having a series for each.
    static let states: [ProcessState] = [.pending, .initializing, .running, .unhealthy, .stopping, .exited, .backoff]
    /// `corral_process_exits_total`'s kinds.
    static let exitKinds = ["clean", "failed", "killed"]
    /// `corral_process_restarts_total`'s reasons.
    static let restartReasons = ["exit", "signal", "unhealthy", "memory", "spawn_failed", "requested"]
    /// `corral_reloads_total`'s results.
    static let reloadResults = ["done", "rolled_back", "refused"]
    /// `corral_process_ready_seconds`' buckets.
    static let readyBuckets: [Duration] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120].map { .seconds($0) }
    /// `corral_reload_duration_seconds`' buckets.
    static let reloadBuckets: [Duration] = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600].map { .seconds($0) }

    private let factory: any MetricsFactory
    /// The processes' CPU and memory, told which process each slot runs.
    let resources: ResourceMetrics?
    private var names: SlotNames
    private let up: Gauge
    private let reloadDuration: Timer
    private let outputDropped: Counter
    private let logDropped: Counter
    /// Each slot's program and state, and the count of each program's slots in each state.
    private var slotStates: [Int: (program: String, state: ProcessState)] = [:]
    private var stateCounts: [String: [ProcessState: Int]] = [:]
    private var stateGauges: [String: [ProcessState: Gauge]] = [:]
    private var counters: [[String]: Counter] = [:]
    private var readyTimers: [String: Timer] = [:]
    /// When each slot's current process was spawned (its generation), until it is running.
    private var spawnedAt: [Int: (generation: Int, at: ContinuousClock.Instant)] = [:]
    /// Why each slot's last process ended: the last signal corral sent it, how it ended, a
    /// failed spawn.
    private var lastSignal: [Int: SignalReason] = [:]
    private var lastTermination: [Int: Termination] = [:]
    private var spawnFailed: Set<Int> = []
    private var reloadStartedAt: ContinuousClock.Instant?
    /// A file reload read the programs; the reload it may begin comes in the same turn.
    private var programsReadAt: ContinuousClock.Instant?
    private var outputDroppedSoFar = 0
    private var logDroppedSoFar = 0

    /// Metrics of a run whose configured slots are named `slots` (workers first, then extras).
    init(factory: any MetricsFactory, resources: ResourceMetrics?, workers: Int, names: [ProcessName], slots: Int) {
        self.factory = factory
        self.resources = resources
        self.names = SlotNames(workers: workers, names: names)
        up = Gauge(label: "corral_up", factory: factory)
        up.record(0)
        reloadDuration = Timer(label: "corral_reload_duration_seconds", factory: factory)
        outputDropped = Counter(label: "corral_output_dropped_lines_total", factory: factory)
        logDropped = Counter(label: "corral_log_dropped_lines_total", factory: factory)
        for result in Self.reloadResults { _ = counter("corral_reloads_total", ["result", result]) }
        for slot in 0..<slots { place(slot, program: self.names.processName(slot).program) }
    }

    /// Records what `event` says.
    func handle(_ event: EngineEvent, now: ContinuousClock.Instant = .now) {
        names.observe(event)
        switch event {
        case .serverStateChanged(let state):
            up.record(state == .running ? 1 : 0)
        case .slotAdded(let slot, let name):
            place(slot, program: name.program)
        case .spawned(let slot, let pid, _, let generation):
            spawnedAt[slot] = (generation, now)
            lastSignal[slot] = nil
            lastTermination[slot] = nil
            spawnFailed.remove(slot)
            resources?.track(slot: slot, pid: pid, name: names.processName(slot))
        case .reinstated(let slot, let pid, _):
            resources?.track(slot: slot, pid: pid, name: names.processName(slot))
        case .stateChanged(let slot, let state, let generation):
            setState(slot, state)
            if state == .running, let spawned = spawnedAt[slot], spawned.generation == generation {
                spawnedAt[slot] = nil
                readyTimer(program(of: slot)).recordNanoseconds(Self.nanoseconds(spawned.at.duration(to: now)))
            }
        case .signalSent(let slot, _, _, let reason, _):
            lastSignal[slot] = reason
        case .exited(let slot, let pid, let end, _):
            lastTermination[slot] = end.termination
            resources?.ended(slot: slot, pid: pid)
            let kind = end.termination.signal == .kill ? "killed" : (end.isClean ? "clean" : "failed")
            counter("corral_process_exits_total", ["program", program(of: slot), "kind", kind]).increment()
        case .failed(let slot, .spawnFailed):
            spawnFailed.insert(slot)
        case .restartScheduled(let slot, _, _, _, _):
            counter("corral_process_restarts_total", ["program", program(of: slot), "reason", restartReason(slot)])
                .increment()
        case .reload(let progress):
            reloadProgress(progress, now: now)
        default:
            break
        }
    }

    /// The end of a turn of the supervisor's loop: a file reload that began no rolling reload is
    /// done; the lines dropped so far (corral's output to a reader that did not keep up, and
    /// `--log-dir`'s) are counted.
    func endTurn(outputDroppedLines: Int, logDroppedLines: Int) {
        if let read = programsReadAt {
            programsReadAt = nil
            finishReload("done", startedAt: read, now: .now)
        }
        if outputDroppedLines > outputDroppedSoFar {
            outputDropped.increment(by: Int64(outputDroppedLines - outputDroppedSoFar))
            outputDroppedSoFar = outputDroppedLines
        }
        if logDroppedLines > logDroppedSoFar {
            logDropped.increment(by: Int64(logDroppedLines - logDroppedSoFar))
            logDroppedSoFar = logDroppedLines
        }
    }

    private func reloadProgress(_ progress: ReloadProgress, now: ContinuousClock.Instant) {
        switch progress {
        case .programsRead:
            programsReadAt = now
        case .started:
            reloadStartedAt = programsReadAt ?? now
            programsReadAt = nil
        case .done:
            finishReload("done", startedAt: reloadStartedAt, now: now)
        case .rolledBack:
            finishReload("rolled_back", startedAt: reloadStartedAt, now: now)
        case .refused:
            counter("corral_reloads_total", ["result", "refused"]).increment()
        }
    }

    private func finishReload(_ result: String, startedAt: ContinuousClock.Instant?, now: ContinuousClock.Instant) {
        counter("corral_reloads_total", ["result", result]).increment()
        if let startedAt { reloadDuration.recordNanoseconds(Self.nanoseconds(startedAt.duration(to: now))) }
        reloadStartedAt = nil
    }

    /// Why the slot's process is started again: corral replaced it (on request, unhealthy, over
    /// its memory), its spawn failed, or it ended by itself (an exit, a signal).
    private func restartReason(_ slot: Int) -> String {
        switch lastSignal[slot] {
        case .restart?: return "requested"
        case .unhealthy?: return "unhealthy"
        case .memory?: return "memory"
        default: break
        }
        if spawnFailed.contains(slot) { return "spawn_failed" }
        if case .signaled? = lastTermination[slot] { return "signal" }
        return "exit"
    }

    /// A configured or added slot, pending, counted in its program's states.
    private func place(_ slot: Int, program: String) {
        if stateGauges[program] == nil {
            var gauges: [ProcessState: Gauge] = [:]
            for state in Self.states {
                let gauge = Gauge(
                    label: "corral_processes", dimensions: [("program", program), ("state", state.rawValue)],
                    factory: factory)
                gauge.record(0)
                gauges[state] = gauge
            }
            stateGauges[program] = gauges
            for kind in Self.exitKinds {
                _ = counter("corral_process_exits_total", ["program", program, "kind", kind])
            }
            for reason in Self.restartReasons {
                _ = counter("corral_process_restarts_total", ["program", program, "reason", reason])
            }
            _ = readyTimer(program)
        }
        guard slotStates[slot] == nil else { return }
        slotStates[slot] = (program, .pending)
        adjust(program, .pending, by: 1)
    }

    private func setState(_ slot: Int, _ state: ProcessState) {
        guard let current = slotStates[slot], current.state != state else { return }
        adjust(current.program, current.state, by: -1)
        adjust(current.program, state, by: 1)
        slotStates[slot] = (current.program, state)
    }

    private func adjust(_ program: String, _ state: ProcessState, by change: Int) {
        let count = (stateCounts[program]?[state] ?? 0) + change
        stateCounts[program, default: [:]][state] = count
        stateGauges[program]?[state]?.record(Int64(count))
    }

    private func program(of slot: Int) -> String { slotStates[slot]?.program ?? names.processName(slot).program }

    /// The counter named `label` with `dimensions` given as name, value, name, value…
    private func counter(_ label: String, _ dimensions: [String]) -> Counter {
        let key = [label] + dimensions
        if let made = counters[key] { return made }
        let pairs = stride(from: 0, to: dimensions.count - 1, by: 2).map { (dimensions[$0], dimensions[$0 + 1]) }
        let made = Counter(label: label, dimensions: pairs, factory: factory)
        counters[key] = made
        return made
    }

    private func readyTimer(_ program: String) -> Timer {
        if let made = readyTimers[program] { return made }
        let made = Timer(label: "corral_process_ready_seconds", dimensions: [("program", program)], factory: factory)
        readyTimers[program] = made
        return made
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds &* 1_000_000_000 &+ duration.components.attoseconds / 1_000_000_000
    }
}
