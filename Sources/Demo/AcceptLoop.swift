import CorralEngine
import NIOPosix
import SystemPackage

/// Accepts connections from a listening socket shared with the other workers, on a thread of
/// its own, until stopped. (NIO's own server channel assumes it owns its socket: with several
/// processes accepting from one socket, a readable socket may have nothing left to accept.)
final class AcceptLoop: Sendable {
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let wakeup: Wakeup

    /// Starts accepting from `listener`, calling `handle` with each new connection.
    init(listener: FileDescriptor, handle: @escaping @Sendable (CInt) -> Void) throws {
        wakeup = try Wakeup()
        pool.start()
        let wakeup = self.wakeup
        pool.submit { _ in
            while let connection = try? Listener.accept(from: listener, wakeup: wakeup) {
                handle(connection)
            }
        }
    }

    /// Stops accepting; connections already accepted stay open.
    func stop() async {
        wakeup.poke()
        try? await pool.shutdownGracefully()
    }
}
