/// A consumer of engine events: a log, a recorder, a metrics sink. Every call comes on the
/// driver thread, in order; a front end must not block it.
///
/// A front end is an object (the driver keeps the one it is given, so what it gathers is there
/// to read after the run). To send commands to a running supervisor, use
/// ``Supervisor/start(outputLimit:)`` and ``SupervisorHandle/send(_:)``.
public protocol Frontend: AnyObject {
    /// Called for every engine event, in order.
    func handle(_ event: EngineEvent)

    /// Called for every engine event, in order, with the instant it happened at: for
    /// ``EngineEvent/spawned(slot:pid:kind:generation:)``, an instant before the process started
    /// (children are spawned on other threads, and their events come after). By default
    /// ``handle(_:)``.
    func handle(_ event: EngineEvent, at instant: ContinuousClock.Instant)
}

extension Frontend {
    /// Calls ``handle(_:)``: a front end that does not measure time needs no instant.
    public func handle(_ event: EngineEvent, at instant: ContinuousClock.Instant) {
        handle(event)
    }
}
