/// A server of Swift workers, aiotools' `start_server` for Swift: the same binary runs as the
/// supervisor (calling `main` once) and, re-executed by it, as each worker (calling `worker`)
/// and each Swift extra process.
///
/// Code before ``run(sharing:main:worker:)`` runs outside the supervisor too (as with Python's
/// multiprocessing "spawn"): once in the zygote that forks the workers (``SpawnStrategy/zygote``,
/// the default) or in every worker (``SpawnStrategy/exec``). Keep it to building the
/// configuration, the same way every time, and start no threads there.
public struct Server: Sendable {
    /// The configuration for the supervisor (the worker program defaults to this binary).
    public var configuration: SupervisorConfiguration

    /// A server with `configuration`.
    public init(configuration: SupervisorConfiguration) {
        self.configuration = configuration
    }

    /// In the supervisor: installs the stop-signal handlers, runs `main` once and returns what
    /// it returns, restoring the signal handlers and mask afterwards. `main` gets a
    /// ``Launcher``: code before calling it is the main init, code after it the main shutdown.
    ///
    /// In a worker (this binary re-executed by the supervisor): runs `worker` for the slot and
    /// exits the process; never returns. The body initializes, calls
    /// ``WorkerContext/waitForStop()`` (reporting ready) and shuts down according to the signal
    /// it returns. Throwing before that call is an init failure (exit code 3), after it a
    /// shutdown failure (exit code 4). The body runs on the worker's main thread, which is its
    /// event loop (child tasks included; `Task.detached` and other executors remain available).
    public func run<Shared: Codable & Sendable, Result>(
        sharing: Shared.Type,
        main: (Launcher<Shared>) throws -> Result,
        worker: @escaping @Sendable (WorkerContext, Shared) async throws -> Void
    ) throws -> Result {
        ZygoteRuntime.serveIfZygote()
        if let role = try ChildRole.detect() {
            switch role.kind {
            case .worker:
                WorkerRuntime.runWorker(role, sharing: Shared.self, worker)
            case .extra:
                let offset = role.index - role.workerCount
                guard configuration.extras.indices.contains(offset),
                    case .swift(let body) = configuration.extras[offset].body
                else {
                    throw SupervisorError.badWorkerEnvironment("no Swift extra process at index \(role.index)")
                }
                WorkerRuntime.runExtra(role, body)
            }
        }
        do {
            try configuration.validate()
        } catch {
            throw SupervisorError.invalidConfiguration(error)
        }
        let signals = try SignalPipe.forSupervisor(configuration.watchedSignals)
        defer { signals.restore() }
        return try main(Launcher(configuration: configuration, signals: signals))
    }

    /// A server with no main init/shutdown and nothing shared: runs the workers and returns the
    /// report (in the supervisor), or runs `worker` and exits (in a worker).
    public func run(worker: @escaping @Sendable (WorkerContext) async throws -> Void) throws -> SupervisorReport {
        try run(sharing: NoSharedValue.self, main: { launch in try launch(NoSharedValue()) }) { context, _ in
            try await worker(context)
        }
    }
}
