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
    /// Children's lines begin with the time of day (`--no-timestamps`: not).
    var timestamps = true
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
        text.observe(event)
        channel.observe(event)
        if case .output(let slot, let stream, let line) = event {
            let time = timestamps ? clock.text() + " " : ""
            output.output(time + text.childLine(slot: slot, stream: stream, line: line))
            return
        }
        text.readsKeys = channel.readsKeys
        guard let line = text.describe(event) else { return }
        output.event("\(WallClock.timeOfDay()) \(line)")
        if case .stopped = event { output.flush() }
    }

    /// The line for an event (without the time), or nil for events that print nothing.
    func describe(_ event: EngineEvent) -> String? { text.describe(event) }
}
