import CorralControl
import CorralEngine
import SystemPackage

/// `--json`: one JSON object per line, each with `"time"` (UTC, ISO 8601) and `"event"`.
/// The schema is in the README ("Headless output").
final class JSONLines: HeadlessFrontend {
    let channel: HeadlessChannel
    private var output: OutputWriter { channel.output }
    private var encoder: EventEncoder

    /// `--metrics`' address, told in the first `server` event.
    var metrics: String? {
        get { encoder.metrics }
        set { encoder.metrics = newValue }
    }
    private let clock = ContinuousClock()
    /// Each line's `"time"`: the date and time worked out once a second.
    private var stamp = WallClock.UTCStamp()

    /// `control`: the control socket's path, told in the first `server` event.
    init(
        output: OutputWriter, workers: Int, control: String? = nil, stopSignal: Signal = .interrupt,
        names: [ProcessName] = []
    ) {
        self.channel = HeadlessChannel(output: output, stopSignal: stopSignal)
        self.encoder = EventEncoder(workers: workers, names: names, control: control)
        output.dropNotice = { count in
            var object = JSONObject()
            object["time"] = .string(WallClock.iso8601())
            object["event"] = .string("output_dropped")
            object["lines"] = .int(count)
            return object.encoded
        }
    }

    /// A `log_files` line: what `--log-dir`'s writer has to say (`text`), and the lines it
    /// dropped so far (`dropped_lines`).
    func logFilesNotice(_ text: String, droppedLines: Int) {
        var object = JSONObject()
        object["time"] = .string(WallClock.iso8601())
        object["event"] = .string("log_files")
        object["text"] = .string(text)
        object["dropped_lines"] = .int(droppedLines)
        output.event(object.encoded)
    }

    func handle(_ event: EngineEvent) {
        encoder.observe(event)
        channel.observe(event)
        let line = encoder.encode(event, time: stamp.text(), now: clock.now)
        if case .output = event { output.output(line) } else { output.event(line) }
        if case .stopped = event { output.flush() }
    }
}
