import ArgumentParser
import CorralControl
import CorralEngine
import CorralModel
import Glibc

/// `corral logs`: the children's output a running corral keeps, then (`-f`) what follows.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", _superCommandName: "corral",
        abstract: "Print the children's output a running corral keeps; with -f, follow it.",
        discussion: """
            Each line is printed as TIME NAME STREAM | TEXT (UTC time, the process's name, out or err); on a
            terminal names are coloured and control characters made visible, on a pipe the text is exact.
            A corral keeps its last 200 lines for its clients. With -f, lines that a slow reader could not
            be sent are counted on standard error. The corral is found as corral ctl finds it.
            Exit status: 0, 1 for an unknown name, 69 when no corral answers, 64 for bad usage.
            """)

    @OptionGroup var target: ControlTarget

    @Argument(help: "Processes (web.1) or programs (web) to show; default: every process.")
    var names: [String] = []

    @Flag(name: .shortAndLong, help: "Follow new lines until interrupted or until the server stops.")
    var follow = false

    @Option(name: .customShort("n"), help: ArgumentHelp("Only the last N kept lines.", valueName: "N"))
    var count: Int?

    @Option(help: ArgumentHelp("Only lines that contain TEXT, or match re:REGEX (POSIX ERE).", valueName: "TEXT"))
    var grep: String?

    @Option(
        help: ArgumentHelp("Only lines from the last DURATION (seconds, or 30s, 5m, 2h).", valueName: "DURATION"))
    var since: String?

    @Flag(help: "One JSON object per line: time, name, program, stream, line.")
    var json = false

    func validate() throws {
        if let count, count < 0 { throw ValidationError("-n must be 0 or more (got \(count))") }
        _ = try filter()
    }

    func run() throws {
        let filter = try filter()
        let answer = try target.connect()
        let known = Set((answer.snapshot.processes ?? []).flatMap { [$0.name, $0.program].compactMap { $0 } })
        for name in names where !known.contains(name) {
            let processes = (answer.snapshot.processes ?? []).compactMap(\.name).prefix(8).joined(separator: ", ")
            throw ControlExit(
                CorralLocator.refusedStatus, "no process or program named \(name) (processes: \(processes))")
        }
        let printer = LinePrinter(json: json, terminal: TerminalFacts.current)
        var kept = (answer.snapshot.output ?? []).filter(filter.accepts)
        if let count { kept = Array(kept.suffix(count)) }
        for line in kept { printer.print(line) }
        guard follow else { return }
        do {
            while let raw = try answer.link.nextLine(timeout: nil) {
                guard let message = WireMessage.decode(raw) else { continue }
                switch message.event {
                case "output":
                    if filter.accepts(message) { printer.print(message) }
                case "output_dropped":
                    FileError.write("corral: \(message.lines ?? 0) lines were not sent: this reader fell behind")
                case "stopped":
                    return
                default:
                    continue
                }
            }
        } catch {
            throw ControlExit(CorralLocator.unavailableStatus, "\(error)")
        }
        throw ControlExit(CorralLocator.unavailableStatus, "the connection ended before the server stopped")
    }

    /// Which lines are shown: by name or program, text, and time.
    private struct Filter {
        var names: Set<String>
        var text: String?
        var regex: PosixRegex?
        /// The earliest time shown, as an ISO 8601 UTC text (they sort as the times do).
        var earliest: String?

        func accepts(_ line: WireMessage) -> Bool {
            if !names.isEmpty, !(line.name.map(names.contains) ?? false), !(line.program.map(names.contains) ?? false) {
                return false
            }
            let text = line.line ?? ""
            if let wanted = self.text, !text.contains(wanted) { return false }
            if let regex, !regex.matches(text) { return false }
            if let earliest, (line.time ?? "") < earliest { return false }
            return true
        }
    }

    private func filter() throws -> Filter {
        var filter = Filter(names: Set(names))
        if let grep {
            if grep.hasPrefix("re:") {
                do {
                    filter.regex = try PosixRegex(String(grep.dropFirst(3)))
                } catch {
                    throw ValidationError("--grep \(grep): \(error.message)")
                }
            } else {
                filter.text = grep
            }
        }
        if let since {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            let unit = since.last.flatMap { units[$0] }
            guard let number = Double(unit == nil ? since : String(since.dropLast())), number >= 0, number.isFinite
            else {
                throw ValidationError("--since must be a duration: seconds, or 30s, 5m, 2h (got '\(since)')")
            }
            let back = Int64(number * (unit ?? 1) * 1_000_000_000)
            var instant = WallClock.instant()
            let nanoseconds = Int64(instant.tv_sec) * 1_000_000_000 + Int64(instant.tv_nsec) - back
            instant.tv_sec = Int(nanoseconds / 1_000_000_000)
            instant.tv_nsec = Int(nanoseconds % 1_000_000_000)
            filter.earliest = WallClock.iso8601(instant)
        }
        return filter
    }
}

/// Prints output lines as `corral logs` shows them.
private struct LinePrinter {
    var json: Bool
    var terminal: TerminalFacts

    func print(_ line: WireMessage) {
        let time = line.time ?? "-"
        let name = line.name ?? "slot \(line.index ?? -1)"
        let stream = line.stream == "stderr" ? "err" : "out"
        let text = line.line ?? ""
        if json {
            var object = JSONObject()
            object["time"] = .string(time)
            object["name"] = .string(name)
            object["program"] = line.program.map { .string($0) } ?? .null
            object["stream"] = .string(line.stream ?? "stdout")
            object["line"] = .string(text)
            StandardOutput.write(Array(object.encoded.utf8))
        } else if terminal.stdoutIsTerminal {
            let colors = !terminal.noColor
            let shownName = colors ? "\u{1B}[36m\(name)\u{1B}[0m" : name
            let shownStream = colors && stream == "err" ? "\u{1B}[31m\(stream)\u{1B}[0m" : stream
            StandardOutput.write(Array("\(time) \(shownName) \(shownStream) | \(TerminalText.visible(text))".utf8))
        } else {
            StandardOutput.write(Array("\(time) \(name) \(stream) | \(text)".utf8))
        }
    }
}
