import CNcursesw
import Glibc

/// The only code that touches curses: puts a ``ScreenBuffer`` on the terminal (only the cells
/// that changed since the last frame), reads keys, follows resizes, and restores the terminal.
package final class NcursesBackend {
    /// Why the terminal could not be taken over.
    package struct StartError: Error, CustomStringConvertible {
        /// What went wrong.
        package var description: String
    }

    private let colors: Bool
    private let offscreen: (output: CInt, input: CInt, width: Int, height: Int)?
    private var screen: OpaquePointer?
    private var previous: ScreenBuffer?
    private var active = false

    /// A backend; nothing happens to the terminal until ``start()``.
    package init(colors: Bool) {
        self.colors = colors
        self.offscreen = nil
    }

    /// A backend that draws for an `xterm-256color` of `width` × `height` into `output` (a file
    /// or pipe) instead of the terminal, reading keys from `input`: for measuring what a frame
    /// costs. The descriptors stay the caller's until ``stop()``, which closes them.
    package init(offscreenOutput output: CInt, input: CInt, width: Int, height: Int, colors: Bool) {
        self.colors = colors
        self.offscreen = (output, input, width, height)
    }

    /// Takes over the terminal: alternate screen, no echo, keys one at a time, hidden cursor.
    package func start() throws {
        setlocale(LC_ALL, "")
        // Wide characters need a UTF-8 locale; without one (LANG unset) curses would print `?`
        // for everything outside ASCII. The terminal is taken to speak UTF-8, as they all do now.
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset) != "UTF-8" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        if let offscreen {
            guard let screen = corral_curses_newterm_fds("xterm-256color", offscreen.output, offscreen.input) else {
                throw StartError(description: "curses cannot draw offscreen")
            }
            self.screen = screen
            _ = set_term(screen)
            resizeterm(CInt(offscreen.height), CInt(offscreen.width))
        } else {
            guard let term = getenv("TERM"), String(cString: term) != "dumb", String(cString: term) != "" else {
                throw StartError(description: "TERM is unset or dumb: the dashboard needs a real terminal")
            }
            guard let screen = corral_curses_newterm() else {
                throw StartError(description: "curses cannot drive TERM=\(String(cString: term))")
            }
            self.screen = screen
            _ = set_term(screen)
        }
        active = true
        cbreak()
        noecho()
        nonl()
        let window = corral_curses_stdscr()
        keypad(window, true)
        corral_curses_enable_wheel()
        nodelay(window, true)
        if offscreen == nil { corral_terminal_disable_flow_control(STDIN_FILENO) }
        set_escdelay(25)
        curs_set(0)
        if colors && has_colors() {
            start_color()
            use_default_colors()
            for color in Color.allCases { init_pair(Int16(color.rawValue), Int16(color.rawValue), -1) }
        }
    }

    /// The terminal's size in columns and rows.
    package var size: (width: Int, height: Int) {
        (Int(corral_curses_columns()), Int(corral_curses_lines()))
    }

    /// Re-reads the size from the kernel after `SIGWINCH` and tells curses.
    package func updateSize() {
        var rows: CInt = 0
        var columns: CInt = 0
        guard active, corral_terminal_size(STDOUT_FILENO, &rows, &columns) == 0 else { return }
        resizeterm(rows, columns)
        previous = nil
    }

    /// Draws `buffer`, writing only what changed since the previous frame. Returns the number
    /// of cells written.
    @discardableResult
    package func draw(_ buffer: ScreenBuffer) -> Int {
        guard active else { return 0 }
        let diff = ScreenDiff(from: previous, to: buffer)
        if diff.clearsScreen { erase() }
        for run in diff.runs {
            for (offset, cell) in run.cells.enumerated() where !cell.isContinuation {
                _ = corral_curses_put(
                    CInt(run.row), CInt(run.column + offset), wchar_t(cell.character.value), attributes(cell.style),
                    CInt(colors ? (cell.style.foreground?.rawValue ?? 0) : 0))
            }
        }
        refresh()
        previous = buffer
        return diff.cellCount
    }

    /// Every key waiting now, and whether anything at all was read (false after the input was
    /// reported readable means it is at end of file: the terminal is gone).
    package func readKeys() -> (keys: [Key], readAnything: Bool) {
        guard active else { return ([], false) }
        var keys: [Key] = []
        var readAnything = false
        while true {
            var code: CInt = 0
            let kind = corral_curses_read_wide(&code)
            if kind < 0 { break }
            readAnything = true
            // A character past ASCII (a Cyrillic search pattern) as itself; the rest as before.
            if kind == 0, code >= 160, let scalar = Unicode.Scalar(UInt32(code)) {
                keys.append(.character(Character(scalar)))
                continue
            }
            if let key = Self.decode(code) { keys.append(key) }
            if kind == 1, code == corral_curses_key_resize() { previous = nil }
        }
        return (keys, readAnything)
    }

    /// Gives the terminal back as it was. Safe to call more than once.
    package func stop() {
        guard active else { return }
        active = false
        curs_set(1)
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }

    deinit { stop() }

    private func attributes(_ style: Style) -> CInt {
        var value: CInt = 0
        if style.bold { value |= corral_curses_attribute_bold() }
        if style.reverse { value |= corral_curses_attribute_reverse() }
        if style.dim { value |= corral_curses_attribute_dim() }
        return value
    }

    /// Maps a curses key code to a ``Key``.
    static func decode(_ code: CInt) -> Key? {
        switch code {
        case corral_curses_key_up(): return .up
        case corral_curses_key_down(): return .down
        case corral_curses_key_enter(), 10, 13: return .enter
        case 27: return .escape
        case corral_curses_key_page_up(): return .pageUp
        case corral_curses_key_page_down(): return .pageDown
        case corral_curses_key_home(): return .home
        case corral_curses_key_end(): return .end
        case corral_curses_key_backspace(), 127, 8: return .backspace
        case corral_curses_key_mouse():
            switch corral_curses_wheel() {
            case 1: return .wheelUp
            case -1: return .wheelDown
            default: return nil
            }
        case 32...126: return .character(Character(Unicode.Scalar(UInt8(code))))
        default: return nil
        }
    }
}
