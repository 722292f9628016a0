import Glibc

/// How a process ended, judged: whether it failed, and who sent the signal that ended it (its
/// ledger's one origin rule).
extension SupervisorCore {
    /// Decides whether an ended slot failed, and who sent the signal that ended it.
    func classify(_ index: Int, _ termination: Termination) -> SlotEnd {
        let slot = slots[index]
        let origin = slot.sent.origin(of: termination)
        if let failure = slot.failure { return SlotEnd(termination: termination, origin: origin, failure: failure) }
        if let signal = termination.signal, slot.operatorSignals.contains(signal), origin == .supervisor(.command) {
            var end = SlotEnd(termination: termination, origin: origin, failure: nil)
            end.isStoppedByOperator = true
            return end
        }
        let failure: SlotFailure?
        if case .supervisor(let reason)? = origin, termination.signal == .kill {
            failure = reason == .timeout ? .killedAfterTimeout(waitTimeout(of: index) ?? .zero) : .forceKilled
        } else if slot.sent.asksToEnd {
            switch termination {
            case .exited(0): failure = nil
            case .exited(WorkerExitCode.initFailure) where slot.state != .running && slot.state != .stopping:
                failure = .initFailed(termination)
            case .exited:
                failure = slot.state == .initializing ? .initFailed(termination) : .shutdownFailed(termination)
            case .signaled:
                failure = origin == .external ? .shutdownFailed(termination) : nil
            case .reapedElsewhere:
                failure = nil
            }
        } else if slot.state == .initializing {
            failure = .initFailed(termination)
        } else if slot.plan.kind == .extra || slot.plan.oneshot, termination == .exited(code: 0) {
            // An extra, or a one-shot, that ends with 0 by itself completed its work.
            failure = nil
        } else {
            failure = .exitedUnexpectedly(termination)
        }
        return SlotEnd(termination: termination, origin: origin, failure: failure)
    }

    /// Decides whether a reload's outgoing process failed as it ended.
    func classifyOutgoing(_ outgoing: Outgoing, _ termination: Termination) -> SlotEnd {
        let origin = outgoing.sent.origin(of: termination)
        let failure: SlotFailure?
        switch (termination, origin) {
        case (.exited(code: 0), _) where outgoing.sent.stopSent, (.reapedElsewhere, _): failure = nil
        case (.signaled(.kill, _), .supervisor(.timeout)?):
            let timeout = outgoing.plan.program.flatMap { gates[$0].program.waitTimeout } ?? waitTimeout
            failure = .killedAfterTimeout(timeout ?? .zero)
        case (.signaled(.kill, _), .supervisor(.command)?): failure = .forceKilled
        case (.signaled, .supervisor?): failure = nil
        // Never asked to stop: it crashed while its successor was starting.
        case _ where !outgoing.sent.stopSent: failure = .exitedUnexpectedly(termination)
        default: failure = .shutdownFailed(termination)
        }
        return SlotEnd(termination: termination, origin: origin, failure: failure)
    }
}
