import CorralEngine

/// The latest lines of the children's output, as they came (no conversion: keeping one costs a
/// store), for a new control client's snapshot.
package struct RecentOutput {
    /// One line and where it came from.
    package struct Line {
        var slot: Int
        var stream: ChildStream
        var text: String
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
