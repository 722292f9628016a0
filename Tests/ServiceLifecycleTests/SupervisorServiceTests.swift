import CorralEngine
import CorralServiceLifecycle
import CorralTestSupport
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import UnixSignals

/// The supervisor as a `Service` inside a real `ServiceGroup`, on real processes.
@Suite("The supervisor as a ServiceLifecycle service", .serialized, .processExclusive)
struct SupervisorServiceTests {
    /// Engine events gathered from the service's `onEvent`, and a way to wait for one.
    final class Events: Sendable {
        private let state = Mutex<[EngineEvent]>([])

        var all: [EngineEvent] { state.withLock { $0 } }

        func append(_ event: EngineEvent) { state.withLock { $0.append(event) } }

        /// Waits (up to 10 s) until `condition` holds for the events so far.
        func wait(until condition: ([EngineEvent]) -> Bool) async throws -> Bool {
            for _ in 0..<1000 {
                if condition(all) { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        func running(_ count: Int) -> ([EngineEvent]) -> Bool {
            { events in
                events.filter { if case .stateChanged(_, .running, _) = $0 { true } else { false } }.count == count
            }
        }

        /// How each slot's process ended.
        var terminations: [Int: Termination] {
            var ends: [Int: Termination] = [:]
            for case .exited(let slot, _, let end, _) in all { ends[slot] = end.termination }
            return ends
        }
    }

    /// Whether this process has a child left (running or zombie).
    static func hasChildren() -> Bool {
        var info = siginfo_t()
        return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0
    }

    static func service(
        _ events: Events, command: [String], signals: SupervisorService.Signals = .handledBySupervisor
    ) -> SupervisorService {
        SupervisorService(
            SupervisorConfiguration(workers: 2, worker: .command(command), waitTimeout: .seconds(30)),
            signals: signals
        ) { events.append($0) }
    }

    /// The signals the supervisor sent, with why.
    static func sent(_ events: Events) -> [(Signal, SignalReason)] {
        events.all.compactMap { event -> (Signal, SignalReason)? in
            if case .signalSent(_, _, let signal, let reason, _) = event { return (signal, reason) }
            return nil
        }
    }

    @Test("signals handled by the supervisor: SIGINT to the process is forwarded to every worker")
    func signalsHandledBySupervisor() async throws {
        let events = Events()
        // The server ends by itself here (the signal stopped it): that ends the group.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(
                        service: Self.service(events, command: ["sleep", "1000"]),
                        successTerminationBehavior: .gracefullyShutdownGroup)
                ], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await events.wait(until: events.running(2)))
            kill(getpid(), SIGINT)
            try await tasks.waitForAll()
        }
        #expect(Self.sent(events).map(\.0) == [.interrupt, .interrupt])
        #expect(Self.sent(events).allSatisfy { $0.1 == .forward })
        #expect(!Self.hasChildren())
    }

    @Test(
        "signals left to the ServiceGroup: its graceful-shutdown signal stops the server with the default stop signal")
    func signalsLeftToServiceGroup() async throws {
        let events = Events()
        let service = Self.service(events, command: ["sleep", "1000"], signals: .leftToServiceGroup)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm],
                logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await events.wait(until: events.running(2)))
            // No handler of the supervisor's: the group's own turns SIGTERM into a graceful shutdown
            // (a supervisor handling it would forward it, with the reason "forward").
            kill(getpid(), SIGTERM)
            try await tasks.waitForAll()
        }
        #expect(Self.sent(events).map(\.0) == [.terminate, .terminate])
        #expect(Self.sent(events).allSatisfy { $0.1 == .stopCommand })
        guard case .stopped(let report)? = events.all.last else {
            Issue.record("no stopped event last")
            return
        }
        #expect(report.exitStatus == 0)
        #expect(!Self.hasChildren())
    }

    @Test("the group's graceful shutdown stops the server with the default stop signal; run returns")
    func gracefulShutdown() async throws {
        let events = Events()
        let group = ServiceGroup(
            services: [Self.service(events, command: ["sleep", "1000"])], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await events.wait(until: events.running(2)))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let terminated = Termination.signaled(.terminate, coreDumped: false)
        #expect(events.terminations == [0: terminated, 1: terminated])
        guard case .stopped(let report)? = events.all.last else {
            Issue.record("no stopped event last: \(String(describing: events.all.last))")
            return
        }
        #expect(report.exitStatus == 0)
        #expect(!Self.hasChildren())
    }

    @Test("cancelling the group's task force-kills every process group at once")
    func cancellation() async throws {
        let events = Events()
        // Workers that ignore SIGTERM and SIGINT: only SIGKILL ends them before the 30 s timeout.
        let service = Self.service(events, command: ["sh", "-c", "trap '' TERM INT; while :; do sleep 1; done"])
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        #expect(try await events.wait(until: events.running(2)))
        running.cancel()
        await #expect(throws: (any Error).self) { try await running.value }
        let killed = Termination.signaled(.kill, coreDumped: false)
        #expect(events.terminations == [0: killed, 1: killed])
        // Killed on command, not by the wait timeout, and nothing was sent before.
        let sent = events.all.compactMap { event -> (Signal, SignalReason)? in
            if case .signalSent(_, _, let signal, let reason, _) = event { return (signal, reason) }
            return nil
        }
        #expect(sent.map(\.0) == [.kill, .kill])
        #expect(sent.allSatisfy { $0.1 == .command })
        #expect(!Self.hasChildren())
    }
}
