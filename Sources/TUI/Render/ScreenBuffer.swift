/// An in-memory screen: a grid of cells (one Unicode scalar and a style each). The dashboard
/// renders into it; a backend puts it on a terminal; tests compare it as text.
public struct ScreenBuffer: Equatable, Sendable {
    /// One character position.
    public struct Cell: Hashable, Sendable {
        /// The character shown (always one column wide).
        public var character: Unicode.Scalar
        /// How it is drawn.
        public var style: Style

        /// A blank cell.
        public static let blank = Cell(character: " ", style: .plain)
    }

    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    private var cells: [Cell]

    /// A blank screen of `width` × `height` (negative sizes count as 0).
    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// The cell at `row`, `column` (both 0-based, inside the screen).
    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set { cells[row * width + column] = newValue }
    }

    /// Writes `text` from (`row`, `column`), clipped to the screen and to `limit` columns.
    /// Characters wider than one column, and control characters, are shown as `?`.
    /// Returns the number of columns written.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, style: Style = .plain, limit: Int? = nil) -> Int {
        guard row >= 0, row < height, column < width else { return 0 }
        let end = min(width, column + (limit ?? width))
        var x = column
        for scalar in text.unicodeScalars {
            guard x < end else { break }
            if x >= 0 { self[row, x] = Cell(character: Self.displayable(scalar), style: style) }
            x += 1
        }
        return max(0, x - max(column, 0))
    }

    /// Paints `count` columns of `row` from `column` with blanks in `style` (a bar, a highlight).
    public mutating func fill(row: Int, column: Int = 0, count: Int? = nil, style: Style) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        for x in max(0, column)..<max(max(0, column), end) {
            self[row, x] = Cell(character: " ", style: style)
        }
    }

    /// Restyles the existing characters of `row` from `column` over `count` columns.
    public mutating func restyle(row: Int, column: Int = 0, count: Int? = nil, _ change: (inout Style) -> Void) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        for x in max(0, column)..<max(max(0, column), end) { change(&self[row, x].style) }
    }

    /// Each row as plain text, trailing spaces removed: what golden files hold.
    public var lines: [String] {
        (0..<height).map { row in
            var line = String(String.UnicodeScalarView((0..<width).map { self[row, $0].character }))
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// The whole screen as text, one line per row.
    public var text: String { lines.joined(separator: "\n") }

    private static func displayable(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.value < 0x20 || scalar.value == 0x7F { return "?" }
        if scalar.value < 0x7F { return scalar }
        // Only characters known to be one column wide pass: Latin-1, box drawing, arrows, blocks.
        switch scalar.value {
        case 0xA0...0x24F, 0x2190...0x21FF, 0x2500...0x259F, 0x2022, 0x2026, 0x00B7, 0x2013, 0x2014, 0x00D7:
            return scalar
        default:
            return "?"
        }
    }
}
