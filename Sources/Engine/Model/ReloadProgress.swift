/// How a rolling reload (``SupervisorCommand/reload``) is getting on.
public enum ReloadProgress: Hashable, Sendable {
    /// It began, to replace this many running workers.
    case started(workers: Int)
    /// Every worker it set out to replace was replaced.
    case done(replaced: Int)
    /// It stopped before the end: the new generation of `slot` failed or was not running in
    /// time (`reason` says which; nil `slot`: the server began to stop); `failedEnd` is how that
    /// new generation ended, with its last stderr lines. Slots replaced before stay replaced;
    /// the others keep their old process.
    case rolledBack(slot: Int?, reason: String, replaced: Int, failedEnd: SlotEnd?)
}

extension ReloadProgress: CustomStringConvertible {
    /// A one-line description for logs.
    public var description: String {
        switch self {
        case .started(let workers): return "reload started: replacing \(workers) worker\(workers == 1 ? "" : "s")"
        case .done(let replaced): return "reload done: \(replaced) worker\(replaced == 1 ? "" : "s") replaced"
        case .rolledBack(let slot, let reason, let replaced, let failedEnd):
            let which = slot.map { "slot \($0)'s new generation: " } ?? ""
            let last = failedEnd?.lastLines.last.map { "; its last line on stderr: \($0)" } ?? ""
            return "reload rolled back (\(which)\(reason)\(last)); \(replaced) replaced, the others keep their process"
        }
    }

    /// The JSON `phase`: `started`, `done` or `rolled_back`.
    public var phase: String {
        switch self {
        case .started: return "started"
        case .done: return "done"
        case .rolledBack: return "rolled_back"
        }
    }
}
