import Glibc
import Testing

@testable import CorralEngine

/// `WorkerContext.waitForStop()` in-process: the first stop signal, and task cancellation.
@Suite("waitForStop")
struct WaitForStopTests {
    func context() -> WorkerContext {
        WorkerContext(
            index: 0, workerCount: 1, stopSignals: [.terminate], sockets: [:], notify: nil, latch: StopLatch())
    }

    @Test("returns the first stop signal, also one that arrived before the call")
    func firstSignal() async throws {
        let worker = context()
        worker.latch.fire(.interrupt)
        worker.latch.fire(.terminate)
        #expect(try await worker.waitForStop() == .interrupt)
    }

    @Test("a cancelled waiting task gets CancellationError at once; a later signal still reaches others")
    func cancellation() async throws {
        let worker = context()
        let waiting = Task { try await worker.waitForStop() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        let second = Task { try await worker.waitForStop() }
        worker.latch.fire(.terminate)
        #expect(try await second.value == .terminate)
    }

    @Test("a task cancelled before the call throws without reporting ready")
    func cancelledBefore() async throws {
        let worker = context()
        let waiting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await worker.waitForStop()
        }
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(!worker.hasAwaitedStop, "throwing before the wait is an init failure")
    }
}
