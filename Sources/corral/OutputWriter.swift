#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes whole lines to a descriptor (standard output). Lines are gathered and written together
/// at ``flush()`` (the front ends flush once per driver iteration) or when 64 KiB are waiting, so
/// a flood of child output costs one `write` per batch, not per line; lines never interleave
/// mid-line. A closed reader (`EPIPE`) makes it stop writing quietly.
final class OutputWriter {
    private static let batchLimit = 64 * 1024

    private let descriptor: CInt
    private var broken = false
    private var pending: [UInt8] = []

    init(descriptor: CInt = STDOUT_FILENO) {
        self.descriptor = descriptor
    }

    /// Whether the descriptor is a terminal (colour is only used then).
    var isTerminal: Bool { isatty(descriptor) == 1 }

    /// Queues `line` and a newline.
    func line(_ line: String) {
        guard !broken else { return }
        pending.append(contentsOf: line.utf8)
        pending.append(UInt8(ascii: "\n"))
        if pending.count >= Self.batchLimit { flush() }
    }

    /// Writes everything queued.
    func flush() {
        defer { pending.removeAll(keepingCapacity: true) }
        guard !broken, !pending.isEmpty else { return }
        var offset = 0
        while offset < pending.count {
            let written = pending[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                broken = true
                return
            }
            offset += written
        }
    }

    deinit { flush() }
}
