import Glibc
import Synchronization

/// A Swift worker's event loop: a task executor whose jobs run on the thread that calls
/// ``run(signals:onSignals:until:)`` (the worker's main thread), which between jobs also reads
/// the stop-signal pipe. As with the asyncio loop of an aiotools worker, one thread runs the
/// body and what it awaits, its child tasks included (unless they choose another executor);
/// a worker that needs no other thread starts and stops without creating one.
final class WorkerLoop: TaskExecutor {
    private struct Queue {
        var jobs: [UnownedJob] = []
        /// The loop is about to wait, or waits, in `poll`: a new job must wake it.
        var sleeping = false
    }

    private let queue = Mutex(Queue())
    private let wakeDescriptor: CInt

    /// A loop with nothing queued.
    init() throws(SystemCallError) {
        wakeDescriptor = try Syscalls.eventCounter()
    }

    deinit { Syscalls.close(wakeDescriptor) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let mustWake = queue.withLock { queue in
            queue.jobs.append(job)
            defer { queue.sleeping = false }
            return queue.sleeping
        }
        if mustWake { Syscalls.incrementEventCounter(wakeDescriptor) }
    }

    /// Runs queued jobs on the calling thread, handing the signals read from `signals` (and
    /// whether the supervisor sent them) to `onSignals` (checked between batches of jobs, and
    /// waited for when there is nothing to run), until `isFinished` returns true with no job
    /// queued.
    func run(
        signals: SignalPipe, onSignals: ([(signal: Signal, fromMarkedSender: Bool)]) -> Void,
        until isFinished: () -> Bool
    ) throws(SystemCallError) {
        var watched = [
            pollfd(fd: signals.readDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let executor = asUnownedTaskExecutor()
        while true {
            let batch = queue.withLock { queue in
                var taken: [UnownedJob] = []
                swap(&taken, &queue.jobs)
                queue.sleeping = taken.isEmpty
                return taken
            }
            for job in batch { job.runSynchronously(on: executor) }
            if batch.isEmpty, isFinished() { return }
            _ = try Syscalls.poll(&watched, timeoutMilliseconds: batch.isEmpty ? -1 : 0)
            if watched[1].revents != 0 { Syscalls.resetEventCounter(wakeDescriptor) }
            if watched[0].revents != 0 { onSignals(signals.drainDeliveries()) }
        }
    }
}
