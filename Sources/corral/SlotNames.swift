import CorralEngine
import Glibc

/// What headless writers remember about each slot to name it: `worker.2`, and its pid.
struct SlotNames {
    private let workers: Int
    private var pids: [Int: pid_t] = [:]

    init(workers: Int) {
        self.workers = workers
    }

    /// Records pids from `spawned` events.
    mutating func observe(_ event: EngineEvent) {
        if case .spawned(let slot, let pid, _) = event { pids[slot] = pid }
    }

    /// `worker.2` or `extra.4`.
    func name(_ slot: Int) -> String { "\(slot < workers ? "worker" : "extra").\(slot)" }

    /// The slot's pid, once spawned.
    func pid(_ slot: Int) -> pid_t? { pids[slot] }
}
