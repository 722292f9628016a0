extension SupervisorCommand: CustomStringConvertible {
    /// A one-line description: `signal SIGUSR1 to slot 2`, `scale to 4 workers`.
    public var description: String {
        switch self {
        case .signal(let signal, let target): return "signal \(signal) to \(target)"
        case .forceKill(let target): return "force-kill \(target)"
        case .stop: return "stop"
        case .restart(let slot): return "restart slot \(slot)"
        case .scale(let workers): return "scale to \(workers) worker\(workers == 1 ? "" : "s")"
        case .reload: return "reload"
        case .scaleProgram(let program, let workers): return "scale \(program) to \(workers)"
        case .reloadPrograms(let programs): return "reload \(programs.joined(separator: ", "))"
        case .update(let programs): return "update to \(programs.count) program\(programs.count == 1 ? "" : "s")"
        }
    }
}

extension SlotTarget: CustomStringConvertible {
    /// `every process`, `slot 2`, `slot 2 generation 1`.
    public var description: String {
        switch self {
        case .all: return "every process"
        case .slot(let slot): return "slot \(slot)"
        case .process(let slot, let generation): return "slot \(slot) generation \(generation)"
        case .program(let name): return "program \(name)"
        }
    }
}
