import Glibc
import SystemPackage

/// Listening sockets for the main process to bind and hand to its workers (as inherited
/// descriptors, see ``Launcher``).
public enum Listener {
    /// A TCP socket bound to `host` (an IPv4 or IPv6 literal, or `localhost`) and `port`
    /// (0 picks a free one), listening, close-on-exec, non-blocking unless `nonBlocking` is false
    /// (as systemd hands sockets to programs that accept in blocking mode). `SO_REUSEADDR` is on.
    /// - Throws: ``SupervisorError/system(_:)`` naming the address, e.g. `EADDRINUSE` when the
    ///   port is taken.
    public static func tcp(
        host: String, port: Int, backlog: CInt = 511, nonBlocking: Bool = true
    ) throws(SupervisorError) -> FileDescriptor {
        do {
            return try bind(host: host, port: port, backlog: backlog, nonBlocking: nonBlocking)
        } catch {
            throw .system(error)
        }
    }

    /// A Unix stream socket bound to `path` (which must not exist; the caller removes it when
    /// done), listening, close-on-exec, non-blocking unless `nonBlocking` is false.
    /// - Throws: ``SupervisorError/system(_:)`` naming the path, e.g. `EADDRINUSE` when it exists.
    public static func unix(path: String, backlog: CInt = 511, nonBlocking: Bool = true) throws(SupervisorError)
        -> FileDescriptor
    {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .system(
                SystemCallError("bind", errno: .fileNameTooLong, context: "\(path): a socket path has 1 to 107 bytes"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let flags =
            CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | (nonBlocking ? CInt(SOCK_NONBLOCK.rawValue) : 0)
        do throws(SystemCallError) {
            let fd = try Syscalls.retrying("socket", context: path) { socket(AF_UNIX, flags, 0) }
            do {
                try Syscalls.retrying("bind", context: path) {
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                        }
                    }
                }
                try Syscalls.retrying("listen", context: path) { listen(fd, backlog) }
            } catch {
                Syscalls.close(fd)
                throw error
            }
            return FileDescriptor(rawValue: fd)
        } catch {
            throw .system(error)
        }
    }

    private static func bind(host: String, port: Int, backlog: CInt, nonBlocking: Bool) throws(SystemCallError)
        -> FileDescriptor
    {
        let endpoint = SocketAddress.endpoint(host: host, port: port)
        guard (0...65535).contains(port) else {
            throw SystemCallError("bind", errno: .invalidArgument, context: "\(endpoint): port out of range")
        }
        guard let address = SocketAddress(host: host, port: UInt16(port)) else {
            throw SystemCallError("inet_pton", errno: .invalidArgument, context: "\(host) is not an IP address")
        }
        let (length, family) = (address.length, address.family)
        var bound = address.storage
        let fd = try Syscalls.retrying("socket", context: endpoint) {
            socket(
                family,
                CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
                    | (nonBlocking ? CInt(SOCK_NONBLOCK.rawValue) : 0),
                0)
        }
        do {
            try Syscalls.enableSocketOption(fd, SO_REUSEADDR, name: "SO_REUSEADDR")
            try Syscalls.retrying("bind", context: endpoint) {
                withUnsafePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
                }
            }
            try Syscalls.retrying("listen", context: endpoint) { listen(fd, backlog) }
        } catch {
            Syscalls.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// The port a bound socket listens on.
    public static func port(of socket: FileDescriptor) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket.rawValue, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch CInt(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in.self).sin_port)) }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in6.self).sin6_port)) }
        default:
            return nil
        }
    }

    /// Closes a socket the main process no longer needs (after the workers have ended).
    public static func close(_ socket: FileDescriptor) {
        Syscalls.close(socket.rawValue)
    }
}

extension Listener {
    /// Waits for a connection on a listening `socket` and accepts it (non-blocking and
    /// close-on-exec), or returns nil when `wakeup` becomes readable. With a socket shared by
    /// several workers, another worker may take the connection first: then it waits again.
    package static func accept(from listener: FileDescriptor, wakeup: Wakeup) throws(SystemCallError) -> CInt? {
        let socket = listener.rawValue
        // Shared with other workers, the socket must not block when another took the connection.
        try Syscalls.setNonBlocking(socket)
        while true {
            var fds = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            _ = try Syscalls.poll(&fds, timeoutMilliseconds: -1)
            if fds[1].revents != 0 { return nil }
            let connection = Syscalls.acceptNonBlocking(socket)
            switch connection {
            case .accepted(let fd): return fd
            case .nothing: continue
            case .failed(let error): throw error
            }
        }
    }
}
