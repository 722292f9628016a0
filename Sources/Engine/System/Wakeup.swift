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

    /// Makes ``readDescriptor`` readable (for good: it is never drained).
    package func poke() {
        let byte: [UInt8] = [1]
        byte.withUnsafeBytes { _ = try? Syscalls.writeAll(writeDescriptor, $0) }
    }

    deinit {
        Syscalls.close(readDescriptor)
        Syscalls.close(writeDescriptor)
    }
}
