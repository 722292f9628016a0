import CorralEngine
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in demo: an HTTP server whose workers share one listening socket bound by the main
/// process, and a ticker extra process. SIGINT drains open connections; SIGTERM closes them at
/// once, so the two stops look different.
public enum DemoServer {
    /// The name the listening socket is handed down under.
    public static let socketName = "http"
    /// How long a SIGINT drain waits for open connections before closing them.
    public static let drainLimit = Duration.seconds(5)

    /// Why a demo worker could not start.
    public struct DemoError: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The demo worker body: init (half a second, visible), serve until a stop signal, shut
    /// down according to it.
    public static func worker(_ worker: WorkerContext, _ shared: DemoShared) async throws {
        worker.setStatus("loading")
        try await Task.sleep(for: .milliseconds(shared.initMilliseconds))
        guard let socket = worker.socket(named: socketName) else {
            throw DemoError(description: "no inherited socket named \(socketName)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = ConnectionTracker()
        let requests = RequestCounter()
        let index = worker.index
        let pid = getpid()
        // Every worker accepts from the one socket the main process bound; the accept loop runs
        // on its own thread and hands each connection to the event loop.
        let acceptor = try AcceptLoop(listener: socket) { connection in
            _ = ClientBootstrap(group: group)
                .channelInitializer { channel in
                    connections.add(channel)
                    return channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(
                            DemoHTTPHandler(index: index, pid: pid, requests: requests))
                    }
                }
                .withConnectedSocket(connection)
        }
        let address = "http://\(shared.host):\(shared.port)/"
        DemoOutput.line("worker \(index) (pid \(pid)) serving on \(address)")
        let reporter = Task {
            while !Task.isCancelled {
                worker.setStatus(
                    "serving on \(address) · \(Self.count(requests.value, "request")) · \(connections.count) open")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let signal = try await worker.waitForStop()
        reporter.cancel()
        await acceptor.stop()
        if signal == .interrupt {
            let deadline = ContinuousClock.now + drainLimit
            while connections.count > 0 && ContinuousClock.now < deadline {
                worker.setStatus("SIGINT: draining \(connections.count) open connections")
                try? await Task.sleep(for: .milliseconds(50))
            }
            DemoOutput.line("worker \(index) drained (\(Self.count(requests.value, "request")) served)")
        } else {
            DemoOutput.line("worker \(index) closing \(connections.count) connections at once (\(signal))")
        }
        connections.closeAll()
        try await group.shutdownGracefully()
    }

    /// The demo's extra process: logs a line a second until the server stops.
    public static func ticker(_ extra: ExtraContext) throws {
        var ticks = 0
        while extra.stopToken.wait(timeout: .seconds(1)) == nil {
            ticks += 1
            DemoOutput.line("tick \(ticks)")
            extra.setStatus("\(ticks) ticks")
        }
        DemoOutput.line("ticker stopping (\(extra.stopToken.signal.map(\.name) ?? "stop"))")
    }

    /// `1 request`, `2 requests`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
