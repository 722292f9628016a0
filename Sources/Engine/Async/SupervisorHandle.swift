import Synchronization

/// A supervisor running on its own thread, for programs built on Swift concurrency: its events
/// as an `AsyncStream`, a way to send it commands from any task or thread, and its report.
/// Made by ``Supervisor/start(outputLimit:)``, or scoped by ``Supervisor/run(outputLimit:_:)``.
///
/// Keep the handle for as long as the run should go on: when the last reference to it goes, the
/// run stops as ``SupervisorCommand/stop`` stops it (the stop signal, `SIGKILL` after the wait
/// timeout), so nothing it started outlives it unwatched.
public final class SupervisorHandle: Sendable {
    /// Every engine event, in order, ending after ``EngineEvent/stopped(_:)`` (or when the run
    /// could not start). Read it from one task. A reader that falls behind loses output lines
    /// past the start's `outputLimit` (counted in ``droppedOutputLines``), never a state change.
    public let events: AsyncStream<EngineEvent>
    private let run: RunOutcome
    private let queue: EventQueue
    private let inbox: CommandInbox

    init(queue: EventQueue, inbox: CommandInbox, run: RunOutcome) {
        self.queue = queue
        self.inbox = inbox
        self.run = run
        events = AsyncStream(unfolding: { await queue.next() })
    }

    deinit {
        if !run.hasEnded { inbox.send(.stop) }
    }

    /// Sends `command` to the supervisor; it acts on it on its own thread. Never blocks. A
    /// command sent after the run ended is ignored.
    public func send(_ command: SupervisorCommand) {
        inbox.send(command)
    }

    /// Output lines dropped because ``events`` was not read fast enough.
    public var droppedOutputLines: Int { queue.droppedOutputLines }

    /// Waits for the run to end and returns its report. Cancelling the waiting task stops the
    /// run as ``SupervisorCommand/stop`` does; the call then returns the report of that stop
    /// (bounded by the wait timeout), so a cancelled caller never leaves children behind.
    /// - Throws: what ``Supervisor/run()`` throws.
    public func report() async throws(SupervisorError) -> SupervisorReport {
        let inbox = inbox
        let result = await withTaskCancellationHandler {
            await run.wait()
        } onCancel: {
            inbox.send(.stop)
        }
        return try result.get()
    }

    /// The run's end, waited for whatever happens to the calling task.
    func outcome() async -> Result<SupervisorReport, SupervisorError> { await run.wait() }
}

/// The end of a run, shared by its driver thread (which sets it once) and its handle (which
/// waits for it): the driver never keeps the handle alive.
final class RunOutcome: Sendable {
    private enum State {
        case running([CheckedContinuation<Result<SupervisorReport, SupervisorError>, Never>])
        case ended(Result<SupervisorReport, SupervisorError>)
    }

    private let state = Mutex<State>(.running([]))

    /// Whether the run has returned or thrown.
    var hasEnded: Bool {
        state.withLock { state in
            if case .ended = state { return true }
            return false
        }
    }

    /// Suspends until the run has ended.
    func wait() async -> Result<SupervisorReport, SupervisorError> {
        await withCheckedContinuation { continuation in
            let ended: Result<SupervisorReport, SupervisorError>? = state.withLock { state in
                switch state {
                case .running(var waiters):
                    waiters.append(continuation)
                    state = .running(waiters)
                    return nil
                case .ended(let result):
                    return result
                }
            }
            if let ended { continuation.resume(returning: ended) }
        }
    }

    /// Called once, on the driver's thread, when the run has returned or thrown.
    func finish(_ result: Result<SupervisorReport, SupervisorError>) {
        let waiters = state.withLock { state in
            defer { state = .ended(result) }
            if case .running(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }
}
