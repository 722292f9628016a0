/// Splits a child's output stream into lines. A line longer than ``maximumLineLength`` bytes is
/// cut into pieces of that size, so memory stays bounded whatever the child writes; invalid
/// UTF-8 becomes U+FFFD.
struct OutputLineBuffer {
    /// The longest line kept whole.
    static let maximumLineLength = 16 * 1024

    private var pending: [UInt8] = []

    /// Adds bytes; returns the lines they completed. Copies runs of bytes between newlines at
    /// once rather than byte by byte.
    mutating func append<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        while start != bytes.endIndex {
            // At most what fits before the line must be cut.
            let room = Self.maximumLineLength - pending.count
            let end = bytes.index(start, offsetBy: room, limitedBy: bytes.endIndex) ?? bytes.endIndex
            if let newline = bytes[start..<end].firstIndex(of: UInt8(ascii: "\n")) {
                pending.append(contentsOf: bytes[start..<newline])
                lines.append(takeLine())
                start = bytes.index(after: newline)
            } else {
                pending.append(contentsOf: bytes[start..<end])
                start = end
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
