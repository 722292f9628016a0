import Synchronization

/// Commands sent from any thread to the driver's thread: queued under a lock, and an eventfd
/// counter wakes the driver's `poll()`, which takes them all. Closed when the run ends: later
/// commands are ignored, and the counter's descriptor is not held past the run.
final class CommandInbox: Sendable {
    private struct Pending {
        var commands: [SupervisorCommand] = []
        var closed = false
    }

    /// The eventfd the driver polls.
    let descriptor: CInt
    private let state = Mutex(Pending())

    init() throws(SystemCallError) {
        descriptor = try Syscalls.eventCounter()
    }

    /// Queues `command` and wakes the driver; never blocks. Ignored once closed.
    func send(_ command: SupervisorCommand) {
        state.withLock { state in
            guard !state.closed else { return }
            state.commands.append(command)
            Syscalls.incrementEventCounter(descriptor)
        }
    }

    /// Closes the counter; commands sent from now on are ignored.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            state.commands.removeAll()
            Syscalls.close(descriptor)
        }
    }

    /// Resets the counter and returns the queued commands, oldest first.
    func take() -> [SupervisorCommand] {
        state.withLock { state in
            guard !state.closed else { return [] }
            Syscalls.resetEventCounter(descriptor)
            defer { state.commands.removeAll() }
            return state.commands
        }
    }
}
