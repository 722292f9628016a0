import Glibc
import SystemPackage

/// Runs the probes the core asks for without ever blocking the driver: TCP and HTTP probes are
/// non-blocking sockets in the poll set, probe commands are children in process groups of their
/// own watched through their pidfds; each is bounded by the probe timeout (a command is then
/// `SIGKILL`ed and reaped when its pidfd says it ended).
final class ProbeRunner {
    /// What a probe that ended found.
    struct Finding {
        var slot: Int
        var generation: Int
        var purpose: SupervisorCore.ProbePurpose
        var ok: Bool
        /// What was probed and why it failed (`http://127.0.0.1:8001/health: HTTP 503`,
        /// `tcp:127.0.0.1:8000: connection refused`, `exec:…: exit status 1`); empty when ok.
        var detail: String
    }

    private enum Step {
        /// Connecting (poll for writing); then, for HTTP, the request to send.
        case connecting(fd: CInt, request: [UInt8]?)
        /// Sending an HTTP request: what is left of it.
        case sending(fd: CInt, rest: [UInt8])
        /// Reading an HTTP answer's status line.
        case reading(fd: CInt, received: [UInt8])
        /// A probe command runs.
        case running(pid: pid_t, pidfd: CInt)
        /// A probe command that timed out was sent `SIGKILL`; its end is awaited to reap it.
        case reaping(pid: pid_t, pidfd: CInt)
    }

    private struct Probing {
        var slot: Int
        var generation: Int
        var purpose: SupervisorCore.ProbePurpose
        var deadline: ContinuousClock.Instant
        /// How long it may take.
        var timeout: Duration
        var step: Step
        /// The probe's target as run (variables expanded), for its result's detail.
        var target: String
    }

    private var probes: [Int: Probing] = [:]
    private var nextID = 0

    /// A runner with no probe under way.
    init() {}

    deinit { cancelAll() }

    /// The earliest probe deadline, or nil.
    var nextDeadline: ContinuousClock.Instant? {
        probes.values.lazy.filter { if case .reaping = $0.step { false } else { true } }.map(\.deadline).min()
    }

    /// Every descriptor to poll, with the probe it belongs to and whether it waits to write.
    var descriptors: [(id: Int, fd: CInt, writing: Bool)] {
        probes.map { id, probing in
            switch probing.step {
            case .connecting(let fd, _), .sending(let fd, _): return (id, fd, true)
            case .reading(let fd, _): return (id, fd, false)
            case .running(_, let pidfd), .reaping(_, let pidfd): return (id, pidfd, false)
            }
        }
    }

    /// Starts `probe` of the slot's process: `environment` is that process's (with `CORRAL_PID`),
    /// from which `$VAR` in a target is expanded. A probe that cannot even start fails at once.
    func start(
        _ probe: Probe, slot: Int, generation: Int, purpose: SupervisorCore.ProbePurpose, environment: [String],
        timeout: Duration, now: ContinuousClock.Instant,
        spawn: (String, [String]) throws(SpawnError) -> ChildSpawner.Spawned
    ) -> Finding? {
        var probing = Probing(
            slot: slot, generation: generation, purpose: purpose, deadline: now + timeout, timeout: timeout,
            step: .reading(fd: -1, received: []), target: probe.description)
        func failed(_ detail: String) -> Finding {
            Finding(
                slot: slot, generation: generation, purpose: purpose, ok: false, detail: "\(probing.target): \(detail)")
        }
        switch probe {
        case .command(let command):
            do throws(SpawnError) {
                let spawned = try spawn(command, environment)
                guard let pidfd = spawned.pidfd else { return failed("cannot watch the probe command") }
                probing.step = .running(pid: spawned.pid, pidfd: pidfd)
            } catch {
                return failed("cannot start: \(error.errno)")
            }
        case .tcp(let host, let port):
            let expanded = (
                EnvironmentExpansion.expand(host, environment), EnvironmentExpansion.expand(port, environment)
            )
            probing.target = Probe.tcp(host: expanded.0, port: expanded.1).description
            switch Self.connect(host: expanded.0, port: expanded.1) {
            case .success(let fd): probing.step = .connecting(fd: fd, request: nil)
            case .failure(let detail): return failed(detail)
            }
        case .http(let url):
            let expanded = EnvironmentExpansion.expand(url, environment)
            probing.target = expanded
            guard let target = HTTPTarget(expanded) else { return failed("'\(expanded)' is not http://HOST:PORT/PATH") }
            switch Self.connect(host: target.host, port: target.port) {
            case .success(let fd):
                let authority =
                    target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
                let request =
                    "GET \(target.path) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: corral-probe\r\nConnection: close\r\n\r\n"
                probing.step = .connecting(fd: fd, request: Array(request.utf8))
            case .failure(let detail): return failed(detail)
            }
        }
        probes[nextID] = probing
        nextID += 1
        return nil
    }

