import CorralEngine
import Glibc

/// The latest lines of the children's output, as they came (no conversion: keeping one costs a
/// store and a clock read), for a new control client's snapshot and `corral logs`.
package struct RecentOutput {
    /// One line, where it came from, and when it came (wall clock).
    package struct Line {
        var slot: Int
        var stream: ChildStream
        var text: String
        var at: timespec

        /// A line that came now.
        package init(slot: Int, stream: ChildStream, text: String) {
            self.slot = slot
            self.stream = stream
            self.text = text
            at = WallClock.instant()
        }
    }

    private var ring: [Line] = []
    private var next = 0
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
        ring.reserveCapacity(capacity)
    }

    /// Keeps `line`, forgetting the oldest when full.
    package mutating func append(_ line: Line) {
        if ring.count < capacity {
            ring.append(line)
        } else {
            ring[next] = line
            next = (next + 1) % capacity
        }
    }

    /// The lines, oldest first.
    package var lines: [Line] { Array(ring[next...] + ring[..<next]) }
}
