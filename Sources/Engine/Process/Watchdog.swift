import CProcessShims
import Glibc
import SystemPackage

/// Cleans up after a supervisor that died: a small process of its own (C only) that is told
/// every child's process group (by the child itself, before it runs its program) and, if the
/// supervisor goes away without disarming it — killed with SIGKILL, say — sends SIGKILL to all
/// of them. The children's parent-death signal covers
/// the children; this covers what they started (grandchildren in their process groups).
///
/// Limits: a grandchild that left its process group (`setsid`, `setpgid`) is out of reach; and a
/// group that emptied long before the supervisor died could, in theory, have had its number
/// reused by an unrelated process group.
final class Watchdog {
    /// The watchdog's pid and pidfd once it has started (nil: it could not).
    private var started: (pid: pid_t, pidfd: CInt?)?
    /// The start under way on a thread of its own, until ``awaitStart()``.
    private var launch: OpaquePointer?
    private var pipe: CInt?
    private var reaped = false

    /// Starts the watchdog from a thread of its own, without waiting for it: the pipe takes
    /// registrations at once, and ``awaitStart()`` (or the first use of ``pid`` or ``pidfd``)
    /// waits for the start. Started from this thread when no thread can be; throws only when
    /// it cannot start either way.
    init() throws(SystemCallError) {
        var pipe: CInt = -1
        if let launch = corral_watchdog_launch_start(&pipe) {
            self.launch = launch
            self.pipe = pipe
            return
        }
        var pid: pid_t = 0
        var pidfd: CInt = -1
        try Syscalls.retrying("fork", context: "watchdog") { corral_watchdog_start(&pid, &pipe, &pidfd) }
        self.pipe = pipe
        started = (pid, pidfd >= 0 ? pidfd : try? Syscalls.pidfdOpen(pid))
    }

    /// Waits for a start under way; returns why it failed, once. A watchdog that could not
    /// start keeps its pipe (a write to it fails with `EPIPE`, which children take in their
    /// stride), so that the descriptor number handed to children stays this pipe's.
    @discardableResult
    func awaitStart() -> SystemCallError? {
        guard let launch else { return nil }
        self.launch = nil
        var pid: pid_t = 0
        var pidfd: CInt = -1
        guard corral_watchdog_launch_finish(launch, &pid, &pidfd) == 0 else {
            return SystemCallError("fork", errno: Errno(rawValue: errno), context: "watchdog")
        }
        // The spawn's own pidfd; after a fork (or without CLONE_PIDFD), one opened from the pid.
        started = (pid, pidfd >= 0 ? pidfd : try? Syscalls.pidfdOpen(pid))
        return nil
    }

    /// The watchdog's pid (a child of the supervisor); nil when it could not start. Waits for
    /// its start.
    var pid: pid_t? {
        awaitStart()
        return started?.pid
    }

    /// Its pidfd: readable once it has ended (it was killed: nothing watches the groups then).
    /// Waits for its start.
    var pidfd: CInt? {
        awaitStart()
        return started?.pidfd
    }

    /// The pipe children write their process group to (each right after `setpgid`, before exec
    /// or before a zygote's child runs any Swift), so no group can fork before it is watched.
    var descriptor: CInt? { pipe }

    /// Registers process groups from the supervisor's side (after a watchdog was replaced, the
    /// children's own registration goes to the one that ended). A `SIGPIPE` of a watchdog that
    /// ended meanwhile is kept from the process: blocked for this thread, and taken back.
    func register(_ groups: [pid_t]) {
        guard let pipe, !groups.isEmpty else { return }
        Syscalls.withSignalBlocked(SIGPIPE) {
            for group in groups where group > 1 {
                var value = CInt(group)
                let written = withUnsafeBytes(of: &value) { (try? Syscalls.writeAll(pipe, $0)) != nil }
                if !written { return }
            }
        }
    }

    /// Tells the watchdog to remove `directory` (and the `notify` socket in it) if the supervisor
    /// dies without disarming it, so a SIGKILLed supervisor leaves no private directory behind.
    func removeOnDeath(_ directory: String) {
        guard let pipe else { return }
        let path = Array(directory.utf8)
        guard !path.isEmpty, path.count < 480 else { return }
        var message: [UInt8] = []
        withUnsafeBytes(of: CInt(-1)) { message += $0 }
        withUnsafeBytes(of: CInt(path.count)) { message += $0 }
        message += path
        // One write, shorter than PIPE_BUF: children's registrations cannot fall inside it.
        Syscalls.withSignalBlocked(SIGPIPE) { message.withUnsafeBytes { _ = try? Syscalls.writeAll(pipe, $0) } }
    }

    /// Whether it has ended (its pidfd is readable); reaps it then. Its pipe stays open until
    /// ``disarm()``: children are handed its descriptor number, which must not come to mean
    /// another file (a registration meets `EPIPE` now, which children take in their stride).
    func hasEnded() -> Bool {
        guard let pid, let pidfd, !reaped else { return reaped }
        guard (try? Syscalls.waitPidfd(pidfd, pid: pid, noHang: true)) ?? nil != nil else { return false }
        reaped = true
        Syscalls.close(pidfd)
        started = (pid, nil)
        return true
    }

    /// Tells the watchdog to exit without killing anything; ``disarm()`` then reaps it.
    func beginDisarm() {
        guard let pipe else { return }
        self.pipe = nil
        if !reaped {
            var zero: CInt = 0
            Syscalls.withSignalBlocked(SIGPIPE) { withUnsafeBytes(of: &zero) { _ = try? Syscalls.writeAll(pipe, $0) } }
        }
        Syscalls.close(pipe)
    }

    /// The supervisor ends normally: the watchdog exits without killing anything, and is reaped.
    /// Idempotent.
    func disarm() {
        beginDisarm()
        guard !reaped, let pid else { return }
        reaped = true
        guard let pidfd else {
            Syscalls.reap(pid)
            return
        }
        HelperExit.reap(pidfd: pidfd, pid: pid)
    }

    deinit { disarm() }
}
