import NIOCore
import NIOHTTP1

/// Answers every HTTP request with the worker's index and pid, so a person sees the load spread.
final class DemoHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let index: Int
    private let pid: Int32
    private let requests: RequestCounter
    private var head: HTTPRequestHead?

    init(index: Int, pid: Int32, requests: RequestCounter) {
        self.index = index
        self.pid = pid
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            respond(context: context, to: head)
            self.head = nil
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let count = requests.next()
        let body = "Hello from worker \(index) (pid \(pid)), request \(count)\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "X-Corral-Worker", value: String(index))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: .ok, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
        DemoOutput.line("\(request.method) \(request.uri) -> 200 (request \(count))")
    }
}
