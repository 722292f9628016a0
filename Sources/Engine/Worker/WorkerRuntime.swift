import FoundationEssentials
import Glibc
import Synchronization

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
        SignalPipe.markSender(ZygoteRuntime.supervisorPid)
        let (signals, latch) = installStopSignals(role)
        let context = WorkerContext(
            index: role.index, workerCount: role.workerCount, stopSignals: role.stopSignals, sockets: role.sockets,
            notify: role.notify, latch: latch)
        let outcome: Result<Void, any Error>
        do {
            outcome = try run(context, signals: signals) { try await body(context, shared) }
        } catch {
            fail(role, phase: "init", "the worker's event loop failed: \(error)", code: WorkerExitCode.setupFailure)
        }
        switch outcome {
        case .failure(let error):
            if context.hasAwaitedStop {
                fail(role, phase: "shutdown", "\(error)", code: WorkerExitCode.shutdownFailure)
            }
            fail(role, phase: "init", "\(error)", code: WorkerExitCode.initFailure)
        case .success:
            end(WorkerExitCode.success)
        }
    }

    /// Runs `body` in a task on a new ``WorkerLoop`` driven by this thread, with `context` as
    /// ``WorkerContext/current`` and the signals read from `signals` fired on its latch;
    /// returns how the body ended.
    private static func run(
        _ context: WorkerContext, signals: SignalPipe, _ body: @escaping @Sendable () async throws -> Void
    ) throws(SystemCallError) -> Result<Void, any Error> {
        let loop = try WorkerLoop()
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        Task(executorPreference: loop) {
            let result: Result<Void, any Error>
            do {
                try await WorkerContext.$current.withValue(context) { try await body() }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
        }
        try loop.run(
            signals: signals,
            onSignals: {
                for delivery in $0 { context.latch.fire(delivery.signal, fromSupervisor: delivery.fromMarkedSender) }
            },
            until: { outcome.withLock { $0 != nil } })
        return outcome.withLock { $0 } ?? .success(())
    }

    /// Goes once through a worker's start-up and shutdown, in the zygote and with no supervisor:
    /// parses a worker's variables, installs the handlers for `stopSignals`, runs on a
    /// ``WorkerLoop`` a body that reports ready (to a socket of its own) and is stopped by a
    /// stop signal it sends itself, and puts everything back. The Swift runtime builds type
    /// metadata and looks up conformances on first use; done here, every forked worker
    /// inherits the results instead of redoing them (they were a quarter of a forked worker's
    /// start-up CPU). Starts no thread.
    static func rehearse(stopSignals: [Signal]) {
        guard let socket = try? NotifySocket() else { return }
        defer { socket.close() }
        let values = [
            ChildEnvironment.role: ChildKind.worker.rawValue, ChildEnvironment.processIndex: "0",
            ChildEnvironment.workerCount: "1", ChildEnvironment.supervisorPid: "1",
            ChildEnvironment.stopSignals: stopSignals.map { String($0.rawValue) }.joined(separator: ","),
            ChildEnvironment.notifySocket: socket.address,
        ]
        guard let role = try? ChildRole.parse({ values[$0] }, process: 2, parent: 1),
            let signals = try? SignalPipe(signals: role.stopSignals)
        else { return }
        defer { signals.restore() }
        let context = WorkerContext(
            index: role.index, workerCount: role.workerCount, stopSignals: role.stopSignals, sockets: role.sockets,
            notify: role.notify, latch: StopLatch())
        let stopSignal = role.stopSignals[0]
        _ = try? run(context, signals: signals) {
            async let stop = context.waitForStop()
            await Task.yield()
            // A real delivery: the handler, the pipe, the loop's drain and the latch.
            try? Syscalls.kill(getpid(), stopSignal.rawValue)
            _ = try? await stop
        }
        fflush(nil)
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
        end(WorkerExitCode.success)
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
        end(code)
    }

    /// Ends the process with `code`. A child the zygote forked flushes stdio and leaves with
    /// `_exit`, as Python's multiprocessing does in forked children: the exit handlers and
    /// library destructors `exit` would run belong to the zygote's image (and faulting their
    /// pages in, in every worker, was most of a worker's stop time).
    private static func end(_ code: CInt) -> Never {
        guard ZygoteRuntime.isForkedChild else { exit(code) }
        fflush(nil)
        _exit(code)
    }
}

/// The shared value of a server that shares nothing.
public struct NoSharedValue: Codable, Sendable, Hashable {
    /// The empty value.
    public init() {}
}
