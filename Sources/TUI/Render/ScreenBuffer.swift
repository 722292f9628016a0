import CorralModel

/// An in-memory screen: a grid of cells (one Unicode scalar and a style each; a character two
/// columns wide takes its cell and a ``Cell/isContinuation`` cell after it). The dashboard
/// renders into it; a backend puts it on a terminal; tests compare it as text.
package struct ScreenBuffer: Equatable, Sendable {
    /// One character position.
    package struct Cell: Hashable, Sendable {
        /// The character shown (one or two columns wide; NUL in a continuation cell).
        package var character: Unicode.Scalar
        /// How it is drawn.
        package var style: Style

        /// A blank cell.
        package static let blank = Cell(character: " ", style: .plain)

        /// The right half of the wide character in the cell before it: nothing to draw.
        package var isContinuation: Bool { character == "\u{0}" }
    }

    /// Columns.
    package let width: Int
    /// Rows.
    package let height: Int
    private var cells: [Cell]

    /// A blank screen of `width` × `height` (negative sizes count as 0).
    package init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// The cell at `row`, `column` (both 0-based, inside the screen).
    package subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set { cells[row * width + column] = newValue }
    }

    /// Writes `text` from (`row`, `column`), clipped to the screen and to `limit` columns, by
    /// display width (``TerminalText/width(of:)``): a wide character that does not fit whole is
    /// left out, zero-width ones are dropped, control characters are shown as `?` (callers show
    /// children's text through ``TerminalText/forDisplay(_:)`` first). Returns the columns written.
    @discardableResult
    package mutating func put(_ text: String, row: Int, column: Int, style: Style = .plain, limit: Int? = nil) -> Int {
        guard row >= 0, row < height, column < width else { return 0 }
        let end = min(width, column + (limit ?? width))
        var x = column
        for scalar in text.unicodeScalars {
            guard x < end else { break }
            let isControl = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            let shown: Unicode.Scalar = isControl ? "?" : scalar
            let columns = isControl ? 1 : TerminalText.width(of: scalar)
            if columns == 0 { continue }
            if x + columns > end { break }
            if x >= 0 {
                set(row, x, Cell(character: shown, style: style))
                if columns == 2 { set(row, x + 1, Cell(character: "\u{0}", style: style)) }
            }
            x += columns
        }
        return max(0, x - max(column, 0))
    }

    /// Sets one cell, blanking the other half of a wide character it overwrites.
    private mutating func set(_ row: Int, _ column: Int, _ cell: Cell) {
        if self[row, column].isContinuation, column > 0, !cell.isContinuation {
            self[row, column - 1].character = " "
        }
        if column + 1 < width, self[row, column + 1].isContinuation,
            TerminalText.width(of: self[row, column].character) == 2
        {
            self[row, column + 1].character = " "
        }
        self[row, column] = cell
    }

    /// Paints `count` columns of `row` from `column` with blanks in `style` (a bar, a highlight).
    package mutating func fill(row: Int, column: Int = 0, count: Int? = nil, style: Style) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        for x in max(0, column)..<max(max(0, column), end) {
            self[row, x] = Cell(character: " ", style: style)
        }
    }

    /// Restyles the existing characters of `row` from `column` over `count` columns.
    package mutating func restyle(row: Int, column: Int = 0, count: Int? = nil, _ change: (inout Style) -> Void) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        for x in max(0, column)..<max(max(0, column), end) { change(&self[row, x].style) }
    }

    /// Each row as plain text, trailing spaces removed: what golden files hold.
    package var lines: [String] {
        (0..<height).map { row in
            var line = String(
                String.UnicodeScalarView(
                    (0..<width).map { self[row, $0] }.filter { !$0.isContinuation }.map(\.character)))
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// The whole screen as text, one line per row.
    package var text: String { lines.joined(separator: "\n") }

}
