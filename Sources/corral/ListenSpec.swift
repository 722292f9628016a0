import CorralEngine
import Glibc
import SystemPackage

/// One `--listen [NAME=]HOST:PORT` or `--listen [NAME=]unix:PATH`: a socket corral binds before
/// the workers start and hands to every one of them.
struct ListenSpec: Equatable {
    /// Where it listens.
    enum Address: Equatable {
        /// A TCP address: an IPv4 or IPv6 literal (or `localhost`) and a port.
        case tcp(host: String, port: Int)
        /// A Unix stream socket at a path.
        case unix(path: String)
    }

    /// The name the workers see in `LISTEN_FDNAMES`.
    var name: String
    var address: Address

    /// A socket named `name` at `address`.
    init(name: String, address: Address) {
        self.name = name
        self.address = address
    }

    /// Parses `text`; `position` names an unnamed socket (`listen0`, `listen1`, …).
    init(parsing text: String, position: Int) throws(UsageError) {
        var rest = Substring(text)
        name = "listen\(position)"
        if let equals = rest.firstIndex(of: "="), !rest[..<equals].contains(":") {
            name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
                throw UsageError(
                    description:
                        "--listen \(text): a name has letters, digits, '_', '.' or '-' (e.g. http=127.0.0.1:8000)")
            }
        }
        if rest.hasPrefix("unix:") {
            let path = String(rest.dropFirst(5))
            guard !path.isEmpty, path.utf8.count < 108 else {
                throw UsageError(description: "--listen \(text): a unix socket path has 1 to 107 bytes")
            }
            address = .unix(path: path)
            return
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw UsageError(
                description: "--listen \(text): use [NAME=]HOST:PORT (port 1 to 65535) or [NAME=]unix:PATH, "
                    + "e.g. 127.0.0.1:8000, [::1]:8000, http=0.0.0.0:8080, unix:/run/app.sock")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard host == "localhost" || Self.isAddressLiteral(host) else {
            throw UsageError(
                description:
                    "--listen \(text): '\(host)' is not an IP address; use e.g. 127.0.0.1:\(port) or [::1]:\(port)")
        }
        address = .tcp(host: host, port: port)
    }

    private static func isAddressLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Binds and listens (blocking, as systemd hands sockets over); a taken port or path is a
    /// usage error that says what to fix.
    func bind() throws(UsageError) -> ListeningSocket {
        do {
            switch address {
            case .tcp(let host, let port):
                let fd = try Listener.tcp(host: host, port: port, nonBlocking: false)
                return ListeningSocket(name: name, descriptor: fd)
            case .unix(let path):
                do {
                    return ListeningSocket(name: name, descriptor: try Listener.unix(path: path, nonBlocking: false))
                } catch  where error.errno == .addressInUse && UnixStream.isStale(path) {
                    // Left by a corral that was killed: nothing listens on it, so it is replaced.
                    FileSystem.remove(path)
                    return ListeningSocket(name: name, descriptor: try Listener.unix(path: path, nonBlocking: false))
                }
            }
        } catch {
            switch (address, error.errno) {
            case (.tcp(_, let port), .addressInUse?):
                throw UsageError(description: "--listen \(shown): port \(port) is in use; choose another")
            case (.unix(let path), .addressInUse?):
                throw UsageError(
                    description: "--listen \(shown): \(path) exists and is not a stale socket (something listens "
                        + "on it, or it is another kind of file); choose another path")
            default:
                throw UsageError(description: "--listen \(shown): \(error)")
            }
        }
    }

    /// The address as written (without the name).
    var shown: String {
        switch address {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }

    /// The sockets corral itself was started with (systemd socket activation: `LISTEN_FDS` and
    /// `LISTEN_PID` naming corral), named by `LISTEN_FDNAMES`, to hand on to the workers.
    static func inherited() -> [ListeningSocket] {
        guard let pid = getenv("LISTEN_PID").map({ String(cString: $0) }), pid == String(getpid()),
            let count = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), count > 0, count < 1024
        else { return [] }
        let names =
            getenv("LISTEN_FDNAMES").map { String(cString: $0).split(separator: ":", omittingEmptySubsequences: false) }
            ?? []
        return (0..<count).map { offset in
            let fd = CInt(3 + offset)
            // Not inherited by anything but the workers, which get it placed explicitly.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let name = offset < names.count && !names[offset].isEmpty ? String(names[offset]) : "unknown"
            return ListeningSocket(name: name, descriptor: FileDescriptor(rawValue: fd))
        }
    }
}
