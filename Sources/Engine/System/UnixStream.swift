import CProcessShims
import Glibc
import SystemPackage

/// `AF_UNIX` stream connections for corral's control socket, both ends: accepting and
/// connecting, the peer's credentials, and reads and writes that never block the caller.
package enum UnixStream {
    /// Who is at the other end of a connection (`SO_PEERCRED`: taken when it connected).
    package struct Credentials: Sendable, Equatable {
        /// The peer's pid.
        package var pid: pid_t
        /// The peer's user.
        package var uid: uid_t
        /// The peer's group.
        package var gid: gid_t
    }

    /// Takes one waiting connection, non-blocking and close-on-exec; nil when none is waiting.
    package static func accept(_ listener: FileDescriptor) throws(SystemCallError) -> FileDescriptor? {
        switch Syscalls.acceptNonBlocking(listener.rawValue) {
        case .accepted(let fd): return FileDescriptor(rawValue: fd)
        case .nothing: return nil
        case .failed(let error): throw error
        }
    }

    /// Connects to the socket at `path` (blocking, close-on-exec).
    /// - Throws: `ECONNREFUSED` when nothing listens there (a stale socket), `ENOENT` when
    ///   there is no such file.
    package static func connect(path: String) throws(SystemCallError) -> FileDescriptor {
        while true {
            let fd = corral_unix_connect(path)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            let error = Glibc.errno
            if error == EINTR { continue }
            throw SystemCallError("connect", errno: Errno(rawValue: error), context: path)
        }
    }

    /// Whether `path` is a Unix socket nothing is bound to or listens on any more (a connection
    /// is refused: left by a process that was killed): never a live socket, never another file.
    package static func isStale(_ path: String) -> Bool {
        guard (try? FileSystem.status(path))??.isSocket == true else { return false }
        do {
            close(try connect(path: path))
            return false
        } catch {
            return error.errno == .connectionRefused
        }
    }

    /// The peer's credentials.
    package static func peer(of connection: FileDescriptor) throws(SystemCallError) -> Credentials {
        var credentials = Credentials(pid: 0, uid: 0, gid: 0)
        try Syscalls.retrying("getsockopt(SO_PEERCRED)", context: "fd \(connection.rawValue)") {
            corral_peer_credentials(connection.rawValue, &credentials.pid, &credentials.uid, &credentials.gid)
        }
        return credentials
    }

    /// Reads what is there: the count (0 at end of file), or nil when a non-blocking connection
    /// has nothing yet.
    package static func receive(
        _ connection: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer
    ) throws(SystemCallError) -> Int? {
        try Syscalls.read(connection.rawValue, into: buffer)
    }

    /// Writes what the connection takes now, never raising `SIGPIPE`: the count written (0 when
    /// a non-blocking connection is full).
    package static func send(_ connection: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(SystemCallError)
        -> Int
    {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        while true {
            let written = Glibc.send(connection.rawValue, base, bytes.count, CInt(MSG_NOSIGNAL))
            if written >= 0 { return written }
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return 0 }
            throw SystemCallError("send", errno: Errno(rawValue: error), context: "fd \(connection.rawValue)")
        }
    }

    /// Makes a connection non-blocking.
    package static func setNonBlocking(_ connection: FileDescriptor) throws(SystemCallError) {
        try Syscalls.setNonBlocking(connection.rawValue)
    }

    /// Waits up to `milliseconds` for `connection` to be readable (or at end of file, or in
    /// error); false when the time ran out.
    package static func waitReadable(_ connection: FileDescriptor, milliseconds: CInt) throws(SystemCallError) -> Bool {
        var fds = [pollfd(fd: connection.rawValue, events: Int16(POLLIN), revents: 0)]
        return try Syscalls.poll(&fds, timeoutMilliseconds: milliseconds) > 0
    }

    /// Closes a connection or listener.
    package static func close(_ connection: FileDescriptor) {
        Syscalls.close(connection.rawValue)
    }
}

extension UnixStream {
    /// Waits up to `milliseconds` for any of `connections` to be writable; false when the
    /// time ran out.
    package static func waitWritable(_ connections: [FileDescriptor], milliseconds: CInt) throws(SystemCallError)
        -> Bool
    {
        var fds = connections.map { pollfd(fd: $0.rawValue, events: Int16(POLLOUT), revents: 0) }
        return try Syscalls.poll(&fds, timeoutMilliseconds: milliseconds) > 0
    }
}

extension UnixStream {
    /// Waits up to `milliseconds` (-1: as long as it takes) for any of `descriptors` to be
    /// readable (or at end of file, or in error); returns those that are.
    package static func waitReadable(_ descriptors: [FileDescriptor], milliseconds: CInt) throws(SystemCallError)
        -> [FileDescriptor]
    {
        var fds = descriptors.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        guard try Syscalls.poll(&fds, timeoutMilliseconds: milliseconds) > 0 else { return [] }
        return fds.filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
    }
}
