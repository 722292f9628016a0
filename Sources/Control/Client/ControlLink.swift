import CorralEngine
import Glibc
import SystemPackage

/// A client's connection to a corral's control socket: lines in, lines out. The server must be
/// this user's or root's (checked with `SO_PEERCRED`), so a socket planted by someone else is
/// never trusted.
package final class ControlLink {
    /// The socket path.
    package let path: String
    /// The connection.
    package let descriptor: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// Connects to `path`.
    package init(path: String) throws(ControlLinkError) {
        self.path = path
        let connection: FileDescriptor
        do {
            connection = try UnixStream.connect(path: path)
        } catch {
            switch error.errno {
            case .connectionRefused: throw .stale(path)
            case .noSuchFileOrDirectory, .notDirectory: throw .missing(path)
            default: throw .failed("cannot connect to \(path): \(error)")
            }
        }
        guard let server = try? UnixStream.peer(of: connection), server.uid == geteuid() || server.uid == 0 else {
            UnixStream.close(connection)
            throw .failed("\(path) is not served by your user or root: not trusted")
        }
        descriptor = connection
    }

    deinit { UnixStream.close(descriptor) }

    /// Sends one line.
    package func send(_ line: String) throws(ControlLinkError) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var sent = 0
        while sent < bytes.count {
            do {
                let count = try bytes.withUnsafeBytes { raw in
                    try UnixStream.send(descriptor, UnsafeRawBufferPointer(rebasing: raw[sent...]))
                }
                if count == 0 { _ = try UnixStream.waitWritable([descriptor], milliseconds: 1000) }
                sent += count
            } catch {
                throw .failed("the corral at \(path) went away: \(error)")
            }
        }
    }

    /// The next whole line, waiting up to `timeout` (nil: as long as it takes); nil at the end
    /// of the connection or when the time ran out (``timedOut`` tells which).
    package func nextLine(timeout: Duration?) throws(ControlLinkError) -> ArraySlice<UInt8>? {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        timedOut = false
        while true {
            if let line = takeLine() { return line }
            if atEnd { return nil }
            var wait: CInt = -1
            if let deadline {
                let left = clock.now.duration(to: deadline)
                if left <= .zero {
                    timedOut = true
                    return nil
                }
                wait = CInt(min(left / .milliseconds(1) + 1, 60_000))
            }
            do {
                guard try UnixStream.waitReadable(descriptor, milliseconds: wait) else { continue }
            } catch {
                throw .failed("waiting for \(path): \(error)")
            }
            try readAvailable()
        }
    }

    /// Whether the last ``nextLine(timeout:)`` ran out of time.
    package private(set) var timedOut = false

    /// Reads what is there without waiting (call when the descriptor is readable); at the end
    /// of the connection, ``isFinished`` turns true once every line was taken.
    package func readAvailable() throws(ControlLinkError) {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let count: Int?
        do {
            count = try chunk.withUnsafeMutableBytes { raw in try UnixStream.receive(descriptor, into: raw) }
        } catch {
            throw .failed("reading from \(path): \(error)")
        }
        guard let count else { return }
        if count == 0 {
            atEnd = true
            return
        }
        if start > 0 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: chunk[..<count])
    }

    /// The connection has ended and every line was taken.
    package var isFinished: Bool { atEnd && !buffer[start...].contains(UInt8(ascii: "\n")) }

    /// The next whole line already read, if any.
    package func takeLine() -> ArraySlice<UInt8>? {
        guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = buffer[start..<newline]
        start = newline + 1
        return line
    }
}

/// Why a control connection failed.
package enum ControlLinkError: Error, CustomStringConvertible {
    /// Nothing is at the path.
    case missing(String)
    /// A socket is there but nothing listens: its corral was killed.
    case stale(String)
    /// Anything else, said in full.
    case failed(String)

    package var description: String {
        switch self {
        case .missing(let path): return "no control socket at \(path)"
        case .stale(let path): return "nothing answers at \(path): its corral is gone"
        case .failed(let text): return text
        }
    }
}
