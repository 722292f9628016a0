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
    /// The files written to (`corral.log` first), and the lines gathered for each this turn.
    private var fileNames = ["corral.log"]
    private var gathered: [(bytes: [UInt8], lines: Int)] = [([], 0)]
    /// Each slot's file and line prefixes (` web.1 out | `, ` web.1 err | `), made once.
    private var slotLines: [Int: (file: Int, out: [UInt8], err: [UInt8])] = [:]
    private var finished = false
    /// Says what the writer has to say (a failing or resumed write) and how many lines it
    /// dropped so far, on the supervisor's thread.
    var say: (_ notice: String, _ droppedLines: Int) -> Void = { _, _ in }
    /// Told the number of lines dropped so far, each time it changed (checked every turn).
    var droppedLinesChanged: (Int) -> Void = { _ in }
    private var droppedSoFar = 0

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

    /// Lines dropped so far because a write failed.
    var droppedLines: Int { writer.droppedLines }

    /// Whether the children's output must wait for the writer.
    var holdsOutput: Bool { writer.isFull }

    /// The line an event makes, into its file's share of this turn.
    func handle(_ event: EngineEvent) {
        // An output line names nothing new (the names come with spawned and added events).
        if case .output(let slot, let stream, let line) = event {
            let target = slotLines[slot] ?? lines(ofSlot: slot)
            stamp.append(to: &gathered[target.file].bytes)
            gathered[target.file].bytes.append(contentsOf: stream == .stderr ? target.err : target.out)
            gathered[target.file].bytes.append(contentsOf: line.utf8)
            gathered[target.file].bytes.append(UInt8(ascii: "\n"))
            gathered[target.file].lines += 1
            return
        }
        text.observe(event)
        guard let line = text.describe(event) else { return }
        append(" \(line)\n", to: 0)
        if case .stopped = event { flush() }
    }

    /// The end of a turn of the supervisor's loop: the gathered lines go to the writer; what it
    /// has to say is said.
    func wake(readable: [FileDescriptor]) {
        flush()
        let dropped = writer.droppedLines
        if dropped != droppedSoFar {
            droppedSoFar = dropped
            droppedLinesChanged(dropped)
        }
        if readable.contains(FileDescriptor(rawValue: writer.room.readDescriptor)) {
            for notice in writer.takeNotices() {
                say(notice, writer.droppedLines)
                append(" corral \(notice)\n", to: 0)
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
        for notice in writer.takeNotices() { say(notice, writer.droppedLines) }
        if writer.droppedLines > 0 {
            say("log files: \(writer.droppedLines) lines dropped in all", writer.droppedLines)
        }
    }

    /// A stamped line (`line` begins with a space) into file `index`.
    private func append(_ line: String, to index: Int) {
        stamp.append(to: &gathered[index].bytes)
        gathered[index].bytes.append(contentsOf: line.utf8)
        gathered[index].lines += 1
    }

    /// The file and line prefixes of `slot`'s lines, made and kept.
    private func lines(ofSlot slot: Int) -> (file: Int, out: [UInt8], err: [UInt8]) {
        let name = text.names.processName(slot)
        let fileName = "\(name.program).log"
        let file =
            fileNames.firstIndex(of: fileName)
            ?? {
                fileNames.append(fileName)
                gathered.append(([], 0))
                return fileNames.count - 1
            }()
        let made = (file, Array(" \(name) out | ".utf8), Array(" \(name) err | ".utf8))
        slotLines[slot] = made
        return made
    }

    private func flush() {
        var batches: [LogWriter.Batch] = []
        for index in gathered.indices where gathered[index].lines > 0 {
            batches.append(
                LogWriter.Batch(file: fileNames[index], bytes: gathered[index].bytes, lines: gathered[index].lines))
            gathered[index] = ([], 0)
        }
        writer.enqueue(batches)
    }
}
