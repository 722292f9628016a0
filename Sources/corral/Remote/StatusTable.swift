import CorralEngine
import CorralModel

/// `corral ctl status` as text: the server on one line, then one row per process.
enum StatusTable {
    static func render(_ state: ServerModel, control: String, now: ContinuousClock.Instant) -> String {
        var header = [
            "corral pid \(state.supervisorPid)", state.serverState.rawValue,
            "\(state.workerCount) worker\(state.workerCount == 1 ? "" : "s")",
            "up \(TimeText.uptime(state.startedAt.duration(to: now)))",
        ]
        if state.reloading { header.append("reloading") }
        if state.logDroppedLines > 0 { header.append("\(state.logDroppedLines) log lines dropped") }
        if let stopping = state.stopping, state.ended == nil {
            var text = "stopping with \(stopping.signal)"
            if let deadline = stopping.deadline { text += ", SIGKILL in \(now.duration(to: deadline).countdownText)" }
            header.append(text)
        }
        if let ended = state.ended { header.append("stopped: \(ended.cause), exit status \(ended.exitStatus)") }
        var lines = [header.joined(separator: " · "), "control socket: \(control)"]
        if let command = state.command { lines.append("command: \(TerminalText.forDisplay(command))") }
        lines.append("")
        let rows =
            [["IDX", "PID", "NAME", "STATE", "GEN", "RESTARTS", "SINCE", "STATUS / EXIT"]]
            + state.rows.map { row in
                [
                    String(row.index), row.pid.map { String($0) } ?? "-", row.name, row.state.rawValue,
                    String(row.generation), row.restartsText,
                    row.stateSince.map { TimeText.uptime($0.duration(to: now)) } ?? "-",
                    row.statusText(now: now, readyTimeout: state.readyTimeout),
                ]
            }
        lines += columns(rows)
        return lines.joined(separator: "\n")
    }

    /// Rows of cells padded to their column's widest cell (the last column is not padded).
    static func columns(_ rows: [[String]]) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        let widths = (0..<count).map { column in rows.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { cells in
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }.joined().trimmingTrailingSpaces
        }
    }
}

extension String {
    /// Without the spaces at its end.
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
