import CorralEngine
import ServiceLifecycle

/// A supervisor as a swift-service-lifecycle `Service`, to run beside other services in a
/// `ServiceGroup`: `run()` starts the server on its own thread and returns when every child has
/// ended. The group's graceful shutdown stops the server as ``SupervisorCommand/stop`` does
/// (the default stop signal, then `SIGKILL` after the wait timeout); cancelling the task
/// force-kills every process group at once.
///
/// Who handles the process's signals is a choice (``Signals``): by default the supervisor
/// handles its own stop signals while it runs (a stop signal stops the server, and then this
/// service ends) — leave them out of the group's `gracefulShutdownSignals`; with
/// ``Signals/leftToServiceGroup`` it installs no signal handler at all, and the group's
/// `gracefulShutdownSignals` (and `cancellationSignals`) stop it through the group.
public struct SupervisorService: Service {
    /// Who handles the stop signals the process receives.
    public enum Signals: Sendable, Hashable {
        /// The supervisor, while it runs: the configuration's stop signals are forwarded to the
        /// children as by ``Supervisor/run()``, and its command signals (reload, scale) work.
        case handledBySupervisor
        /// The `ServiceGroup`: the supervisor installs no handler; the group's graceful shutdown
        /// stops the server with the default stop signal, its cancellation force-kills it.
        case leftToServiceGroup
    }

    /// The supervisor this service runs.
    public let supervisor: Supervisor
    private let onEvent: @Sendable (EngineEvent) async -> Void

    /// A service running `configuration`; `onEvent` gets every engine event, in order (the
    /// supervisor never waits for it: see ``SupervisorHandle/events``). `signals`: who handles
    /// the process's stop signals (``Signals/handledBySupervisor`` by default).
    public init(
        _ configuration: SupervisorConfiguration, signals: Signals = .handledBySupervisor,
        onEvent: @escaping @Sendable (EngineEvent) async -> Void = { _ in }
    ) {
        var supervisor = Supervisor(configuration)
        supervisor.handlesSignals = signals == .handledBySupervisor
        self.supervisor = supervisor
        self.onEvent = onEvent
    }

    /// Runs the server until every child has ended.
    /// - Throws: ``SupervisorError`` when the run could not start or a child could not be
    ///   spawned; ``SupervisorServiceFailure`` when the server ended with a non-zero exit
    ///   status (a failure, or a force-kill).
    public func run() async throws {
        let handle = try supervisor.start()
        // Not a child task: after a cancellation, the force-kill's events are still delivered.
        let forwarding = Task { [onEvent] in
            for await event in handle.events { await onEvent(event) }
        }
        let report = try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                await forwarding.value
                return try await handle.report()
            } onGracefulShutdown: {
                handle.send(.stop)
            }
        } onCancel: {
            handle.send(.forceKill(.all))
        }
        if report.exitStatus != 0 { throw SupervisorServiceFailure(report: report) }
    }
}

/// The server a ``SupervisorService`` ran ended with a non-zero exit status.
public struct SupervisorServiceFailure: Error, Sendable, CustomStringConvertible {
    /// How the run ended.
    public let report: SupervisorReport

    /// A one-line description for logs and reports.
    public var description: String { report.description }
}
