import Glibc

/// Splits a child's output stream into lines. A line longer than ``maximumLineLength`` bytes is
/// cut into pieces of that size, so memory stays bounded whatever the child writes; invalid
/// UTF-8 becomes U+FFFD.
struct OutputLineBuffer {
    /// The longest line kept whole.
    static let maximumLineLength = 16 * 1024

    private var pending: [UInt8] = []

    /// Adds bytes; returns the lines they completed.
    mutating func append(_ bytes: some Collection<UInt8>) -> [String] {
        if let lines = bytes.withContiguousStorageIfAvailable({ append(contiguous: UnsafeRawBufferPointer($0)) }) {
            return lines
        }
        return Array(bytes).withUnsafeBytes { append(contiguous: $0) }
    }

    /// Copies each run of bytes up to a newline at once (found with `memchr`), not byte by byte.
    private mutating func append(contiguous bytes: UnsafeRawBufferPointer) -> [String] {
        guard let base = bytes.baseAddress else { return [] }
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            // At most what fits before the line must be cut.
            let length = min(bytes.count - offset, Self.maximumLineLength - pending.count)
            if let found = memchr(base + offset, CInt(UInt8(ascii: "\n")), length) {
                let newline = base.distance(to: UnsafeRawPointer(found))
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<newline]))
                lines.append(takeLine())
                offset = newline + 1
            } else {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
                offset += length
                if pending.count >= Self.maximumLineLength { lines.append(takeLine()) }
            }
        }
        return lines
    }

    /// The unfinished last line at end of stream, if any.
    mutating func finish() -> String? {
        pending.isEmpty ? nil : takeLine()
    }

    private mutating func takeLine() -> String {
        var line = pending
        pending.removeAll(keepingCapacity: true)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }
}
