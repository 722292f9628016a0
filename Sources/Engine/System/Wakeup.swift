import Glibc

/// A self-pipe one thread can poll and another can poke: for stopping a blocking loop (an
/// accept loop) from outside.
package final class Wakeup: Sendable {
    /// The end to poll.
    package let readDescriptor: CInt
    private let writeDescriptor: CInt

    /// A new, unpoked wakeup.
    package init() throws(SystemCallError) {
        (readDescriptor, writeDescriptor) = try Syscalls.pipe(nonBlocking: true)
    }

    /// Makes ``readDescriptor`` readable (until ``drain()``).
    package func poke() {
        let byte: [UInt8] = [1]
        byte.withUnsafeBytes { _ = try? Syscalls.writeAll(writeDescriptor, $0) }
    }

    /// Takes every poke back: the read end is not readable until the next poke.
    package func drain() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        defer { buffer.deallocate() }
        while let count = try? Syscalls.read(readDescriptor, into: buffer), count > 0 {}
    }

    /// Waits until it is poked, or `milliseconds` have passed.
    package func wait(milliseconds: CInt) {
        var fds = [pollfd(fd: readDescriptor, events: Int16(POLLIN), revents: 0)]
        _ = try? Syscalls.poll(&fds, timeoutMilliseconds: milliseconds)
    }

    deinit {
        Syscalls.close(readDescriptor)
        Syscalls.close(writeDescriptor)
    }
}
