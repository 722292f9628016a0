import Foundation
import Synchronization

/// HTTP requests to a server on 127.0.0.1, one after another on a thread of its own until
/// stopped, counting the ones that failed: the load the reload benchmark and the reload tests
/// put on a server while it is replaced.
package final class LoopbackLoad: @unchecked Sendable {
    /// The port the requests go to.
    package let port: Int
    private let stopped = Atomic(false)
    private let finished = Atomic(false)
    private let counts = Mutex((ok: 0, failed: 0))
    private let done = DispatchSemaphore(value: 0)

    /// Starts sending requests to 127.0.0.1:`port`.
    package init(port: Int) {
        self.port = port
        Thread.detachNewThread { [self] in
            while !stopped.load(ordering: .relaxed) {
                let ok = Self.get(port: port)
                counts.withLock { ok ? ($0.ok += 1) : ($0.failed += 1) }
            }
            done.signal()
        }
    }

    /// Stops the loop (once; later calls return the same counts): how many requests succeeded
    /// and failed.
    package func finish() -> (ok: Int, failed: Int) {
        stopped.store(true, ordering: .relaxed)
        if !finished.exchange(true, ordering: .relaxed) { done.wait() }
        return counts.withLock { $0 }
    }

    /// A TCP connection to 127.0.0.1:`port` whose reads give up after 5 s; nil if it cannot be
    /// made. The caller closes it.
    package static func connect(port: Int) -> CInt? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            return nil
        }
        return fd
    }

    /// One HTTP/1.0 GET to 127.0.0.1:`port` with a 5 s limit: whether a 200 came back.
    package static func get(port: Int) -> Bool {
        guard let fd = connect(port: port) else { return false }
        defer { close(fd) }
        let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            return false
        }
        var reply = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &reply, reply.count, 0)
        guard count >= 12 else { return false }
        let status = String(decoding: reply[0..<12], as: UTF8.self)
        return status == "HTTP/1.0 200" || status == "HTTP/1.1 200"
    }
}
