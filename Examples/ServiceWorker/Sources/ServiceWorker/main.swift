// Two worker processes, each running a ServiceGroup with a SwiftNIO HTTP server on the one
// listening socket the main process bound. The first stop signal (Ctrl-C or SIGTERM) becomes
// the group's graceful shutdown in every worker. Run: swift run ServiceWorker;
// curl http://127.0.0.1:8082/
import CorralEngine
import CorralServiceLifecycle
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SystemPackage

/// An HTTP server on an inherited listening socket, as a Service: serves until the group's
/// graceful shutdown, then stops accepting. The socket is shared by every worker, so it is
/// accepted from with `Connections` (NIO's server channel expects a socket of its own)
/// and each connection is handed to NIO.
struct HTTPService: Service {
    let socket: SystemPackage.FileDescriptor
    let index: Int

    func run() async throws {
        let index = index
        let connections = try Connections(on: socket)
        // Graceful shutdown stops accepting; what was accepted already is still served.
        try await withGracefulShutdownHandler {
            for try await connection in connections {
                _ = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelInitializer { channel in
                        channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                            try channel.pipeline.syncOperations.addHandler(Greeter(index: index))
                        }
                    }
                    .withConnectedSocket(connection.rawValue).get()
            }
        } onGracefulShutdown: {
            connections.stop()
        }
    }
}

/// Answers every request with the worker's index.
final class Greeter: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let index: Int

    init(index: Int) { self.index = index }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = "hello from worker \(index)\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

let server = Server(configuration: SupervisorConfiguration(workers: 2, waitTimeout: .seconds(10)))

let report = try server.run(sharing: NoSharedValue.self) { launch in
    let listener = try Listener.tcp(host: "127.0.0.1", port: 8082)
    defer { Listener.close(listener) }
    return try launch(NoSharedValue(), sockets: ["http": listener])
} worker: { worker, _ in
    guard let socket = worker.socket(named: "http") else { return }
    let http = HTTPService(socket: socket, index: worker.index)
    let group = ServiceGroup(services: [http], logger: Logger(label: "worker.\(worker.index)"))
    let signal = try await worker.run(group)
    print("worker \(worker.index) shut down gracefully on \(signal.map(\.description) ?? "its own")")
}
print(report)
exit(report.exitStatus)
