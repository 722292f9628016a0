#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes whole lines to a descriptor (standard output), one `write` per line so lines from
/// corral never interleave mid-line. A closed reader (`EPIPE`) makes it stop writing quietly.
final class OutputWriter {
    private let descriptor: CInt
    private var broken = false

    init(descriptor: CInt = STDOUT_FILENO) {
        self.descriptor = descriptor
    }

    /// Whether the descriptor is a terminal (colour is only used then).
    var isTerminal: Bool { isatty(descriptor) == 1 }

    /// Writes `line` and a newline.
    func line(_ line: String) {
        guard !broken else { return }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                broken = true
                return
            }
            offset += written
        }
    }
}
