/// Splits a child's output stream into lines. A line longer than ``maximumLineLength`` bytes is
/// cut into pieces of that size, so memory stays bounded whatever the child writes; invalid
/// UTF-8 becomes U+FFFD.
struct OutputLineBuffer {
    /// The longest line kept whole.
    static let maximumLineLength = 16 * 1024

    private var pending: [UInt8] = []

    /// Adds bytes; returns the lines they completed.
    mutating func append(_ bytes: some Collection<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(takeLine())
            } else {
                pending.append(byte)
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
