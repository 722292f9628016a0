import Glibc
import Logging
import SystemPackage

/// Notify datagrams: attributed to the child that sent them (or its group, with
/// `NotifyAccess.all`), held back while the sender's pid is not known yet.
extension SupervisorDriver {
    func receiveNotifications(now: ContinuousClock.Instant) {
        do {
            for (sender, message) in try notify.receiveAll() {
                let pid = attribute(sender)
                guard core.slot(forPid: pid) != nil else {
                    if starter.hasForksInFlight, earlyNotifications.count < 4096 {
                        earlyNotifications.append((pid, message))
                    } else {
                        logger.debug("ignored a notify datagram from pid \(pid), not a child")
                    }
                    continue
                }
                perform(core.notify(from: pid, message, now: now))
            }
        } catch {
            logger.error("notify socket: \(error)")
        }
    }

    /// The child a datagram from `sender` counts for: the sender itself, or with
    /// ``NotifyAccess/all`` the child whose process group it belongs to.
    func attribute(_ sender: pid_t) -> pid_t {
        guard configuration.notifyAccess == .all, core.slot(forPid: sender) == nil,
            let group = Syscalls.processGroup(of: sender), let slot = core.slot(forPid: group),
            children[slot]?.pid == group
        else { return sender }
        return group
    }

    /// Hands the datagrams that came before their sender's pid to the core, once it knows them.
    func replayEarlyNotifications() {
        guard !earlyNotifications.isEmpty else { return }
        let now = clock.now
        var unknown: [(pid: pid_t, message: NotifyMessage)] = []
        for (pid, message) in earlyNotifications {
            if core.slot(forPid: pid) != nil {
                perform(core.notify(from: pid, message, now: now))
            } else if starter.hasForksInFlight {
                unknown.append((pid, message))
            }
        }
        earlyNotifications = unknown
    }
}
