import CorralEngine
import Glibc

/// What a headless front end does about the reader of its output: a reader that is gone
/// (`| head -1`, a closed terminal) is a consumer gone, so the server is stopped gracefully,
/// once; at the end, a stalled reader gets at most a second, and what it missed is counted on
/// standard error.
struct OutputConsumer {
    private var stopRequested = false
    private var finished = false

    /// A graceful stop, once, when the reader has gone away.
    mutating func check(_ output: OutputWriter) -> [SupervisorCommand] {
        guard output.consumerGone, !stopRequested else { return [] }
        stopRequested = true
        return [.stop]
    }

    /// Writes what is still waiting and reports what was lost (the first time only).
    mutating func finish(_ output: OutputWriter) {
        guard !finished else { return }
        finished = true
        let unwritten = output.finish(within: .seconds(1))
        guard unwritten > 0 || output.droppedLines > 0 else { return }
        var lost: [String] = []
        if output.droppedLines > 0 { lost.append("\(output.droppedLines) lines dropped") }
        if unwritten > 0 { lost.append("\(unwritten) bytes not written at the end") }
        FileError.writeWithoutBlocking(
            "corral: \(lost.joined(separator: ", ")): the reader of corral's output did not keep up")
    }
}
