import SystemPackage

/// Runs a server's children with a configuration and returns how they ended: the engine's entry
/// point for command workers, and what ``Server`` uses underneath for Swift workers.
///
/// Synchronous by design: it takes over the calling thread for a `poll()` loop, installs
/// handlers for the stop signals for the duration of the run, and restores the caller's handlers
/// and signal mask when it returns or throws. One supervisor runs per process at a time.
public struct Supervisor: Sendable {
    /// The configuration this supervisor runs.
    public let configuration: SupervisorConfiguration
    /// Whether the run handles the process's stop, terminating and command signals (true), or
    /// leaves them to its host (a `ServiceGroup`), which stops it with commands.
    package var handlesSignals = true

    /// A supervisor for `configuration` (validated when ``run()`` is called).
    public init(_ configuration: SupervisorConfiguration) {
        self.configuration = configuration
    }

    /// Starts the watchdog the process's first run will take, ahead of that run, so that its
    /// start overlaps the caller's own (corral's argument parsing). One that no run takes is
    /// told to go and reaped at the process's exit.
    package static func startWatchdogEarly() { Watchdog.startEarly() }

    /// Runs until every child has ended, logging events to the configuration's logger.
    public func run() throws(SupervisorError) -> SupervisorReport {
        try run(frontend: LogFrontend(logger: configuration.logger))
    }

    /// Runs until every child has ended, with events going to `frontend`.
    /// - Throws: ``SupervisorError/invalidConfiguration(_:)`` before anything is spawned;
    ///   ``SupervisorError/spawnFailed(_:)`` after the children already started were stopped.
    public func run(frontend: some Frontend) throws(SupervisorError) -> SupervisorReport {
        try run(payload: LaunchPayload(), signals: nil, frontend: frontend)
    }

    /// Runs until every child has ended, handing `sockets` to every child (and every later
    /// generation) in systemd's convention: descriptors 3, 4, … in this order, `LISTEN_FDS`,
    /// `LISTEN_FDNAMES`, `LISTEN_PID`. The sockets stay the caller's to close.
    public func run(sockets: [ListeningSocket], frontend: some Frontend) throws(SupervisorError)
        -> SupervisorReport
    {
        try run(
            payload: LaunchPayload(sockets: sockets.map { ($0.name, $0.descriptor.rawValue) }), signals: nil,
            frontend: frontend)
    }

    /// As ``run(sockets:frontend:)``, for the package's own front ends, which the driver also
    /// polls: known as such here, with no look-up of the conformance at run time.
    package func run(sockets: [ListeningSocket], frontend: some PollingFrontend) throws(SupervisorError)
        -> SupervisorReport
    {
        try run(
            payload: LaunchPayload(sockets: sockets.map { ($0.name, $0.descriptor.rawValue) }), signals: nil,
            frontend: frontend, polling: frontend)
    }

    func run(
        payload: LaunchPayload, signals: SignalPipe?, frontend: any Frontend
    ) throws(SupervisorError) -> SupervisorReport {
        try run(payload: payload, signals: signals, frontend: frontend, polling: frontend as? any PollingFrontend)
    }

    private func run(
        payload: LaunchPayload, signals: SignalPipe?, frontend: any Frontend, polling: (any PollingFrontend)?
    ) throws(SupervisorError) -> SupervisorReport {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        var configuration = configuration
        if !handlesSignals { configuration.commandSignals = [:] }
        let source: SignalPipe
        if let signals {
            source = signals
        } else {
            source = try SignalPipe.forSupervisor(
                handlesSignals ? configuration.watchedSignals : configuration.reapingSignals)
        }
        defer { if signals == nil { source.restore() } }
        let driver = try SupervisorDriver(
            configuration: configuration, payload: payload, signals: source, frontend: frontend, polling: polling)
        return try driver.run()
    }
}
