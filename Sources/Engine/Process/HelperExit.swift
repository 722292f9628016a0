import Glibc

/// Ending one of the supervisor's helper processes (the watchdog, a zygote) that was asked to
/// exit: it gets `grace` to do so, then `SIGKILL`; either way it is reaped through its pidfd,
/// which is closed.
enum HelperExit {
    /// Waits up to `grace` for the process behind `pidfd` to end, `SIGKILL`s it if it has not,
    /// reaps it and closes `pidfd`.
    static func reap(pidfd: CInt, pid: pid_t, grace: Duration = .seconds(1)) {
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        let timeout = CInt(clamping: grace.milliseconds(roundingUp: true))
        if (try? Syscalls.poll(&fds, timeoutMilliseconds: timeout)) ?? 0 == 0 {
            _ = try? Syscalls.pidfdSendSignal(pidfd, SIGKILL, pid: pid)
        }
        _ = try? Syscalls.waitPidfd(pidfd, pid: pid, noHang: false)
        Syscalls.close(pidfd)
    }
}
