import CorralEngine
import CorralModel

/// The lines of the detail view (`d`) of one process: what an operator asks after "why?".
enum DetailView {
    /// The details of `row`, as lines for a box, at `now`.
    static func lines(_ row: ServerModel.Row, state: DashboardState, now: ContinuousClock.Instant) -> [String] {
        func ago(_ instant: ContinuousClock.Instant) -> String { "\(TimeText.uptime(instant.duration(to: now))) ago" }
        var lines: [String] = []
        var identity = [row.name]
        if let pid = row.pid { identity += ["pid \(pid)", "process group \(pid)"] }
        identity += ["generation \(row.generation)", "\(row.restarts) restart\(row.restarts == 1 ? "" : "s")"]
        if row.crashes > 0 { identity.append("\(row.crashes) crash\(row.crashes == 1 ? "" : "es")") }
        lines.append(identity.joined(separator: " · "))
        if let program = row.processName?.program, let command = state.server.programCommands[program] {
            let count = state.rows.filter { $0.processName?.program == program && !$0.retired }.count
            let dependencies = state.server.programDependencies[program] ?? []
            lines.append(
                "program: \(program) (\(count) process\(count == 1 ? "" : "es"))"
                    + (dependencies.isEmpty ? "" : " · depends on \(dependencies.joined(separator: ", "))"))
            lines.append("command: " + TerminalText.forDisplay(command))
        } else if row.kind == .worker, let command = state.command {
            lines.append("command: " + TerminalText.forDisplay(command))
        } else if row.kind == .extra {
            let position = state.rows.filter { $0.kind == .extra && $0.index < row.index }.count
            if state.extraCommands.indices.contains(position) {
                lines.append("command: " + TerminalText.forDisplay(state.extraCommands[position]))
            }
        }
        var timing: [String] = []
        if let spawnedAt = row.spawnedAt { timing.append("started \(ago(spawnedAt))") }
        if let since = row.stateSince { timing.append("\(row.state) since \(ago(since))") }
        if let endedAt = row.endedAt { timing.append("ended \(ago(endedAt))") }
        if !timing.isEmpty { lines.append(timing.joined(separator: " · ")) }
        if let usage = row.usage, row.end == nil {
            var text =
                "CPU \(TableColumns.cpuText(usage.cpuPercent)) % · RSS \(TableColumns.memoryText(usage.residentBytes))"
            text += " · \(usage.processes) process\(usage.processes == 1 ? "" : "es") in its tree"
            if usage.isStopped { text += " · stopped (SIGSTOP)" }
            lines.append(text)
            if !usage.descendants.isEmpty {
                let shown = usage.descendants.prefix(12).map(String.init).joined(separator: ", ")
                lines.append("descendants: " + shown + (usage.descendants.count > 12 ? ", …" : ""))
            }
        }
        lines.append("")
        lines.append(
            "states: "
                + (row.history.isEmpty
                    ? "none yet" : row.history.map { "\($0.state) \(ago($0.at))" }.joined(separator: " → ")))
        lines.append(
            "signals sent: "
                + (row.signals.isEmpty
                    ? "none" : row.signals.map { "\($0.signal) \(ago($0.at)) (\($0.reason))" }.joined(separator: ", ")))
        if let end = row.end {
            lines.append("last exit: " + row.statusText(now: now))
            if !end.lastLines.isEmpty {
                lines.append("its last lines on stderr:")
                lines += end.lastLines.map { "  " + TerminalText.forDisplay($0) }
            }
        } else if let failure = row.failure {
            lines.append("failure: \(failure)")
        }
        if let previous = row.previousEnd {
            var text = "previous generation \(previous.generation)"
            if let pid = previous.pid { text += " (pid \(pid))" }
            text += " ended"
            if let at = previous.at { text += " \(ago(at))" }
            lines.append(text + ": " + previous.end.description)
            if !previous.signals.isEmpty {
                lines.append(
                    "  signals it was sent: "
                        + previous.signals.map { "\($0.signal) \(ago($0.at)) (\($0.reason))" }.joined(separator: ", "))
            }
            lines += previous.end.lastLines.map { "  " + TerminalText.forDisplay($0) }
        }
        let errors = state.logBook.lines(slot: row.index, endingAt: nil, limit: 200).filter {
            $0.stream == .stderr && !$0.isMarker
        }.suffix(5)
        if row.end == nil, !errors.isEmpty {
            lines.append("latest lines on stderr:")
            lines += errors.map { "  " + $0.text }
        }
        lines.append("")
        lines.append("↑↓ another process · any other key closes")
        return lines
    }
}
