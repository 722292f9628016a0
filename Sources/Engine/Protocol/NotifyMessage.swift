/// One `sd_notify` datagram, parsed: newline-separated `KEY=VALUE` assignments.
struct NotifyMessage: Hashable, Sendable {
    /// The longest `STATUS=` text kept; longer text is cut.
    static let maximumStatusLength = 256

    /// `READY=1` was present.
    var ready = false
    /// `STOPPING=1` was present.
    var stopping = false
    /// The `STATUS=` text, cleaned of control characters (C0, DEL and C1) and cut to
    /// ``maximumStatusLength``.
    var status: String?

    /// Parses a datagram. Unknown keys and malformed lines are ignored; a datagram that was cut
    /// by the receive buffer loses its last (partial) line.
    init(bytes: some Collection<UInt8>, truncated: Bool = false) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if truncated, !lines.isEmpty { lines.removeLast() }
        for line in lines {
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = line[line.startIndex..<equals]
            let value = line[line.index(after: equals)...]
            switch String(decoding: key, as: UTF8.self) {
            case "READY": ready = ready || value.elementsEqual("1".utf8)
            case "STOPPING": stopping = stopping || value.elementsEqual("1".utf8)
            case "STATUS": status = Self.clean(value)
            default: continue
            }
        }
    }

    /// Builds a message directly (for tests and the worker side).
    init(ready: Bool = false, stopping: Bool = false, status: String? = nil) {
        self.ready = ready
        self.stopping = stopping
        self.status = status
    }

    /// The datagram for this message.
    var encoded: [UInt8] {
        var lines: [String] = []
        if ready { lines.append("READY=1") }
        if stopping { lines.append("STOPPING=1") }
        if let status { lines.append("STATUS=\(status.replacingNewlines())") }
        return Array(lines.joined(separator: "\n").utf8)
    }

    private static func clean(_ value: some Collection<UInt8>) -> String {
        let text = String(decoding: value.prefix(maximumStatusLength * 4), as: UTF8.self)
        var cleaned = ""
        for scalar in text.unicodeScalars {
            if cleaned.unicodeScalars.count >= maximumStatusLength { break }
            let control = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            cleaned.unicodeScalars.append(control ? " " : scalar)
        }
        return cleaned
    }
}

extension String {
    /// The text with each newline replaced by a space, so it fits one `KEY=VALUE` line.
    func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}
