extension Supervisor {
    /// Starts the run on a thread of its own and returns at once: the async face of ``run()``,
    /// with the same signal handling (the stop signals are handled for the whole process while
    /// it runs). At most `outputLimit` output lines wait unread in ``SupervisorHandle/events``.
    /// - Throws: ``SupervisorError/invalidConfiguration(_:)`` before anything starts;
    ///   ``SupervisorError/system(_:)`` when the thread or its command channel cannot be made.
    ///   Everything later arrives through ``SupervisorHandle/report()``.
    public func start(outputLimit: Int = 65_536) throws(SupervisorError) -> SupervisorHandle {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        let inbox: CommandInbox
        do {
            inbox = try CommandInbox()
        } catch {
            throw .system(error)
        }
        let queue = EventQueue(outputLimit: max(0, outputLimit))
        let outcome = RunOutcome()
        let handle = SupervisorHandle(queue: queue, inbox: inbox, run: outcome)
        let supervisor = self
        do {
            try DetachedThread.start {
                let frontend = StreamFrontend(events: queue, inbox: inbox)
                let result = Result { () throws(SupervisorError) in try supervisor.run(frontend: frontend) }
                inbox.close()
                queue.finish()
                outcome.finish(result)
            }
        } catch {
            throw .system(error)
        }
        return handle
    }

    /// Runs the server for the length of `body`: starts it, hands `body` its handle, and when
    /// `body` returns or throws, stops the server (``SupervisorCommand/stop``: the stop signal,
    /// `SIGKILL` after the wait timeout) and waits until every child has ended. Like
    /// swift-subprocess's `run { execution in }`, nothing the run started outlives the call.
    ///
    /// ```swift
    /// let (_, report) = try await supervisor.run { handle in
    ///     for await event in handle.events { print(event) }   // until the run ends
    /// }
    /// ```
    /// - Returns: what `body` returned, and the run's report.
    /// - Throws: what ``start(outputLimit:)`` throws; what `body` throws (after the stop); a
    ///   ``SupervisorError`` the run ended with.
    public func run<Value>(
        outputLimit: Int = 65_536, _ body: (SupervisorHandle) async throws -> Value
    ) async throws -> (value: Value, report: SupervisorReport) {
        let handle = try start(outputLimit: outputLimit)
        let value: Value
        do {
            value = try await body(handle)
        } catch {
            handle.send(.stop)
            _ = await handle.outcome()
            throw error
        }
        handle.send(.stop)
        return (value, try await handle.outcome().get())
    }
}
