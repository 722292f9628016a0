import CorralEngine
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// `--metrics HOST:PORT`: an HTTP server on a SwiftNIO event loop of its own (never the
/// supervisor's thread) answering `GET /metrics` with the registry in Prometheus's text format and
/// `GET /healthz` with `200 ok` while the server runs, `503` while it starts or stops. A scraper
/// cannot hold corral's descriptors: at most ``connectionLimit`` connections at a time (more are
/// closed at once), each closed after ``idleLimit`` without a request.
final class MetricsEndpoint: Sendable {
    /// Connections served at a time.
    static let connectionLimit = 64
    /// How long a connection may stay without a request.
    static let idleLimit = TimeAmount.seconds(30)

    /// The registry `/metrics` shows.
    let registry: PrometheusCollectorRegistry
    /// The address it listens on (the port the system chose for port 0).
    let address: String
    private let answers: Answers
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Binds `host`:`port` and serves; throws when the address cannot be bound.
    init(host: String, port: Int, registry: PrometheusCollectorRegistry) throws {
        self.registry = registry
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let answers = Answers(registry: registry)
        self.answers = answers
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard answers.admit() else { return channel.close() }
                    channel.closeFuture.whenComplete { _ in answers.release() }
                    return channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandlers(
                            IdleStateHandler(allTimeout: Self.idleLimit), MetricsHTTPHandler(answers: answers))
                    }
                }
                .bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MetricsAddressError(Self.explain(error, port: port))
        }
        let bound = channel.localAddress
        address = "\(bound?.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? host):\(bound?.port ?? port)"
    }

    /// What went wrong binding the address, in the words `--listen` uses.
    private static func explain(_ error: any Error, port: Int) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return "port \(port) is in use; choose another"
            case EADDRNOTAVAIL: return "no interface of this machine has that address"
            case EACCES: return "not allowed to listen on port \(port) (below 1024 needs privileges)"
            default: return "cannot listen: \(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))"
            }
        }
        if let unknown = error as? SocketAddressError.UnknownHost {
            return
                "unknown host \(unknown.host) (\(unknown.errorDescription)): give an IP address"
        }
        if case .unknown(let host, _) = error as? SocketAddressError {
            return "unknown host \(host): give an IP address"
        }
        return "cannot listen: \(error)"
    }

    /// The server's state, for `/healthz`.
    func serverStateChanged(_ new: ServerState) { answers.state.withLock { $0 = new } }

    /// Closes the socket and ends the event loop's thread.
    func finish() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// What each path answers: shared by the connections.
    final class Answers: Sendable {
        let registry: PrometheusCollectorRegistry
        /// The server's state, as the supervisor's thread last said it.
        let state = Mutex(ServerState.starting)
        private let open = Mutex(0)

        /// Counts a new connection in, unless ``MetricsEndpoint/connectionLimit`` are open.
        func admit() -> Bool {
            open.withLock { count in
                guard count < MetricsEndpoint.connectionLimit else { return false }
                count += 1
                return true
            }
        }

        /// A connection admitted closed.
        func release() { open.withLock { $0 -= 1 } }

        init(registry: PrometheusCollectorRegistry) { self.registry = registry }

        /// The status, content type and body for a `GET` of `path`.
        func answer(_ path: Substring) -> (HTTPResponseStatus, String, [UInt8]) {
            switch path {
            case "/metrics":
                return (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
            case "/healthz":
                let now = state.withLock { $0 }
                return now == .running
                    ? (.ok, "text/plain; charset=utf-8", Array("ok\n".utf8))
                    : (.serviceUnavailable, "text/plain; charset=utf-8", Array("\(now)\n".utf8))
            default:
                return (
                    .notFound, "text/plain; charset=utf-8",
                    Array("not found: corral serves /metrics and /healthz\n".utf8)
                )
            }
        }
    }
}

/// One connection's requests to ``MetricsEndpoint``.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let answers: MetricsEndpoint.Answers
    private var head: HTTPRequestHead?

    init(answers: MetricsEndpoint.Answers) { self.answers = answers }

    /// A connection idle past ``MetricsEndpoint/idleLimit`` is closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, to: head)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        var body: [UInt8]
        if request.method == .GET || request.method == .HEAD {
            let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let type: String
            (status, type, body) = answers.answer(path)
            headers.add(name: "Content-Type", value: type)
        } else {
            status = .methodNotAllowed
            body = Array("only GET and HEAD\n".utf8)
            headers.add(name: "Allow", value: "GET, HEAD")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: String(body.count))
        if request.method == .HEAD { body = [] }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil)
        if !body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
