import CorralControl
import CorralEngine
import SystemPackage

/// `--log-dir DIR`: each program's output in `DIR/PROGRAM.log` (`2026-12-03T08:38:58.272Z web.1
/// out | text`), corral's own event lines in `DIR/corral.log`, written by a ``LogWriter`` off the
/// supervisor's thread. Lines are gathered while the driver hands out events and queued once per
/// turn of its loop; while the queue is full the children's output is held.
final class LogFiles {
    private let writer: LogWriter
    private var text: EventText
    private var stamp = WallClock.UTCStamp()
    /// Lines gathered this turn, by file name, and how many.
    private var gathered: [String: (bytes: [UInt8], lines: Int)] = [:]
    private var finished = false
    /// Says what the writer has to say (a failing or resumed write), on the supervisor's thread.
    var say: (String) -> Void = { _ in }

    /// Log files in `directory`; `names`: a run of programs' slot names.
    init(
        directory: String, maxSize: Int, backups: Int, workers: Int, waitTimeout: Duration?, names: [ProcessName]
    ) throws(SystemCallError) {
        writer = try LogWriter(directory: directory, maxSize: maxSize, backups: backups)
        text = EventText(
            names: SlotNames(workers: workers, names: names), colors: false, showsControls: false,
            waitTimeout: waitTimeout, control: nil)
    }

    /// The descriptor that is readable when the writer has room again or something to say.
    var descriptors: [FileDescriptor] { [FileDescriptor(rawValue: writer.room.readDescriptor)] }

    /// Whether the children's output must wait for the writer.
    var holdsOutput: Bool { writer.isFull }

    /// How many lines a failing write dropped.
    var droppedLines: Int { writer.droppedLines }

    /// The line an event makes, into its file's share of this turn.
    func handle(_ event: EngineEvent) {
        text.observe(event)
        if case .output(let slot, let stream, let line) = event {
            let name = text.names.processName(slot)
            let file = "\(name.program).log"
            append("\(stamp.text()) \(name) \(stream == .stderr ? "err" : "out") | \(line)\n", to: file)
            return
        }
        guard let line = text.describe(event) else { return }
        append("\(stamp.text()) \(line)\n", to: "corral.log")
        if case .stopped = event { flush() }
    }

    /// The end of a turn of the supervisor's loop: the gathered lines go to the writer; what it
    /// has to say is said.
    func wake(readable: [FileDescriptor]) {
        flush()
        if readable.contains(FileDescriptor(rawValue: writer.room.readDescriptor)) {
            for notice in writer.takeNotices() {
                say(notice)
                append("\(stamp.text()) corral \(notice)\n", to: "corral.log")
            }
            flush()
        }
    }

    /// Writes everything gathered and queued, waiting at most two seconds.
    func finish() {
        guard !finished else { return }
        finished = true
        flush()
        writer.finish(within: .seconds(2))
        for notice in writer.takeNotices() { say(notice) }
        if writer.droppedLines > 0 { say("log files: \(writer.droppedLines) lines dropped in all") }
    }

    private func append(_ line: String, to file: String) {
        gathered[file, default: ([], 0)].bytes.append(contentsOf: line.utf8)
        gathered[file, default: ([], 0)].lines += 1
    }

    private func flush() {
        guard !gathered.isEmpty else { return }
        writer.enqueue(gathered.map { LogWriter.Batch(file: $0.key, bytes: $0.value.bytes, lines: $0.value.lines) })
        gathered = [:]
    }
}
