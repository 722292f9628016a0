import Glibc

/// The child's end of the `sd_notify` protocol: sends `READY=1`, `STOPPING=1`, `STATUS=` to the
/// socket named by `NOTIFY_SOCKET`. Usable from any process the supervisor started.
package struct NotifyClient: Sendable {
    /// The socket address (`@name` for the abstract namespace, else a path).
    package let address: String

    /// A client for `address`.
    package init(address: String) { self.address = address }

    /// A client for this process's `NOTIFY_SOCKET`, or nil when it has none.
    package static func fromEnvironment() -> NotifyClient? {
        guard let address = Environment.value(of: "NOTIFY_SOCKET"), !address.isEmpty else { return nil }
        return NotifyClient(address: address)
    }

    /// Reports that init is done.
    package func ready() throws(SystemCallError) { try send(NotifyMessage(ready: true)) }

    /// Reports that shutdown began.
    package func stopping() throws(SystemCallError) { try send(NotifyMessage(stopping: true)) }

    /// Reports that a reload began (`RELOADING=1` with `MONOTONIC_USEC`, as systemd's
    /// `Type=notify-reload` expects); `ready()` reports its end.
    package func reloading() throws(SystemCallError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        try Syscalls.sendUnixDatagram(to: address, Array("RELOADING=1\nMONOTONIC_USEC=\(microseconds)".utf8))
    }

    /// Sets the free-text status shown for this process.
    package func status(_ text: String) throws(SystemCallError) { try send(NotifyMessage(status: text)) }

    func send(_ message: NotifyMessage) throws(SystemCallError) {
        try Syscalls.sendUnixDatagram(to: address, message.encoded)
    }
}