    /// Moves the probe whose descriptor was ready; returns its result once it has one.
    func advance(_ id: Int) -> Finding? {
        guard let probing = probes[id] else { return nil }
        switch probing.step {
        case .connecting(let fd, let request):
            if let error = Syscalls.socketError(fd) { return finish(id, ok: false, detail: Self.text(error)) }
            guard let request else { return finish(id, ok: true) }
            probes[id]?.step = .sending(fd: fd, rest: request)
            return advance(id)
        case .sending(let fd, let rest):
            let outcome = rest.withUnsafeBytes { bytes in
                Swift.Result { () throws(SystemCallError) in try Syscalls.sendSome(fd, bytes) }
            }
            switch outcome {
            case .failure(let error): return finish(id, ok: false, detail: Self.text(error.errno))
            case .success(let sent) where sent < rest.count:
                probes[id]?.step = .sending(fd: fd, rest: Array(rest[sent...]))
            case .success:
                probes[id]?.step = .reading(fd: fd, received: [])
            }
            return nil
        case .reading(let fd, var received):
            var buffer = [UInt8](repeating: 0, count: 1024)
            let outcome = buffer.withUnsafeMutableBytes { bytes in
                Swift.Result { () throws(SystemCallError) in try Syscalls.read(fd, into: bytes) }
            }
            let count: Int?
            switch outcome {
            case .failure(let error): return finish(id, ok: false, detail: Self.text(error.errno))
            case .success(let read): count = read
            }
            guard let count else { return nil }
            received += buffer[..<count]
            if let status = Self.statusCode(received) {
                guard status > 0 else { return finish(id, ok: false, detail: "not an HTTP answer") }
                return finish(id, ok: (200..<400).contains(status), detail: "HTTP \(status)")
            }
            if count == 0 || received.count > 8192 {
                return finish(id, ok: false, detail: "no HTTP answer")
            }
            probes[id]?.step = .reading(fd: fd, received: received)
            return nil
        case .running(let pid, let pidfd):
            let termination: Termination
            do throws(SystemCallError) {
                guard let ended = try Syscalls.waitPidfd(pidfd, pid: pid, noHang: true) else { return nil }
                termination = Termination(ended)
            } catch {
                // Someone else's waitpid took its status: it ended, how is unknown.
                return finish(id, ok: false, detail: "its status was taken by another reaper", commandEnded: true)
            }
            // What the command started goes with it.
            _ = try? Syscalls.killProcessGroup(pid, SIGKILL)
            switch termination {
            case .exited(code: 0): return finish(id, ok: true, commandEnded: true)
            case .exited(let code): return finish(id, ok: false, detail: "exit status \(code)", commandEnded: true)
            default: return finish(id, ok: false, detail: "\(termination)", commandEnded: true)
            }
        case .reaping(let pid, let pidfd):
            if case .success(nil) = Swift.Result(catching: { () throws(SystemCallError) in
                try Syscalls.waitPidfd(pidfd, pid: pid, noHang: true)
            }) {
                return nil
            }
            Syscalls.close(pidfd)
            probes[id] = nil
            return nil
        }
    }

    /// Fails every probe past its deadline (a probe command is `SIGKILL`ed, its group too).
    func expire(now: ContinuousClock.Instant) -> [Finding] {
        var results: [Finding] = []
        for (id, probing) in probes where now >= probing.deadline {
            if case .reaping = probing.step { continue }
            results.append(finish(id, ok: false, detail: "no answer within \(probing.timeout.secondsText)"))
        }
        return results.sorted { $0.slot < $1.slot }
    }

    /// Whether `pid` is a probe command that has not been reaped yet (the orphan reaper must
    /// leave it to its pidfd).
    func owns(_ pid: pid_t) -> Bool {
        probes.values.contains { probing in
            switch probing.step {
            case .running(let probePid, _), .reaping(let probePid, _): return probePid == pid
            default: return false
            }
        }
    }

    /// Ends every probe: sockets closed, probe commands `SIGKILL`ed and reaped.
    func cancelAll() {
        for id in Array(probes.keys) {
            _ = finish(id, ok: false, detail: "cancelled")
            if case .reaping(let pid, let pidfd)? = probes[id]?.step {
                _ = try? Syscalls.waitPidfd(pidfd, pid: pid, noHang: false)
                Syscalls.close(pidfd)
            }
            probes[id] = nil
        }
    }

    /// Ends probe `id` with its result; closes its socket, or (unless `commandEnded`) kills its
    /// command's group and keeps it to reap.
    private func finish(_ id: Int, ok: Bool, detail: String = "", commandEnded: Bool = false) -> Finding {
        let probing = probes[id]
        switch probing?.step {
        case .connecting(let fd, _)?, .sending(let fd, _)?, .reading(let fd, _)?:
            Syscalls.close(fd)
            probes[id] = nil
        case .running(let pid, let pidfd)?:
            if commandEnded {
                Syscalls.close(pidfd)
                probes[id] = nil
            } else {
                _ = try? Syscalls.killProcessGroup(pid, SIGKILL)
                probes[id]?.step = .reaping(pid: pid, pidfd: pidfd)
            }
        case .reaping?, nil:
            break
        }
        return Finding(
            slot: probing?.slot ?? -1, generation: probing?.generation ?? -1, purpose: probing?.purpose ?? .readiness,
            ok: ok, detail: ok ? "" : "\(probing?.target ?? "probe"): \(detail)")
    }

    private enum Connection {
        case success(CInt)
        case failure(String)
    }

    private static func connect(host: String, port: String) -> Connection {
        guard let number = UInt16(port), number > 0 else { return .failure("'\(port)' is not a port") }
        guard let address = SocketAddress(host: host, port: number) else {
            return .failure("'\(host)' is not an IP address or localhost")
        }
        do {
            let (fd, _) = try Syscalls.connectNonBlocking(address)
            // Connected or not, the poll for writing says when to look at SO_ERROR.
            return .success(fd)
        } catch {
            return .failure(text(error.errno))
        }
    }

    /// The status code of an HTTP status line (`HTTP/1.1 200 OK`), once the line is complete.
    private static func statusCode(_ bytes: [UInt8]) -> Int? {
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: bytes[..<end], as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else { return 0 }
        return code
    }

    /// `connection refused`: an errno as a probe's detail.
    private static func text(_ errno: Errno) -> String {
        let description = errno.description
        return description.prefix(1).lowercased() + description.dropFirst()
    }
}
