import SystemPackage

/// A front end the driver also polls: descriptors to watch (a terminal, a control socket, a
/// command channel), a deadline to be woken at, and commands it hands back when woken. The
/// package's own front ends (the dashboard, the headless writers, the control server, the
/// async handle) are polling front ends; the plumbing is not part of the public API.
package protocol PollingFrontend: Frontend {
    /// Descriptors the driver should poll for this front end (e.g. the terminal). Default none.
    var descriptors: [FileDescriptor] { get }
    /// Descriptors the front end waits to be writable (its output is backed up); the driver
    /// polls them for `POLLOUT` and wakes the front end when one is. Default none.
    var writeDescriptors: [FileDescriptor] { get }
    /// The earliest time the front end wants to be woken (a redraw, a countdown). Default nil.
    var nextDeadline: ContinuousClock.Instant? { get }
    /// Whether the front end cannot take more output now (its queue is full): the driver stops
    /// reading the children's output until it can (the children wait, as for a slow terminal).
    /// The front end makes one of its ``descriptors`` readable when it can again. Default false.
    var holdsOutput: Bool { get }
    /// Called once per driver iteration, after the events of that iteration were handled, with the
    /// front end's descriptors that are readable; returns commands for the engine.
    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand]
}

extension PollingFrontend {
    /// None by default.
    package var descriptors: [FileDescriptor] { [] }
    /// None by default.
    package var writeDescriptors: [FileDescriptor] { [] }
    /// None by default.
    package var nextDeadline: ContinuousClock.Instant? { nil }
    /// Never by default.
    package var holdsOutput: Bool { false }
    /// No commands by default.
    package func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] { [] }
}
