import CorralEngine
import Glibc
import Synchronization

/// Writes log lines to their files on a thread of its own, so that writing never slows
/// supervision. The queue is bounded only in the sense that a full one (``isFull``) makes the
/// front end hold the children's output until the writer has caught up; nothing is dropped for a
/// burst. Only a failing write drops lines (a full disk, a removed directory, an I/O error):
/// they are counted, said once, and writing resumes by itself when it can (the directory made
/// again, every second).
final class LogWriter: Sendable {
    /// Whole lines for one file of the directory.
    struct Batch {
        var file: String
        var bytes: [UInt8]
        var lines: Int
    }

    private struct State {
        var pending: [Batch] = []
        var queuedBytes = 0
        /// The queue was full: the front end is told (``room``) once half of it is written.
        var wasFull = false
        var finishing = false
        var finished = false
        var droppedLines = 0
        var notices: [String] = []
    }

    /// The directory the files are in.
    let directory: String
    /// How many bytes may wait before the children's output is held.
    let limit: Int
    private let maxSize: Int
    private let backups: Int
    private let state = Mutex(State())
    /// Poked when there is something to write (the writer waits on it).
    private let work: Wakeup
    /// Poked when the queue has room again or a notice waits (the supervisor's loop polls it).
    let room: Wakeup
    /// The open files, by name: used by the writer thread alone.
    private let files = Mutex<[String: RotatingFile]>([:])

    /// A writer into `directory` (made 0750 if missing), files rotated past `maxSize` bytes with
    /// `backups` kept; its thread runs until ``finish(within:)``.
    init(directory: String, maxSize: Int, backups: Int, limit: Int = 16 << 20) throws(SystemCallError) {
        self.directory = directory
        self.maxSize = maxSize
        self.backups = backups
        self.limit = limit
        work = try Wakeup()
        room = try Wakeup()
        _ = try FileSystem.makeDirectory(directory, mode: 0o750)
        try DetachedThread.start { [self] in loop() }
    }

    /// Whether as much as the limit waits to be written.
    var isFull: Bool { state.withLock { $0.queuedBytes >= limit } }

    /// How many lines were dropped because a write failed.
    var droppedLines: Int { state.withLock { $0.droppedLines } }

    /// Queues `batches`; never blocks.
    func enqueue(_ batches: [Batch]) {
        guard !batches.isEmpty else { return }
        let bytes = batches.reduce(0) { $0 + $1.bytes.count }
        state.withLock { state in
            state.pending += batches
            state.queuedBytes += bytes
            if state.queuedBytes >= limit { state.wasFull = true }
        }
        work.poke()
    }

    /// What the writer has to say (a write failed, writing resumed), once each.
    func takeNotices() -> [String] {
        room.drain()
        return state.withLock { state in
            defer { state.notices = [] }
            return state.notices
        }
    }

    /// Writes what is queued, then stops the thread; waits at most `limit` for it.
    func finish(within limit: Duration) {
        state.withLock { $0.finishing = true }
        work.poke()
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !state.withLock({ $0.finished }) {
            room.wait(milliseconds: 20)
            room.drain()
        }
    }

    private func loop() {
        // The files whose last write failed (each is said once when it fails, once when it works).
        var failing: Set<String> = []
        var checked = ContinuousClock.now
        while true {
            work.wait(milliseconds: 1000)
            work.drain()
            let (batches, finishing) = state.withLock { state in
                defer { state.pending = [] }
                return (state.pending, state.finishing)
            }
            var written = 0
            var dropped = 0
            var notices: [String] = []
            for batch in batches {
                written += batch.bytes.count
                do {
                    try file(batch.file).write(batch.bytes)
                    if failing.remove(batch.file) != nil {
                        notices.append("log files: writing to \(directory)/\(batch.file) again")
                    }
                } catch {
                    dropped += batch.lines
                    file(batch.file).close()
                    if failing.insert(batch.file).inserted {
                        notices.append("log files: lines dropped until writing works again: \(error)")
                    }
                }
            }
            if ContinuousClock.now - checked >= .seconds(1) {
                checked = ContinuousClock.now
                // A removed directory is made again; files renamed or removed are reopened.
                _ = try? FileSystem.makeDirectory(directory, mode: 0o750)
                files.withLock { files in
                    for file in files.values { try? file.reopenIfMoved() }
                }
            }
            let wake = state.withLock { state -> Bool in
                state.queuedBytes -= written
                state.droppedLines += dropped
                state.notices += notices
                var wake = !notices.isEmpty
                if state.wasFull, state.queuedBytes < limit / 2 {
                    state.wasFull = false
                    wake = true
                }
                if finishing, state.pending.isEmpty {
                    state.finished = true
                    wake = true
                }
                return wake
            }
            if wake { room.poke() }
            if finishing, state.withLock({ $0.finished }) { break }
        }
        files.withLock { files in
            for file in files.values { file.close() }
        }
    }

    /// The file named `name` in the directory, opened on first use.
    private func file(_ name: String) -> RotatingFile {
        files.withLock { files in
            if let file = files[name] { return file }
            let file = RotatingFile(path: "\(directory)/\(name)", maxSize: maxSize, backups: backups)
            files[name] = file
            return file
        }
    }
}
