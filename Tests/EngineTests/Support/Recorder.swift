import CorralEngine
import Glibc
import SystemPackage

/// A test front end: records every event and runs a script of steps, each when its condition
/// holds. Bounded: past its time limit it force-kills everything and marks the run as timed out.
final class Recorder: PollingFrontend {
    /// When a step may run.
    enum Condition {
        /// At once.
        case now
        /// When this many slots are running.
        case running(Int)
        /// This long after the previous step ran.
        case after(Duration)
        /// When an event matching the predicate has been recorded.
        case event((EngineEvent) -> Bool)
        /// When the predicate holds for the recorder.
        case when((Recorder) -> Bool)
    }

    struct Step {
        var condition: Condition
        var action: (Recorder) -> [SupervisorCommand]
    }

    private(set) var events: [EngineEvent] = []
    /// Events with the time they arrived.
    private(set) var timeline: [(ContinuousClock.Instant, EngineEvent)] = []
    private(set) var timedOut = false
    private var steps: [Step]
    private var lastStepAt = ContinuousClock.now
    private let limit: ContinuousClock.Instant
    private var pendingCommands: [SupervisorCommand] = []

    init(timeLimit: Duration = .seconds(30), steps: [Step] = []) {
        self.limit = .now + timeLimit
        self.steps = steps
    }

    var nextDeadline: ContinuousClock.Instant? {
        if case .after(let delay)? = steps.first?.condition { return min(limit, lastStepAt + delay) }
        return limit
    }

    /// Events with the instant the engine says they happened at.
    private(set) var happened: [(ContinuousClock.Instant, EngineEvent)] = []

    func handle(_ event: EngineEvent, at instant: ContinuousClock.Instant) {
        happened.append((instant, event))
        handle(event)
    }

    func handle(_ event: EngineEvent) {
        events.append(event)
        if case .stateChanged(let slot, let state, _) = event { states[slot] = state }
        timeline.append((.now, event))
        advance(now: .now)
    }

    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        if now >= limit && !timedOut {
            timedOut = true
            pendingCommands.append(.forceKill(.all))
        }
        advance(now: now)
        defer { pendingCommands.removeAll() }
        return pendingCommands
    }

    private func advance(now: ContinuousClock.Instant) {
        while let step = steps.first, holds(step.condition, now: now) {
            steps.removeFirst()
            lastStepAt = now
            pendingCommands += step.action(self)
        }
    }

    private func holds(_ condition: Condition, now: ContinuousClock.Instant) -> Bool {
        switch condition {
        case .now: return true
        case .running(let count): return runningCount >= count
        case .after(let delay): return now >= lastStepAt + delay
        case .event(let predicate): return events.contains(where: predicate)
        case .when(let predicate): return predicate(self)
        }
    }

    /// Whether every step ran.
    var finishedScript: Bool { steps.isEmpty }

    /// Slots currently running, from the recorded state changes.
    var runningCount: Int { states.values.filter { $0 == .running }.count }

    /// The latest state of each slot (kept as events arrive: conditions read it on every event).
    private(set) var states: [Int: ProcessState] = [:]

    /// The state sequence one slot went through.
    func stateHistory(_ slot: Int) -> [ProcessState] {
        events.compactMap { event in
            if case .stateChanged(slot, let state, _) = event { return state }
            return nil
        }
    }

    /// Signals the supervisor sent, per slot.
    var signalsSent: [Int: [Signal]] {
        var sent: [Int: [Signal]] = [:]
        for case .signalSent(let slot, _, let signal, _, _) in events { sent[slot, default: []].append(signal) }
        return sent
    }

    /// Pids by slot, from `spawned` events.
    var pids: [Int: pid_t] {
        var pids: [Int: pid_t] = [:]
        for case .spawned(let slot, let pid, _, _) in events { pids[slot] = pid }
        return pids
    }

    /// Lines of output, per slot.
    func output(_ slot: Int) -> [String] {
        events.compactMap { event in
            if case .output(slot, _, let line) = event { return line }
            return nil
        }
    }

    /// The index of the first event matching `predicate`.
    func firstIndex(where predicate: (EngineEvent) -> Bool) -> Int? { events.firstIndex(where: predicate) }

    /// Sends `signal` to this (the test) process, i.e. to the supervisor.
    static func signalSupervisor(_ signal: CInt) -> (Recorder) -> [SupervisorCommand] {
        { _ in
            kill(getpid(), signal)
            return []
        }
    }
}

/// A front end that shows every event to a closure before passing it on to `inner`.
final class Tap<Inner: PollingFrontend>: PollingFrontend {
    let inner: Inner
    private let observe: (EngineEvent) -> Void

    init(_ inner: Inner, observe: @escaping (EngineEvent) -> Void) {
        self.inner = inner
        self.observe = observe
    }

    var descriptors: [FileDescriptor] { inner.descriptors }
    var nextDeadline: ContinuousClock.Instant? { inner.nextDeadline }

    func handle(_ event: EngineEvent) {
        observe(event)
        inner.handle(event)
    }

    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        inner.wake(now: now, readable: readable)
    }
}
