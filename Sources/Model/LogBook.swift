import CorralEngine
import DequeModule

/// Every process's output, kept for the log pane: a bounded ring per process. A process keeps at
/// most ``Limits/linesPerProcess`` lines and ``Limits/bytesPerProcess`` bytes, and never more
/// than its share of ``Limits/totalBytes`` (the total divided by the number of processes), so
/// memory stays bounded under a flood however many processes there are. Lines are numbered in
/// the order they arrived (``Line/sequence``); the merged log of all processes is read in that
/// order without being stored twice.
package struct LogBook: Sendable {
    /// How much is kept.
    package struct Limits: Sendable, Equatable {
        /// Lines kept per process.
        package var linesPerProcess = 10_000
        /// Bytes kept per process (text, plus ``lineOverhead`` per line).
        package var bytesPerProcess = 2 << 20
        /// Bytes kept in all.
        package var totalBytes = 64 << 20

        /// The defaults: 10,000 lines and 2 MiB per process, 64 MiB in all.
        package init() {}

        /// Chosen limits.
        package init(linesPerProcess: Int, bytesPerProcess: Int, totalBytes: Int) {
            self.linesPerProcess = linesPerProcess
            self.bytesPerProcess = bytesPerProcess
            self.totalBytes = totalBytes
        }
    }

    /// What a line costs beyond its text (the record and the string's header), for the byte limits.
    package static let lineOverhead = 96

    /// One kept line.
    package struct Line: Sendable, Equatable {
        /// Its number in arrival order, over every process.
        package var sequence: Int
        /// The process it came from.
        package var slot: Int
        /// Which stream.
        package var stream: ChildStream
        /// The text, as shown.
        package var text: String
        /// A line corral wrote itself: the start of a new generation of the process.
        package var isMarker = false
    }

    /// The limits in force.
    package let limits: Limits
    private var rings: [Int: Deque<Line>] = [:]
    private var bytes: [Int: Int] = [:]
    private var nextSequence = 0

    /// An empty book.
    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Lines kept, over every process.
    package private(set) var count = 0
    /// Bytes kept, over every process.
    package private(set) var totalBytes = 0

    /// Keeps a line of `slot`'s output, dropping its oldest ones past the limits.
    package mutating func append(slot: Int, stream: ChildStream, text: String, isMarker: Bool = false) {
        let line = Line(sequence: nextSequence, slot: slot, stream: stream, text: text, isMarker: isMarker)
        nextSequence += 1
        let size = text.utf8.count + Self.lineOverhead
        rings[slot, default: []].append(line)
        bytes[slot, default: 0] += size
        count += 1
        totalBytes += size
        let share = min(limits.bytesPerProcess, limits.totalBytes / max(1, rings.count))
        // Counted without binding the ring: a copy alive while it is changed would be copied whole.
        while (rings[slot]?.count ?? 0) > 1,
            (rings[slot]?.count ?? 0) > limits.linesPerProcess || (bytes[slot] ?? 0) > share,
            let dropped = rings[slot]?.removeFirst()
        {
            let droppedSize = dropped.text.utf8.count + Self.lineOverhead
            bytes[slot, default: 0] -= droppedSize
            totalBytes -= droppedSize
            count -= 1
        }
    }

    /// The lines of `slot` alone (nil: every process) that end at or before `anchor` (nil: the
    /// newest), at most `limit`, oldest first.
    package func lines(slot: Int?, endingAt anchor: Int?, limit: Int) -> [Line] {
        guard limit > 0 else { return [] }
        var cursors = tails(slot: slot, endingAt: anchor)
        var result: [Line] = []
        result.reserveCapacity(min(limit, 1024))
        while result.count < limit, let line = Self.takeNewest(&cursors) { result.append(line) }
        return result.reversed()
    }

    /// The sequence number `distance` lines before `anchor` (nil: the newest) in the log of `slot`
    /// (nil: every process), or the oldest kept line's when there are fewer; nil when nothing is
    /// kept.
    package func sequence(slot: Int?, before anchor: Int?, distance: Int) -> Int? {
        var cursors = tails(slot: slot, endingAt: anchor)
        var last: Int?
        var taken = 0
        while taken <= distance, let line = Self.takeNewest(&cursors) {
            last = line.sequence
            taken += 1
        }
        return last
    }

    /// How many lines of `slot` (nil: all) come after `anchor`.
    package func countAfter(_ anchor: Int, slot: Int?) -> Int {
        ringsFor(slot).reduce(0) { total, ring in
            total + (ring.count - Self.endIndex(of: ring, atOrBefore: anchor))
        }
    }

    /// How many lines of `slot` (nil: all) are kept.
    package func count(slot: Int?) -> Int {
        ringsFor(slot).reduce(0) { $0 + $1.count }
    }

    /// The newest sequence number of `slot`'s log (nil: all), or nil when nothing is kept.
    package func newest(slot: Int?) -> Int? {
        ringsFor(slot).compactMap(\.last?.sequence).max()
    }

    /// Every kept line of `slot` (nil: all) for which `matches` holds, oldest first.
    package func search(slot: Int?, _ matches: (String) -> Bool) -> [Line] {
        search(slot: slot, within: nil, matches).lines
    }

    /// The kept lines that match, oldest first, looked at for at most `limit` (the clock read
    /// every 1,024 lines): `complete` false when it ran out first, with what it found so far.
    package func search(slot: Int?, within limit: Duration?, _ matches: (String) -> Bool)
        -> (lines: [Line], complete: Bool)
    {
        let deadline = limit.map { ContinuousClock.now + $0 }
        var found: [Line] = []
        var looked = 0
        for ring in ringsFor(slot) {
            for line in ring where !line.isMarker {
                looked += 1
                if looked % 1024 == 0, let deadline, ContinuousClock.now >= deadline {
                    return (found.sorted { $0.sequence < $1.sequence }, false)
                }
                if matches(line.text) { found.append(line) }
            }
        }
        return (found.sorted { $0.sequence < $1.sequence }, true)
    }

    // MARK: - Merging the rings, newest first

    /// A position in one ring: the lines before `end` are still to be taken.
    private struct Cursor {
        var ring: Deque<Line>
        var end: Int
    }

    private func ringsFor(_ slot: Int?) -> [Deque<Line>] {
        if let slot { return rings[slot].map { [$0] } ?? [] }
        return Array(rings.values)
    }

    private func tails(slot: Int?, endingAt anchor: Int?) -> [Cursor] {
        ringsFor(slot).map { ring in
            Cursor(ring: ring, end: anchor.map { Self.endIndex(of: ring, atOrBefore: $0) } ?? ring.count)
        }
    }

    /// The index after the last line of `ring` numbered `anchor` or less.
    private static func endIndex(of ring: Deque<Line>, atOrBefore anchor: Int) -> Int {
        var low = 0
        var high = ring.count
        while low < high {
            let middle = (low + high) / 2
            if ring[middle].sequence <= anchor { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Takes the newest line among the cursors.
    private static func takeNewest(_ cursors: inout [Cursor]) -> Line? {
        var best: Int?
        for index in cursors.indices where cursors[index].end > 0 {
            let candidate = cursors[index].ring[cursors[index].end - 1].sequence
            if best.map({ candidate > cursors[$0].ring[cursors[$0].end - 1].sequence }) ?? true { best = index }
        }
        guard let best else { return nil }
        cursors[best].end -= 1
        return cursors[best].ring[cursors[best].end]
    }
}
