import CorralEngine

/// A row as text, the same in every view: the restarts column and the status column.
extension ServerModel.Row {
    /// `2`, or `2 (1 crash)` when some of its processes ended unasked.
    package var restartsText: String {
        crashes > 0 ? "\(restarts) (\(crashes) crash)" : String(restarts)
    }

    /// The last column of every table (the dashboard's, `ctl status`'s): status text while alive,
    /// the signal sent while stopping, the end after.
    package func statusText(now: ContinuousClock.Instant, readyTimeout: Duration? = nil) -> String {
        let row = self
        if row.state == .backoff, let restart = row.pendingRestart {
            let ended = row.end.map { " · " + endText($0) } ?? ""
            return "restart in \(now.duration(to: restart.at).countdownText) (attempt \(restart.attempt))\(ended)"
        }
        if let end = row.end { return endText(end) }
        if row.state == .pending, row.pid == nil, let waiting = row.waiting, row.failure == nil {
            return waiting.wait.description
        }
        if let failure = row.failure, row.pid == nil { return failure.description }
        if row.state == .initializing, row.lastSignal == nil, row.failure == nil, let since = row.stateSince {
            var waiting: String
            switch row.waiting {
            case (.uptime(let needed), let upSince)?:
                waiting = "up \(upSince.duration(to: now).countdownText) of \(needed.secondsText)"
            case (.condition(let condition), _)?:
                // What it waits for first: the reason a probe gave is what an operator needs.
                waiting = "waiting for \(condition) · \(since.duration(to: now).countdownText)"
            case nil:
                waiting = "initializing for \(since.duration(to: now).countdownText): waiting for READY=1"
            }
            if let readyTimeout, row.isReloadGeneration {
                waiting += " · rolled back in \(now.duration(to: since + readyTimeout).countdownText)"
            }
            return row.status.map { waiting + " · " + $0 } ?? waiting
        }
        var parts: [String] = []
        if let health = row.healthFailure, row.end == nil {
            parts.append("health check failed (\(health.failures) in a row): \(health.detail)")
        }
        if let sent = row.lastSignal {
            parts.append("\(sent.signal) sent \(sent.at.duration(to: now).countdownText) ago (\(sent.reason))")
        }
        if let failure = row.failure { parts.append(failure.description) }
        if let status = row.status { parts.append(status) }
        if parts.isEmpty, row.pid == nil { return row.state == .pending ? "not started" : "" }
        if parts.isEmpty, let previous = row.previousEnd, !previous.end.isClean {
            let ago = previous.at.map { " \($0.duration(to: now).countdownText) ago" } ?? ""
            parts.append("previous: \(endText(previous.end))\(ago)")
        }
        return parts.joined(separator: " · ")
    }

    private func endText(_ end: SlotEnd) -> String {
        if end.isStoppedByOperator, let signal = end.termination.signal { return "stopped by operator (\(signal))" }
        var text: String
        switch end.termination {
        case .exited(let code): text = "exit \(code)"
        case .reapedElsewhere: text = "ended, status taken by another reaper"
        case .signaled(let signal, let dumped):
            text = signal.name + (dumped ? " (core)" : "")
            switch end.origin {
            case .supervisor(let reason)?: text += " sent by corral (\(reason))"
            case .external?: text += signal == .kill ? " not sent by corral: OOM killer?" : " not sent by corral"
            case nil: break
            }
        }
        if let failure = end.failure {
            switch failure {
            case .killedAfterTimeout: text = "SIGKILL sent by corral after the wait timeout"
            case .forceKilled: text = "SIGKILL sent by corral (force-kill)"
            case .groupKilledAfterTimeout: text += " · its group SIGKILLed after the wait timeout"
            case .initFailed: text += " · init failed"
            case .initTimedOut: text += " · init timed out"
            case .exitedUnexpectedly: text += " · ended without being asked"
            case .shutdownFailed: text += " · shutdown failed"
            case .spawnFailed(let reason): text += " · " + reason
            case .dependencyFailed(let program): text += " · \(program) failed"
            case .gaveUp(let restarts, let window, _):
                text += " · gave up after \(restarts) restart\(restarts == 1 ? "" : "s") in \(window.secondsText)"
            }
        }
        return text
    }
}
