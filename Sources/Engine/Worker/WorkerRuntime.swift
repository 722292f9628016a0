import Dispatch
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs the child side of a Swift worker or extra process, then exits the process with a code
/// that tells the supervisor what happened (``WorkerExitCode``).
enum WorkerRuntime {
    /// Runs `body` for the worker `role`: decodes the shared value, installs the stop-signal
    /// handlers, runs the body in a task with ``WorkerContext/current`` set, and exits.
    static func runWorker<Shared: Decodable & Sendable>(
        _ role: ChildRole, sharing: Shared.Type,
        _ body: @escaping @Sendable (WorkerContext, Shared) async throws -> Void
    ) -> Never {
        let shared: Shared
        do {
            shared = try decode(Shared.self, from: role.sharedJSON)
        } catch {
            fail(role, phase: "init", "cannot decode the shared value: \(error)", code: WorkerExitCode.setupFailure)
        }
        let (source, latch) = installStopSignals(role)
        let watcher = DispatchSource.makeReadSource(fileDescriptor: source.readDescriptor, queue: .global())
        watcher.setEventHandler {
            for signal in source.drain() { latch.fire(signal) }
        }
        watcher.resume()
        let context = WorkerContext(
            index: role.index, workerCount: role.workerCount, stopSignals: role.stopSignals, sockets: role.sockets,
            notify: role.notify, latch: latch)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let result: Result<Void, any Error>
            do {
                try await WorkerContext.$current.withValue(context) { try await body(context, shared) }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        switch outcome.withLock({ $0 }) {
        case .failure(let error):
            if context.hasAwaitedStop {
                fail(role, phase: "shutdown", "\(error)", code: WorkerExitCode.shutdownFailure)
            }
            fail(role, phase: "init", "\(error)", code: WorkerExitCode.initFailure)
        case .success, nil:
            exit(WorkerExitCode.success)
        }
    }

    /// Runs the synchronous body of the extra process `role` with a ``StopToken``, and exits.
    static func runExtra(_ role: ChildRole, _ body: @Sendable (ExtraContext) throws -> Void) -> Never {
        let (source, latch) = installStopSignals(role)
        try? role.notify?.ready()
        let context = ExtraContext(
            index: role.index, stopToken: StopToken(descriptor: source.readDescriptor, latch: latch),
            notify: role.notify)
        do {
            try body(context)
        } catch {
            fail(role, phase: "run", "\(error)", code: 1)
        }
        exit(WorkerExitCode.success)
    }

    private static func installStopSignals(_ role: ChildRole) -> (SignalPipe, StopLatch) {
        do {
            return (try SignalPipe.forSupervisor(role.stopSignals), StopLatch())
        } catch {
            fail(
                role, phase: "init", "cannot install stop-signal handlers: \(error)", code: WorkerExitCode.setupFailure)
        }
    }

    private static func decode<Shared: Decodable>(_ type: Shared.Type, from json: String?) throws -> Shared {
        // Nothing shared: no JSON decoding on the worker's start-up path.
        if let empty = NoSharedValue() as? Shared { return empty }
        guard let json else {
            throw SupervisorError.badWorkerEnvironment("\(ChildEnvironment.shared) is missing")
        }
        return try JSONDecoder().decode(Shared.self, from: Data(json.utf8))
    }

    /// Reports the failure on stderr and as the status text, then exits with `code`.
    private static func fail(_ role: ChildRole, phase: String, _ message: String, code: CInt) -> Never {
        let line = "\(role.kind) \(role.index): \(phase) failed: \(message)"
        try? role.notify?.status(line)
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { try? Syscalls.writeAll(STDERR_FILENO, $0) }
        exit(code)
    }
}

/// The shared value of a server that shares nothing.
public struct NoSharedValue: Codable, Sendable, Hashable {
    /// The empty value.
    public init() {}
}
