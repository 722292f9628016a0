import CorralEngine
import Glibc

/// What headless writers remember about each slot to name it: `worker.2` (from the kind its
/// `spawned` event carries), and its pid.
package struct SlotNames {
    private let workers: Int
    /// The configured slots' names (``SupervisorConfiguration/processName(ofSlot:)``).
    private var names: [ProcessName]
    private var pids: [Int: pid_t] = [:]
    private var kinds: [Int: ChildKind] = [:]
    private var generations: [Int: Int] = [:]

    /// Names for a run of `workers` workers whose configured slots are named `names`.
    package init(workers: Int, names: [ProcessName] = []) {
        self.workers = workers
        self.names = names
    }

    /// Records pids and kinds from `spawned` events, and the pid a rollback gives a slot back.
    package mutating func observe(_ event: EngineEvent) {
        switch event {
        case .spawned(let slot, let pid, let kind, let generation):
            pids[slot] = pid
            kinds[slot] = kind
            generations[slot] = generation
        case .reinstated(let slot, let pid, let generation):
            pids[slot] = pid
            generations[slot] = generation
        case .slotAdded(let slot, let name):
            if slot == names.count { names.append(name) }
        default:
            break
        }
    }

    /// `web.1`, `worker.2` or `extra.4`; a slot never spawned is named by the configuration's
    /// layout (workers first, then extras).
    package func name(_ slot: Int) -> String { processName(slot).description }

    /// The program and index of `slot`.
    package func processName(_ slot: Int) -> ProcessName {
        if slot >= 0, slot < names.count { return names[slot] }
        return ProcessName(program: (kinds[slot] ?? (slot < workers ? .worker : .extra)).rawValue, index: slot)
    }

    /// The slot's pid, once spawned.
    package func pid(_ slot: Int) -> pid_t? { pids[slot] }

    /// The generation of the slot's current process (0 before it was spawned).
    package func generation(_ slot: Int) -> Int { generations[slot] ?? 0 }
}
