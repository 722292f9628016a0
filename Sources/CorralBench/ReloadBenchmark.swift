import CorralEngine
import Foundation
import Synchronization
import SystemPackage

/// `reload`: 64 Swift workers answering HTTP on one shared socket; a client on loopback sends
/// requests one after another throughout a rolling reload (new before old, one slot at a
/// time): the reload's total time, and how many requests failed (the goal: none).
enum ReloadBenchmark {
    /// Asks for the reload once everything runs; stops the server when it is done.
    final class Reloader: PollingFrontend {
        var startedAt: ContinuousClock.Instant?
        var doneAt: ContinuousClock.Instant?
        var outcome: ReloadProgress?
        /// The load, stopped when the reload is over (before the server stops).
        var load: Load?
        var counts: (ok: Int, failed: Int)?
        private var wanted = false
        private var asked = false

        var nextDeadline: ContinuousClock.Instant? { wanted && !asked ? .now : nil }

        func handle(_ event: EngineEvent) {
            switch event {
            case .serverStateChanged(.running) where !asked: wanted = true
            case .reload(.started): startedAt = .now
            case .reload(let progress):
                doneAt = .now
                outcome = progress
                counts = load?.finish()
                kill(getpid(), SIGTERM)
            default: break
            }
        }

        func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
            guard wanted, !asked else { return [] }
            asked = true
            return [.reload]
        }
    }

    /// Requests in a loop on a thread of its own until stopped.
    final class Load: @unchecked Sendable {
        private let stopped = Atomic(false)
        private let finished = Atomic(false)
        private let counts = Mutex((ok: 0, failed: 0))
        private let done = DispatchSemaphore(value: 0)

        init(port: Int) {
            Thread.detachNewThread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    let ok = Self.get(port: port)
                    counts.withLock { ok ? ($0.ok += 1) : ($0.failed += 1) }
                }
                done.signal()
            }
        }

        func finish() -> (ok: Int, failed: Int) {
            stopped.store(true, ordering: .relaxed)
            if !finished.exchange(true, ordering: .relaxed) { done.wait() }
            return counts.withLock { $0 }
        }

        static func get(port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else { return false }
            let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
                return false
            }
            var reply = [UInt8](repeating: 0, count: 64)
            let count = recv(fd, &reply, reply.count, 0)
            guard count >= 12 else { return false }
            let status = String(decoding: reply[0..<12], as: UTF8.self)
            return status == "HTTP/1.0 200" || status == "HTTP/1.1 200"
        }
    }

    static func run(workers: Int, runs: Int) throws {
        var durations = Samples()
        var requests = 0
        var failed = 0
        for _ in 0..<runs {
            let listener = try Listener.tcp(host: "127.0.0.1", port: 0)
            defer { Listener.close(listener) }
            guard let port = Listener.port(of: listener) else { throw BenchmarkError(description: "no port") }
            let configuration = LifecycleBenchmark.configuration(workers: workers, command: false)
            let reloader = Reloader()
            reloader.load = Load(port: port)
            _ = try Supervisor(configuration).run(
                sockets: [ListeningSocket(name: "http", descriptor: listener)], frontend: reloader)
            let counts = reloader.counts ?? reloader.load?.finish() ?? (0, 0)
            guard let started = reloader.startedAt, let done = reloader.doneAt, case .done? = reloader.outcome else {
                throw BenchmarkError(
                    description: "the reload did not complete: \(String(describing: reloader.outcome))")
            }
            durations.add(milliseconds(started, done))
            requests += counts.ok + counts.failed
            failed += counts.failed
        }
        emit([
            "scenario": "reload", "workers": workers, "runs": runs, "reload_ms": durations.summary,
            "requests": requests, "failed_requests": failed,
            "method": "Swift workers answering HTTP/1.0 on one shared socket (Connections); one client "
                + "on loopback sending requests one after another from start to stop; reload (batch 1) timed "
                + "from started to done",
        ])
    }
}
