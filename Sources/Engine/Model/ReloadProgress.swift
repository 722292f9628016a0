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
    /// A run of programs read its programs again (``SupervisorCommand/update(_:)``): what it
    /// does about each.
    case programsRead(ProgramChanges)
    /// A reload was not begun, for `reason` (a file that no longer reads: its errors, one per
    /// line, `corral.toml:12: …`); nothing changed.
    case refused(reason: String)
}

/// What reading a run's programs again changes: the names of the programs added, removed,
/// changed (reloaded, or scaled when only their number of processes changed) and left alone.
public struct ProgramChanges: Hashable, Sendable {
    /// Programs that are new: they start.
    public var added: [String] = []
    /// Programs no longer defined: they stop.
    public var removed: [String] = []
    /// Programs whose definition changed.
    public var changed: [String] = []
    /// Programs untouched.
    public var unchanged: [String] = []

    /// Changes of these programs.
    public init(added: [String] = [], removed: [String] = [], changed: [String] = [], unchanged: [String] = []) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.unchanged = unchanged
    }

    /// `added: api; removed: clock; changed: web; unchanged: worker`.
    public var summary: String {
        let parts = [("added", added), ("removed", removed), ("changed", changed), ("unchanged", unchanged)]
            .filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1.joined(separator: ", "))" }
        return parts.isEmpty ? "no programs" : parts.joined(separator: "; ")
    }
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
        case .programsRead(let changes): return "programs read again: \(changes.summary)"
        case .refused(let reason):
            // One line, for logs: a file's errors are one per line.
            return "reload refused, nothing changed: \(reason.split(separator: "\n").joined(separator: "; "))"
        }
    }

    /// The JSON `phase`: `started`, `done`, `rolled_back`, `programs` or `refused`.
    public var phase: String {
        switch self {
        case .started: return "started"
        case .done: return "done"
        case .rolledBack: return "rolled_back"
        case .programsRead: return "programs"
        case .refused: return "refused"
        }
    }
}
