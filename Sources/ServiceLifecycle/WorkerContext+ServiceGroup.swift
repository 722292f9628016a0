import CorralEngine
import ServiceLifecycle

extension WorkerContext {
    /// Runs `group` as this worker's body (a Hummingbird or NIO application, say): reports the
    /// worker ready as the group starts, and triggers the group's graceful shutdown on the first
    /// stop signal. Returns that signal once the group has shut down, or nil if the group ended
    /// by itself (which the supervisor sees as the worker ending unasked).
    ///
    /// Build the group without `gracefulShutdownSignals`: the worker's stop signals are handled
    /// by the worker runtime and arrive here.
    /// - Throws: what the group's run throws (after the stop signal: a shutdown failure).
    @discardableResult
    public func run(_ group: ServiceGroup) async throws -> Signal? {
        let stopper = Task {
            let signal = try await waitForStop()
            await group.triggerGracefulShutdown()
            return signal
        }
        do {
            try await group.run()
        } catch {
            stopper.cancel()
            throw error
        }
        return receivedStopSignals.first
    }
}
