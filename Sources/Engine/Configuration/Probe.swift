/// A check of a process from outside: a TCP connection, an HTTP request or a command. Used for
/// readiness (``Readiness/probe(_:)``) and health (``HealthCheck``). `$VAR` and `${VAR}` in a
/// TCP or HTTP target are expanded from the probed process's environment, so per-worker ports
/// work (`http://127.0.0.1:${PORT}/health`); a command sees that environment, with
/// `CORRAL_PID` set to the probed process's pid.
public enum Probe: Sendable, Hashable, CustomStringConvertible {
    /// Succeeds once a TCP connection to `host:port` is accepted. `host` is an IP literal or
    /// `localhost` (no name is looked up: a probe never blocks the supervisor).
    case tcp(host: String, port: String)
    /// Succeeds once a `GET` of the URL (`http://HOST:PORT/PATH`) answers 2xx or 3xx.
    case http(String)
    /// Succeeds once the command, run by `/bin/sh -c`, exits 0.
    case command(String)

    /// `tcp:HOST:PORT`, `http://HOST:PORT/PATH` or `exec:COMMAND`; nil for any other form.
    /// Throws for one of these forms that cannot work.
    public init?(parsing text: String, field: String) throws(ConfigurationError) {
        if text.hasPrefix("tcp:") {
            let target = String(text.dropFirst(4))
            guard let colon = target.lastIndex(of: ":"), colon != target.startIndex,
                target.index(after: colon) != target.endIndex
            else {
                throw ConfigurationError(field: field, problem: "'\(text)' needs a host and a port: tcp:HOST:PORT")
            }
            var host = String(target[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self = .tcp(host: host, port: String(target[target.index(after: colon)...]))
        } else if text.hasPrefix("http://") {
            guard HTTPTarget(text) != nil || text.contains("$") else {
                throw ConfigurationError(field: field, problem: "'\(text)' is not http://HOST:PORT/PATH")
            }
            self = .http(text)
        } else if text.hasPrefix("https://") {
            throw ConfigurationError(
                field: field, problem: "'\(text)': https is not supported; probe http:// on loopback")
        } else if text.hasPrefix("exec:") {
            let command = String(text.dropFirst(5))
            guard !command.allSatisfy({ $0 == " " }) else {
                throw ConfigurationError(
                    field: field, problem: "exec: needs a command, e.g. exec:'curl -sf localhost/health'")
            }
            self = .command(command)
        } else {
            return nil
        }
    }

    /// The form it was given in: `tcp:HOST:PORT`, the URL, or `exec:COMMAND`.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .http(let url): return url
        case .command(let command): return "exec:\(command)"
        }
    }
}

/// An `http://HOST:PORT/PATH` URL taken apart: IPv6 hosts in brackets, port 80 by default.
struct HTTPTarget: Hashable {
    var host: String
    var port: String
    var path: String

    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let remainder = rest.dropFirst(authority.count)
        path = remainder.isEmpty ? "/" : (remainder.hasPrefix("?") ? "/" + remainder : String(remainder))
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? String(after.dropFirst()) : "80"
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = String(authority[authority.index(after: colon)...])
        } else {
            host = String(authority)
            port = "80"
        }
        guard !host.isEmpty, !port.isEmpty else { return nil }
    }
}

extension Probe {
    /// Throws when the probe cannot work whatever the process's environment: a TCP or HTTP host
    /// that is not an IP literal or `localhost`, a port out of range (targets holding `$` are
    /// checked once expanded, when the probe runs).
    public func validate(field: String) throws(ConfigurationError) {
        let host: String
        let port: String
        switch self {
        case .command: return
        case .tcp(let tcpHost, let tcpPort):
            host = tcpHost
            port = tcpPort
        case .http(let url):
            guard let target = HTTPTarget(url) else { return }
            host = target.host
            port = target.port
        }
        if !host.contains("$"), SocketAddress(host: host, port: 1) == nil {
            throw ConfigurationError(
                field: field, problem: "'\(host)' in \(self) is not an IP address or localhost (no name is looked up)")
        }
        if !port.contains("$"), Int(port).map({ (1...65535).contains($0) }) != true {
            throw ConfigurationError(field: field, problem: "'\(port)' in \(self) is not a port (1-65535)")
        }
    }
}
