import CorralEngine

extension ServerModel {
    /// Why the server is not ready, for a readiness probe (`corral ctl status --ready`); nil when
    /// it runs and every process that should run is running (a one-shot of a project that
    /// completed counts, as do processes retired by scaling down).
    package var notReadyReason: String? {
        if ended != nil { return "the server has stopped" }
        guard serverState == .running else { return "the server is \(serverState.rawValue)" }
        let waiting = rows.filter { row in
            guard !row.retired, row.state != .running else { return false }
            // A project's one-shot that completed is done, not missing.
            return !(!names.isEmpty && row.state == .exited && row.end?.isClean == true)
        }
        guard let first = waiting.first else { return nil }
        let named = waiting.prefix(5).map { "\($0.name) is \($0.state.rawValue)" }
        let more = waiting.count > 5 ? " (and \(waiting.count - 5) more)" : ""
        return named.joined(separator: ", ") + more + (first.failure.map { ": \($0)" } ?? "")
    }
}
