import Glibc
import SystemPackage

/// A consumer of engine events that may send commands back: the dashboard, the headless log,
/// the JSON-lines writer, a test's recorder. All calls come on the driver thread, in order.
public protocol Frontend {
    /// Descriptors the driver should poll for this front end (e.g. the terminal). Default none.
    var descriptors: [FileDescriptor] { get }
    /// Descriptors the front end waits to be writable (its output is backed up); the driver
    /// polls them for `POLLOUT` and wakes the front end when one is. Default none.
    var writeDescriptors: [FileDescriptor] { get }
    /// The earliest time the front end wants to be woken (a redraw, a countdown). Default nil.
    var nextDeadline: ContinuousClock.Instant? { get }
    /// Called for every engine event, in order.
    mutating func handle(_ event: EngineEvent)
    /// Called once per driver iteration, after the events of that iteration were handled, with the
    /// front end's descriptors that are readable; returns commands for the engine.
    mutating func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand]
}

extension Frontend {
    /// None by default.
    public var descriptors: [FileDescriptor] { [] }
    /// None by default.
    public var writeDescriptors: [FileDescriptor] { [] }
    /// None by default.
    public var nextDeadline: ContinuousClock.Instant? { nil }
    /// No commands by default.
    public mutating func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        []
    }
}
