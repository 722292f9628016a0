import Synchronization

/// A supervisor running on its own thread, for programs built on Swift concurrency: its events
/// as an `AsyncStream`, a way to send it commands from any task or thread, and its report.
/// Made by ``Supervisor/start(outputLimit:)``.
public final class SupervisorHandle: Sendable {
    /// Every engine event, in order, ending after ``EngineEvent/stopped(_:)`` (or when the run
    /// could not start). Read it from one task. A reader that falls behind loses output lines
    /// past the start's `outputLimit` (counted in ``droppedOutputLines``), never a state change.
    public let events: AsyncStream<EngineEvent>
    private let queue: EventQueue
    private let inbox: CommandInbox
    private let outcome = Mutex<Outcome>(.running([]))

    private enum Outcome {
        case running([CheckedContinuation<Result<SupervisorReport, SupervisorError>, Never>])
        case ended(Result<SupervisorReport, SupervisorError>)
    }

    init(queue: EventQueue, inbox: CommandInbox) {
        self.queue = queue
        self.inbox = inbox
        events = AsyncStream(unfolding: { await queue.next() })
    }

    /// Sends `command` to the supervisor; it acts on it on its own thread. Never blocks. A
    /// command sent after the run ended is ignored.
    public func send(_ command: SupervisorCommand) {
        inbox.send(command)
    }

    /// Output lines dropped because ``events`` was not read fast enough.
    public var droppedOutputLines: Int { queue.droppedOutputLines }

    /// Waits for the run to end and returns its report.
    /// - Throws: what ``Supervisor/run()`` throws.
    public func report() async throws(SupervisorError) -> SupervisorReport {
        let result = await withCheckedContinuation { continuation in
            let ended: Result<SupervisorReport, SupervisorError>? = outcome.withLock { outcome in
                switch outcome {
                case .running(var waiters):
                    waiters.append(continuation)
                    outcome = .running(waiters)
                    return nil
                case .ended(let result):
                    return result
                }
            }
            if let ended { continuation.resume(returning: ended) }
        }
        return try result.get()
    }

    /// Called once, on the driver's thread, when the run has returned or thrown.
    func finish(_ result: Result<SupervisorReport, SupervisorError>) {
        inbox.close()
        queue.finish()
        let waiters = outcome.withLock { outcome in
            defer { outcome = .ended(result) }
            if case .running(let waiters) = outcome { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }
}

extension Supervisor {
    /// Starts the run on a thread of its own and returns at once: the async face of ``run()``,
    /// with the same signal handling (the stop signals are handled for the whole process while
    /// it runs). At most `outputLimit` output lines wait unread in ``SupervisorHandle/events``.
    /// - Throws: ``SupervisorError/system(_:)`` when the thread or its command channel cannot be
    ///   made; everything else arrives through ``SupervisorHandle/report()``.
    public func start(outputLimit: Int = 65_536) throws(SupervisorError) -> SupervisorHandle {
        let inbox: CommandInbox
        do {
            inbox = try CommandInbox()
        } catch {
            throw .system(error)
        }
        let queue = EventQueue(outputLimit: max(0, outputLimit))
        let handle = SupervisorHandle(queue: queue, inbox: inbox)
        let supervisor = self
        do {
            try DetachedThread.start {
                var frontend = StreamFrontend(events: queue, inbox: inbox)
                let result = Result { () throws(SupervisorError) in try supervisor.run(frontend: &frontend) }
                handle.finish(result)
            }
        } catch {
            throw .system(error)
        }
        return handle
    }
}
