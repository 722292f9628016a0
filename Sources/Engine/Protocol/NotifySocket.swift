import Glibc

/// The supervisor's end of the `sd_notify` protocol: an `AF_UNIX` datagram socket with
/// `SO_PASSCRED`, so every datagram carries its sender's pid. It lives in a private directory
/// (`mkdtemp`, mode 0700, in the first of ``directoryBases`` where one can be made), so no
/// other user can reach it (an abstract name can be found in /proc/net/unix and written by anyone); descriptors passed
/// with `SCM_RIGHTS` are refused by the kernel where it can (`SO_PASSRIGHTS`) and never
/// installed otherwise. Only where no directory can be made does it fall back to a random
/// abstract name.
package final class NotifySocket {
    /// The largest datagram read whole; longer ones are cut (their last line dropped).
    static let maximumDatagram = 4096

    /// The socket descriptor to poll.
    let descriptor: CInt
    /// The value for `NOTIFY_SOCKET`: the socket's path (`@` marks the abstract fallback).
    let address: String
    /// The private directory holding the socket, removed with it.
    let directory: String?
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumDatagram, alignment: 8)
    private var closed = false

    /// Creates and binds a socket in a new private directory.
    init() throws(SystemCallError) {
        let fd = try Syscalls.datagramSocket()
        let directory = Self.privateDirectory()
        let name: String
        if let directory {
            name = directory + "/notify"
        } else {
            var random = SystemRandomNumberGenerator()
            name = "@corral/\(Syscalls.processID)/\(String(random.next() as UInt64, radix: 16))"
        }
        do {
            try Syscalls.enableSocketOption(fd, SO_PASSCRED, name: "SO_PASSCRED")
            Syscalls.refusePassedDescriptors(fd)
            try Syscalls.bindUnix(fd, name: name)
        } catch {
            Syscalls.close(fd)
            if let directory { Syscalls.removeDirectory(directory) }
            throw error
        }
        descriptor = fd
        address = name
        self.directory = directory
    }

    /// The start of the private directories' names (`corral-notify-` and six random characters).
    package static let directoryPrefix = "corral-notify-"

    /// Where the private directory may go, in order: `$XDG_RUNTIME_DIR`, then `/dev/shm` (a
    /// memory file system: on a `/tmp` on disk a directory's creation and removal were a
    /// twentieth of a short run's start-up, with the journal and the inode's eviction), `/tmp`.
    package static var directoryBases: [String] {
        var bases: [String] = []
        if let runtime = Environment.value(of: "XDG_RUNTIME_DIR"), runtime.hasPrefix("/") { bases.append(runtime) }
        return bases + ["/dev/shm", "/tmp"]
    }

    /// A new 0700 directory for the socket, or nil if none can be made with a short enough path.
    private static func privateDirectory() -> String? {
        for base in directoryBases where base.utf8.count < 64 {
            if let directory = try? Syscalls.makePrivateDirectory(base + "/" + directoryPrefix + "XXXXXX") {
                return directory
            }
        }
        return nil
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

    /// Closes the socket and removes it and its directory. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        Syscalls.close(descriptor)
        if let directory {
            Syscalls.unlink(address)
            Syscalls.removeDirectory(directory)
        }
    }

    deinit {
        close()
        buffer.deallocate()
    }
}
