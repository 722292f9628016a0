import CorralEngine
import Glibc
import SystemPackage

/// One client of the control socket, as the server sees it: what it sent that is not a whole
/// line yet, and what waits to be written to it. Both are bounded; the server never waits for a
/// client. The children's output lines are dropped for this client past ``outputQueued`` bytes
/// waiting, or past the server's ``OutputBudget`` (and counted in `output_dropped` lines), as
/// `--json` does for a slow reader; every other event is kept. A client whose queue would pass
/// ``maximumQueued``, or that takes nothing for ``stallLimit``, is disconnected.
package final class ControlPeer {
    /// Bytes waiting for a client before it counts as fallen behind.
    package static let maximumQueued = 2 << 20
    /// Bytes waiting past which output lines are dropped for this client.
    package static let outputQueued = 256 << 10
    /// How long a client may take nothing of what waits for it.
    package static let stallLimit = Duration.seconds(10)
    /// The longest command line a client may send.
    package static let maximumLine = 64 << 10
    /// How long a client may leave a command half-written.
    package static let partialLineLimit = Duration.seconds(10)
    /// How long output lines alone may wait to be sent with the next ones: under a flood a
    /// client is written to (and woken) at most this often; any other line is sent at once.
    package static let outputDelay = Duration.milliseconds(2)
    /// Output lines waiting past which they are sent at once.
    package static let outputBatch = 64 << 10

    package let descriptor: FileDescriptor
    /// Whether it gets the events (`subscribe`, the default; `unsubscribe` for replies only).
    package private(set) var subscribed = true
    /// The output lines it missed.
    private var missed: MissedOutput
    /// When it last took bytes (or had none waiting).
    package private(set) var lastProgress: ContinuousClock.Instant

    /// When it is to be closed for taking nothing, if bytes wait for it.
    package var stallDeadline: ContinuousClock.Instant? { queuedCount > 0 ? lastProgress + Self.stallLimit : nil }
    /// Why the connection is to be closed, once it is.
    package private(set) var closing: String?
    /// When the unfinished line in ``received`` began.
    package private(set) var partialSince: ContinuousClock.Instant?
    private var queued: [UInt8] = []
    private var written = 0
    /// Something other than output lines waits: it is sent at once.
    private var urgent = false
    /// When bytes were last sent.
    private var lastFlush: ContinuousClock.Instant
    /// The last write did not take everything: the connection is full until it is writable.
    package private(set) var isBlocked = false
    private var received: [UInt8] = []

    /// A client accepted when the server had relayed `outputCount` output lines.
    package init(descriptor: FileDescriptor, now: ContinuousClock.Instant, outputCount: Int) {
        self.descriptor = descriptor
        self.lastProgress = now
        self.lastFlush = now
        self.missed = MissedOutput(outputCount: outputCount, now: now)
    }

    /// Turns the events on or off; `outputCount`: the server's count of output lines.
    package func subscribe(_ on: Bool, outputCount: Int) {
        if on && !subscribed { missed.restart(outputCount: outputCount) }
        subscribed = on
    }

    /// Bytes waiting to be written.
    package var queuedCount: Int { queued.count - written }

    /// Whether an output line would be queued rather than dropped.
    package var takesOutput: Bool { subscribed && closing == nil && queuedCount < Self.outputQueued }

    /// Queues output line number `index` (of the server's count), or drops it when too much
    /// waits already.
    package func enqueueOutput(_ line: String, index: Int, now: ContinuousClock.Instant) {
        guard takesOutput else { return }
        tellDroppedOutput(outputCount: index - 1, now: now)
        missed.sent(index)
        enqueue(line, urgent: false)
    }

    /// When output lines waiting for this client are to be sent (nil: nothing waits, or it is
    /// sent at once, or the connection is full).
    package var flushDeadline: ContinuousClock.Instant? {
        queuedCount > 0 && !urgent && !isBlocked ? lastFlush + Self.outputDelay : nil
    }

    /// Queues one line (a newline is added); past the bound, the client is to be closed. Any
    /// line but an output line (`urgent`) is sent at the next flush.
    package func enqueue(_ line: String, urgent: Bool = true) {
        guard closing == nil else { return }
        if urgent { self.urgent = true }
        if queuedCount + line.utf8.count + 1 > Self.maximumQueued {
            close(because: "fell behind: more than \(Self.maximumQueued >> 20) MiB waited for it")
            return
        }
        queued.append(contentsOf: line.utf8)
        queued.append(UInt8(ascii: "\n"))
    }

    /// Writes what the connection takes now; a client that took nothing for ``stallLimit`` is
    /// to be closed.
    package func flush(now: ContinuousClock.Instant, outputCount: Int) {
        let before = queuedCount
        if urgent || isBlocked || queuedCount >= Self.outputBatch || lastFlush.duration(to: now) >= Self.outputDelay {
            flush()
            lastFlush = now
        }
        if queuedCount < before || queuedCount == 0 {
            lastProgress = now
        } else if now - lastProgress > Self.stallLimit {
            close(because: "took nothing for \(Self.stallLimit)")
        }
        if subscribed { tellDroppedOutput(outputCount: outputCount, now: now) }
    }

    /// Queues an `output_dropped` line for the output dropped up to the server's `outputCount`,
    /// once there is room (at most every ``MissedOutput/noticeInterval``; `force`: now).
    package func tellDroppedOutput(outputCount: Int, now: ContinuousClock.Instant, force: Bool = false) {
        guard closing == nil, queuedCount < Self.outputQueued,
            let lines = missed.notice(outputCount: outputCount, now: now, force: force)
        else { return }
        var notice = JSONObject()
        notice["time"] = .string(WallClock.iso8601())
        notice["event"] = .string("output_dropped")
        notice["lines"] = .int(lines)
        enqueue(notice.encoded)
    }

    /// Writes what the connection takes now.
    package func flush() {
        urgent = false
        guard closing == nil || queuedCount > 0 else { return }
        while queuedCount > 0 {
            let count: Int
            do {
                count = try queued.withUnsafeBytes { bytes throws(SystemCallError) in
                    try UnixStream.send(descriptor, UnsafeRawBufferPointer(rebasing: bytes[written...]))
                }
            } catch {
                queued.removeAll()
                written = 0
                close(because: "gone (\(error))")
                return
            }
            if count == 0 { break }
            written += count
        }
        isBlocked = queuedCount > 0
        if written == queued.count {
            queued.removeAll(keepingCapacity: queued.capacity <= 64 << 10)
            written = 0
        } else if written > 64 << 10 && written * 2 > queued.count {
            queued.removeFirst(written)
            written = 0
        }
    }

    /// Reads what the client sent; returns its complete lines. At end of input, after a line
    /// over ``maximumLine``, or on an error, the client is to be closed (its complete lines are
    /// still returned; a half-written last line is not).
    package func receive(now: ContinuousClock.Instant) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        // A bounded number of reads per wake, so one client flooding us cannot starve the others.
        for _ in 0..<16 {
            let count: Int?
            do {
                count = try buffer.withUnsafeMutableBytes { bytes throws(SystemCallError) in
                    try UnixStream.receive(descriptor, into: bytes)
                }
            } catch {
                close(because: "gone (\(error))")
                break
            }
            guard let count else { break }
            if count == 0 {
                close(because: received.isEmpty ? "disconnected" : "disconnected in the middle of a command")
                break
            }
            var start = 0
            for position in 0..<count where buffer[position] == UInt8(ascii: "\n") {
                received.append(contentsOf: buffer[start..<position])
                start = position + 1
                if received.count > Self.maximumLine { break }
                lines.append(received)
                received.removeAll(keepingCapacity: true)
            }
            if received.count <= Self.maximumLine { received.append(contentsOf: buffer[start..<count]) }
            if received.count > Self.maximumLine {
                close(because: "sent a line over \(Self.maximumLine >> 10) KiB")
                break
            }
            if count < buffer.count { break }
        }
        if received.isEmpty {
            partialSince = nil
        } else if partialSince == nil {
            partialSince = now
        }
        return lines
    }

    /// Marks the client to be closed (the first reason stays).
    package func close(because reason: String) {
        if closing == nil { closing = reason }
    }
}
