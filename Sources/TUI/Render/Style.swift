/// The colours the dashboard uses (the terminal's basic eight, so they work everywhere).
package enum Color: UInt8, Hashable, Sendable, CaseIterable {
    case red = 1
    case green = 2
    case yellow = 3
    case blue = 4
    case magenta = 5
    case cyan = 6
    case white = 7
}

/// How a cell is drawn. With colour off (`NO_COLOR`), only `bold`, `reverse` and `dim` remain.
package struct Style: Hashable, Sendable {
    /// Foreground colour, or the terminal's default.
    package var foreground: Color?
    /// Bold text.
    package var bold: Bool
    /// Swapped foreground and background (selection, header bar).
    package var reverse: Bool
    /// Faint text.
    package var dim: Bool

    /// A style; everything off by default.
    package init(foreground: Color? = nil, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        self.foreground = foreground
        self.bold = bold
        self.reverse = reverse
        self.dim = dim
    }

    /// The terminal's default look.
    package static let plain = Style()
}
