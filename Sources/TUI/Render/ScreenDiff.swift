/// What changed between two frames: runs of adjacent cells per row, so a backend writes only
/// those (a one-row change costs about one row of output).
package struct ScreenDiff: Equatable, Sendable {
    /// Adjacent changed cells on one row.
    package struct Run: Equatable, Sendable {
        /// The row.
        package var row: Int
        /// The first column.
        package var column: Int
        /// The new cells, left to right.
        package var cells: [ScreenBuffer.Cell]
    }

    /// The runs to write.
    package var runs: [Run]
    /// Whether the whole screen must be cleared first (first frame, or a new size).
    package var clearsScreen: Bool

    /// The changes that turn `old` into `new`; everything when `old` is nil or another size.
    package init(from old: ScreenBuffer?, to new: ScreenBuffer) {
        let full = old == nil || old?.width != new.width || old?.height != new.height
        clearsScreen = full
        runs = []
        for row in 0..<new.height {
            var column = 0
            while column < new.width {
                let changed = full ? new[row, column] != .blank : old?[row, column] != new[row, column]
                guard changed else {
                    column += 1
                    continue
                }
                var run = Run(row: row, column: column, cells: [])
                // A changed right half of a wide character is redrawn with its left half.
                if new[row, column].isContinuation, column > 0 {
                    run.column -= 1
                    run.cells.append(new[row, column - 1])
                }
                while column < new.width, full ? new[row, column] != .blank : old?[row, column] != new[row, column] {
                    run.cells.append(new[row, column])
                    column += 1
                }
                runs.append(run)
            }
        }
    }

    /// Number of cells to write.
    package var cellCount: Int { runs.reduce(0) { $0 + $1.cells.count } }
}
