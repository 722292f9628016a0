import CorralControl
import CorralEngine
import CorralModel
import Glibc
import SystemPackage

/// `--no-tui`: one human-readable line per event, `12:00:01.234 worker.2 pid=4121 running`, and
/// the children's output as `worker.2 | …`. Colour only on a terminal, and never with `NO_COLOR`.
final class HeadlessLog: HeadlessFrontend {
    let channel: HeadlessChannel
    private var output: OutputWriter { channel.output }
    /// How each event reads.
    private(set) var text: EventText

    /// `--metrics`' address, told on the first line.
    var metrics: String? {
        get { text.metrics }
        set { text.metrics = newValue }
    }
    /// Children's lines begin with the time of day (`--no-timestamps`: not).
    var timestamps = true
    /// The systemd journal, when standard output is it: lines go there as entries with fields
    /// (a line it does not take is printed as usual, without the time the journal adds).
    var journal: Journal?
    private var clock = WallClock.TimeOfDay()
    /// The programs with a wait timeout of their own, in a run of programs.
    var programWaitTimeouts: [String: Duration] {
        get { text.programWaitTimeouts }
        set { text.programWaitTimeouts = newValue }
    }

    /// `control`: the control socket's path, told on the first line.
    init(
        output: OutputWriter, workers: Int, waitTimeout: Duration?, colors: Bool, control: String? = nil,
        stopSignal: Signal = .interrupt, names: [ProcessName] = []
    ) {
        self.channel = HeadlessChannel(output: output, stopSignal: stopSignal)
        self.text = EventText(
            names: SlotNames(workers: workers, names: names), colors: colors, showsControls: output.isTerminal,
            waitTimeout: waitTimeout, control: control)
        output.dropNotice = {
            "\(WallClock.timeOfDay()) corral dropped \($0) lines: the reader of its output did not keep up"
        }
    }

    func handle(_ event: EngineEvent) {
        channel.observe(event)
        // An output line names nothing new (the names come with spawned and added events).
        if case .output(let slot, let stream, let line) = event {
            if let journal, journal.send(childEntry(slot: slot, stream: stream, line: line)) { return }
            let time = timestamps && journal == nil ? clock.text() + " " : ""
            output.output(time + text.childLine(slot: slot, stream: stream, line: line))
            return
        }
        text.observe(event)
        text.readsKeys = channel.readsKeys
        guard let line = text.describe(event) else { return }
        if let journal, journal.send(eventEntry(event, line: line)) {
            if case .stopped = event { output.flush() }
            return
        }
        output.event(journal == nil ? clock.text() + " " + line : line)
        if case .stopped = event { output.flush() }
    }

    /// A child's line as a journal entry.
    private func childEntry(slot: Int, stream: ChildStream, line: String) -> [(String, String)] {
        let name = text.names.processName(slot)
        return [
            ("MESSAGE", line), ("PRIORITY", stream == .stderr ? "3" : "6"), ("SYSLOG_IDENTIFIER", name.program),
            ("CORRAL_PROCESS", name.description), ("CORRAL_PROGRAM", name.program),
            ("CORRAL_GENERATION", String(text.names.generation(slot))),
            ("CORRAL_PID", text.names.pid(slot).map(String.init) ?? ""),
        ]
    }

    /// corral's line for an event as a journal entry (naming the process it is about).
    private func eventEntry(_ event: EngineEvent, line: String) -> [(String, String)] {
        var fields = [
            ("MESSAGE", line), ("PRIORITY", String(Journal.priority(of: event))), ("SYSLOG_IDENTIFIER", "corral"),
        ]
        if let slot = event.slot {
            let name = text.names.processName(slot)
            fields += [("CORRAL_PROCESS", name.description), ("CORRAL_PROGRAM", name.program)]
            if let pid = text.names.pid(slot) { fields.append(("CORRAL_PID", String(pid))) }
        }
        return fields
    }

    /// The line for an event (without the time), or nil for events that print nothing.
    func describe(_ event: EngineEvent) -> String? { text.describe(event) }
}
