import Glibc

/// What a synchronous extra process polls or blocks on to learn that the server is stopping.
public final class StopToken: @unchecked Sendable {
    private let descriptor: CInt
    private let latch: StopLatch

    init(descriptor: CInt, latch: StopLatch) {
        self.descriptor = descriptor
        self.latch = latch
    }

    /// The stop signal, once one arrived (checks without blocking).
    public var signal: Signal? {
        _ = wait(timeout: .zero)
        return latch.signal
    }

    /// Whether a stop signal arrived (checks without blocking).
    public var isStopRequested: Bool { signal != nil }

    /// Blocks until a stop signal arrives (or `timeout` passes; nil waits forever).
    /// Returns the signal, or nil on timeout.
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Signal? {
        if let signal = latch.signal { return signal }
        var milliseconds: CInt = -1
        if let timeout {
            milliseconds = CInt(clamping: max(0, timeout.milliseconds()))
        }
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        if (try? Syscalls.poll(&fds, timeoutMilliseconds: milliseconds)) ?? 0 > 0 {
            var byte: UInt8 = 0
            let count = withUnsafeMutableBytes(of: &byte) { try? Syscalls.read(descriptor, into: $0) }
            if let count = count ?? nil, count == 1 { latch.fire(Signal(rawValue: CInt(byte))) }
        }
        return latch.signal
    }
}
