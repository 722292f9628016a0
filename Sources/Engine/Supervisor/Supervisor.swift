/// Runs a server's children with a configuration and returns how they ended: the engine's entry
/// point for command workers, and what ``Server`` uses underneath for Swift workers.
///
/// Synchronous by design: it takes over the calling thread for a `poll()` loop, installs
/// handlers for the stop signals for the duration of the run, and restores the caller's handlers
/// and signal mask when it returns or throws. One supervisor runs per process at a time.
public struct Supervisor: Sendable {
    /// The configuration this supervisor runs.
    public let configuration: SupervisorConfiguration

    /// A supervisor for `configuration` (validated when ``run()`` is called).
    public init(_ configuration: SupervisorConfiguration) {
        self.configuration = configuration
    }

    /// Runs until every child has ended, logging events to the configuration's logger.
    public func run() throws(SupervisorError) -> SupervisorReport {
        var frontend = LogFrontend(logger: configuration.logger)
        return try run(frontend: &frontend)
    }

    /// Runs until every child has ended, with events going to `frontend`.
    /// - Throws: ``SupervisorError/invalidConfiguration(_:)`` before anything is spawned;
    ///   ``SupervisorError/spawnFailed(_:)`` after the children already started were stopped.
    public func run<F: Frontend>(frontend: inout F) throws(SupervisorError) -> SupervisorReport {
        try run(payload: LaunchPayload(), signals: nil, frontend: &frontend)
    }

    /// Runs until every child has ended, handing `sockets` to every child (and every later
    /// generation) in systemd's convention: descriptors 3, 4, … in this order, `LISTEN_FDS`,
    /// `LISTEN_FDNAMES`, `LISTEN_PID`. The sockets stay the caller's to close.
    public func run<F: Frontend>(sockets: [ListeningSocket], frontend: inout F) throws(SupervisorError)
        -> SupervisorReport
    {
        try run(
            payload: LaunchPayload(sockets: sockets.map { ($0.name, $0.descriptor.rawValue) }), signals: nil,
            frontend: &frontend)
    }

    func run<F: Frontend>(
        payload: LaunchPayload, signals: SignalPipe?, frontend: inout F
    ) throws(SupervisorError) -> SupervisorReport {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        let source: SignalPipe
        if let signals {
            source = signals
        } else {
            source = try SignalPipe.forSupervisor(configuration.watchedSignals)
        }
        defer { if signals == nil { source.restore() } }
        let driver = try SupervisorDriver(
            configuration: configuration, payload: payload, signals: source, frontend: frontend)
        let (report, finalFrontend) = try driver.run()
        frontend = finalFrontend
        return report
    }
}
