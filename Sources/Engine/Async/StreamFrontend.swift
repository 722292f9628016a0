import SystemPackage

/// The front end behind ``SupervisorHandle``: queues every event for the async consumer (see
/// ``EventQueue`` for what it keeps) and hands the driver the commands sent through the handle.
final class StreamFrontend: PollingFrontend {
    private let events: EventQueue
    private let inbox: CommandInbox

    init(events: EventQueue, inbox: CommandInbox) {
        self.events = events
        self.inbox = inbox
    }

    var descriptors: [FileDescriptor] { [FileDescriptor(rawValue: inbox.descriptor)] }

    func handle(_ event: EngineEvent) {
        events.push(event)
    }

    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        readable.contains(FileDescriptor(rawValue: inbox.descriptor)) ? inbox.take() : []
    }
}
