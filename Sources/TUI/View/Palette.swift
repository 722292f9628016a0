import CorralEngine

/// The dashboard's styles, with or without colour.
struct Palette {
    let colors: Bool

    private func color(_ color: Color, bold: Bool = false) -> Style {
        colors ? Style(foreground: color, bold: bold) : Style(bold: bold)
    }

    var bar: Style { Style(bold: true, reverse: true) }
    var heading: Style { Style(bold: true) }
    var dim: Style { Style(dim: true) }
    var accent: Style { color(.cyan) }
    var warning: Style { color(.yellow, bold: true) }
    var failure: Style { color(.red) }
    /// A search match in the log.
    var match: Style { Style(bold: true, reverse: true) }
    var box: Style { color(.cyan, bold: true) }

    /// The log prefix colour of the program at `position` in its file: a stable palette that
    /// leaves red to standard error.
    func program(_ position: Int) -> Style {
        let colors: [Color] = [.cyan, .green, .yellow, .blue, .magenta, .white]
        return color(colors[position % colors.count])
    }

    /// The colour of a state: yellow while starting or waiting to restart, green running,
    /// red unhealthy, magenta stopping; an ended process is dim when clean, red when it failed.
    func state(_ state: ProcessState, failed: Bool) -> Style {
        switch state {
        case .pending: return dim
        case .initializing: return color(.yellow)
        case .running: return color(.green, bold: true)
        case .stopping: return color(.magenta, bold: true)
        case .unhealthy: return color(.red, bold: true)
        case .exited: return failed ? color(.red, bold: true) : dim
        case .backoff: return color(.yellow, bold: true)
        }
    }
}
