#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The supervisor's end of the `sd_notify` protocol: an `AF_UNIX` datagram socket in the abstract
/// namespace (gone with the process, nothing on disk) with `SO_PASSCRED`, so every datagram
/// carries its sender's pid.
final class NotifySocket {
    /// The largest datagram read whole; longer ones are cut (their last line dropped).
    static let maximumDatagram = 4096

    /// The socket descriptor to poll.
    let descriptor: CInt
    /// The value for `NOTIFY_SOCKET` (`@` marks the abstract namespace).
    let address: String
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumDatagram, alignment: 8)
    private var closed = false

    /// Creates and binds a socket with a random abstract name.
    init() throws(SystemCallError) {
        let fd = try Syscalls.datagramSocket()
        var random = SystemRandomNumberGenerator()
        let name = "@corral/\(Syscalls.processID)/\(String(random.next() as UInt64, radix: 16))"
        do {
            try Syscalls.enableSocketOption(fd, SO_PASSCRED, name: "SO_PASSCRED")
            try Syscalls.bindUnix(fd, name: name)
        } catch {
            Syscalls.close(fd)
            throw error
        }
        descriptor = fd
        address = name
    }

    /// Every datagram waiting now, with its sender's pid (0 when no credentials came).
    func receiveAll() throws(SystemCallError) -> [(pid: pid_t, message: NotifyMessage)] {
        var messages: [(pid: pid_t, message: NotifyMessage)] = []
        while messages.count < 1024 {
            guard let received = try Syscalls.receiveWithCredentials(descriptor, into: buffer) else { break }
            let message = NotifyMessage(bytes: buffer[0..<received.length], truncated: received.truncated)
            messages.append((received.pid, message))
        }
        return messages
    }

    /// Closes the socket; its abstract name is released with it. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        Syscalls.close(descriptor)
    }

    deinit {
        close()
        buffer.deallocate()
    }
}
