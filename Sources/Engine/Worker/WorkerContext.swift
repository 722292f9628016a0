import Synchronization
import SystemPackage

/// What a Swift worker body knows about its slot, and its one suspension point:
/// ``waitForStop()``. Available in every task of the worker as ``current``.
public final class WorkerContext: Sendable {
    /// The worker's slot, 0-based (aiotools' `process_index`).
    public let index: Int
    /// How many workers the server runs.
    public let workerCount: Int
    /// The signals that stop the server.
    public let stopSignals: [Signal]
    /// Listening sockets the main process handed down, by name (systemd's `LISTEN_FDNAMES`).
    public let sockets: [String: FileDescriptor]

    /// The context of the worker this task runs in, or nil outside a worker.
    @TaskLocal public static var current: WorkerContext?

    let notify: NotifyClient?
    let latch: StopLatch
    private let awaitedStop = Atomic(false)

    init(
        index: Int, workerCount: Int, stopSignals: [Signal], sockets: [String: CInt], notify: NotifyClient?,
        latch: StopLatch
    ) {
        self.index = index
        self.workerCount = workerCount
        self.stopSignals = stopSignals
        self.sockets = sockets.mapValues(FileDescriptor.init(rawValue:))
        self.notify = notify
        self.latch = latch
    }

    /// Marks the end of init: reports `READY=1`, then suspends until a stop signal arrives and
    /// returns it. Code before this call is the worker's init, code after it its shutdown.
    /// A stop signal that arrived during init is returned at once. A signal that did not come
    /// from the supervisor (an operator's `kill`) is reported with `STOPPING=1`; one the
    /// supervisor sent needs no report.
    /// - Throws: `CancellationError` when the calling task is cancelled before a stop signal
    ///   arrives (before the call: nothing is reported, and the throw is an init failure).
    public func waitForStop() async throws(CancellationError) -> Signal {
        if Task.isCancelled, latch.signal == nil { throw CancellationError() }
        awaitedStop.store(true, ordering: .sequentiallyConsistent)
        try? notify?.ready()
        guard let signal = await latch.wait() else { throw CancellationError() }
        if !latch.firstCameFromSupervisor { try? notify?.stopping() }
        return signal
    }

    /// Sets the status text the supervisor shows for this worker (`STATUS=`).
    public func setStatus(_ text: String) {
        try? notify?.status(text)
    }

    /// Every stop signal delivered to this worker so far, in order; the first is the one
    /// ``waitForStop()`` returned.
    public var receivedStopSignals: [Signal] { latch.received }

    /// The inherited listening socket named `name`, or nil.
    public func socket(named name: String) -> FileDescriptor? { sockets[name] }

    /// Whether the body has reached ``waitForStop()`` (a throw after it is a shutdown failure).
    var hasAwaitedStop: Bool { awaitedStop.load(ordering: .sequentiallyConsistent) }
}
