import Glibc

/// What the process knows about its terminal, to decide between dashboard and headless.
struct TerminalFacts: Equatable {
    var stdoutIsTerminal: Bool
    var stdinIsTerminal: Bool
    var term: String?
    var noColor: Bool

    static var current: TerminalFacts {
        TerminalFacts(
            stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, stdinIsTerminal: isatty(STDIN_FILENO) == 1,
            term: getenv("TERM").map { String(cString: $0) },
            noColor: getenv("NO_COLOR").map { $0.pointee != 0 } ?? false)
    }

    /// Why the dashboard cannot run here, or nil when it can.
    var whyNoDashboard: String? {
        if !stdoutIsTerminal { return "standard output is not a terminal" }
        if !stdinIsTerminal { return "standard input is not a terminal" }
        guard let term, !term.isEmpty else { return "TERM is not set" }
        if term == "dumb" { return "TERM=dumb" }
        return nil
    }

    var canShowDashboard: Bool { whyNoDashboard == nil }
}

/// Messages for the operator on standard error.
enum FileError {
    static func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// Writes `line` if standard error takes it at once (a terminal stopped with Ctrl-S, or a
    /// full pipe, does not), through a description of its own (``OutputWriter``).
    static func writeWithoutBlocking(_ line: String) {
        let writer = OutputWriter(descriptor: STDERR_FILENO)
        writer.event(line)
        writer.flush()
    }
}

/// Standard output for the client commands, written at once.
enum StandardOutput {
    /// Writes `line` and a newline, waiting for the reader. A reader that went away (`| head`)
    /// ends corral quietly with status 0, as it would `cat`.
    static func write(_ line: some Collection<UInt8>) {
        var bytes = Array(line)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.write(STDOUT_FILENO, $0.baseAddress.map { $0 + offset }, $0.count - offset)
            }
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                exit(0)
            }
        }
    }
}
