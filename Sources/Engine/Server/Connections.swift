import SystemPackage

/// The connections accepted on an inherited listening socket, for a worker that serves
/// without an I/O framework: accepted (non-blocking, close-on-exec) on a thread of its own, in
/// order, as an `AsyncSequence`. ``stop()`` stops accepting; the connections accepted before it
/// are still delivered, then the sequence ends, so a worker that stops this way drops none.
/// With a socket shared by several workers, each connection goes to one of them. Cancelling
/// the task that iterates also ends it, but the connections accepted and not delivered yet are
/// closed unanswered: stop first.
public final class Connections: AsyncSequence, Sendable {
    /// Each element is one accepted connection, the caller's to close.
    public typealias Element = FileDescriptor
    public typealias AsyncIterator = AsyncThrowingStream<FileDescriptor, any Error>.AsyncIterator

    private let stream: AsyncThrowingStream<FileDescriptor, any Error>
    private let wakeup: Wakeup

    /// Starts accepting from `listener`.
    /// - Throws: ``SupervisorError/system(_:)`` when the accepting thread cannot start.
    public init(on listener: FileDescriptor) throws(SupervisorError) {
        do {
            wakeup = try Wakeup()
        } catch {
            throw .system(error)
        }
        let (stream, continuation) = AsyncThrowingStream<FileDescriptor, any Error>.makeStream()
        self.stream = stream
        let wakeup = self.wakeup
        do {
            try DetachedThread.start {
                do throws(SystemCallError) {
                    while let connection = try Listener.accept(from: listener, wakeup: wakeup) {
                        if case .terminated = continuation.yield(FileDescriptor(rawValue: connection)) {
                            Syscalls.close(connection)
                            break
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: SupervisorError.system(error))
                }
            }
        } catch {
            continuation.finish()
            throw .system(error)
        }
        continuation.onTermination = { _ in wakeup.poke() }
    }

    /// Stops accepting: what was accepted before is still delivered, then the sequence ends.
    public func stop() { wakeup.poke() }

    public func makeAsyncIterator() -> AsyncIterator { stream.makeAsyncIterator() }
}
