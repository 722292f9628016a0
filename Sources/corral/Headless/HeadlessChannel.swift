import CorralEngine
import SystemPackage

/// What both headless front ends share: the writer of their lines and what its reader does
/// (gone: the server is stopped gracefully, once; stalled: lines wait without blocking the
/// loop, and at the end get at most a second, what was lost counted on standard error), and
/// the keys typed on a terminal standard input.
final class HeadlessChannel {
    /// Where the front end's lines go.
    let output: OutputWriter
    private var keys: HeadlessKeys
    private var stopRequested = false
    private var finished = false

    /// `stopSignal`: what `q` sends (the first stop signal, as in the dashboard).
    init(output: OutputWriter, stopSignal: Signal = .interrupt) {
        self.output = output
        self.keys = HeadlessKeys(stopSignal: stopSignal)
    }

    /// Whether keys are read (a hint is worth printing).
    var readsKeys: Bool { keys.isActive }

    /// Follows the server's state for the keys.
    func observe(_ event: EngineEvent) { keys.observe(event) }

    /// The terminal standard input, while keys are read.
    var descriptors: [FileDescriptor] { keys.input.map { [FileDescriptor(rawValue: $0)] } ?? [] }

    /// The output, while lines wait for it to become writable.
    var writeDescriptors: [FileDescriptor] { output.blockedDescriptor.map { [FileDescriptor(rawValue: $0)] } ?? [] }

    /// At once while lines wait that came after the last flush (events of a typed command).
    var nextDeadline: ContinuousClock.Instant? { output.hasUnflushedLines ? .now : nil }

    /// Writes what can be written; a graceful stop, once, when the reader has gone away; the
    /// commands typed since the last call.
    func wake(readable: [FileDescriptor]) -> [SupervisorCommand] {
        output.flush()
        var commands = keys.commands(readable: readable.map(\.rawValue))
        if output.consumerGone, !stopRequested {
            stopRequested = true
            commands.append(.stop)
        }
        return commands
    }

    /// Writes what is still waiting and reports what was lost (the first time only).
    func finish() {
        guard !finished else { return }
        finished = true
        let unwritten = output.finish(within: .seconds(1))
        guard unwritten > 0 || output.droppedLines > 0 else { return }
        var lost: [String] = []
        if output.droppedLines > 0 { lost.append("\(output.droppedLines) lines dropped") }
        if unwritten > 0 { lost.append("\(unwritten) bytes not written at the end") }
        let why =
            output.writeErrorReported
            ? "its output could not be written" : "the reader of corral's output did not keep up"
        FileError.writeWithoutBlocking("corral: \(lost.joined(separator: ", ")): \(why)")
    }
}

/// A headless front end (the text log, the JSON lines): what the driver polls, when it wakes it
/// and what it does then all come from its ``HeadlessChannel``.
protocol HeadlessFrontend: PollingFrontend {
    var channel: HeadlessChannel { get }
}

extension HeadlessFrontend {
    var descriptors: [FileDescriptor] { channel.descriptors }

    var writeDescriptors: [FileDescriptor] { channel.writeDescriptors }

    var nextDeadline: ContinuousClock.Instant? { channel.nextDeadline }

    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        channel.wake(readable: readable)
    }

    /// Writes what is still waiting (a stalled reader gets at most a second).
    func finish() { channel.finish() }
}
