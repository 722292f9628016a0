/// Text a child controls, made safe for the operator's terminal and measurable in columns.
/// Nothing a child writes may reach a terminal as a control: escape sequences could set the
/// window title, write the clipboard (OSC 52), clear the screen, move the cursor over corral's
/// own lines, or make the terminal type an answer into the operator's shell (`ESC[6n`).
package enum TerminalText {
    /// For the dashboard: escape sequences (colours, cursor moves, titles) removed, tabs expanded
    /// to 8-column stops, other control characters shown as `^X` (C1 as `<9B>`).
    package static func forDisplay(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var column = 0
        var scalars = text.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            switch scalar.value {
            case 0x1B, 0x9B, 0x9D, 0x90, 0x98, 0x9E, 0x9F:
                skipSequence(startingWith: scalar, in: &scalars)
            case 0x09:
                let spaces = 8 - column % 8
                result.append(contentsOf: repeatElement(" ", count: spaces))
                column += spaces
            default:
                let shown = visible(scalar)
                result.append(contentsOf: shown.unicodeScalars)
                column += shown.unicodeScalars.reduce(0) { $0 + width(of: $1) }
            }
        }
        return String(result)
    }

    /// For a headless log on a terminal: every control character shown visibly (`^[` for ESC,
    /// `^?` for DEL, `<9B>` for C1); tabs (and newlines, if kept) and everything else unchanged.
    package static func visible(_ text: String, keepingNewlines: Bool = false) -> String {
        let shown = { (scalar: Unicode.Scalar) in isControl(scalar) && !(keepingNewlines && scalar == "\n") }
        guard text.unicodeScalars.contains(where: shown) else { return text }
        var result = ""
        for scalar in text.unicodeScalars { result += shown(scalar) ? visible(scalar) : String(scalar) }
        return result
    }

    /// The columns `scalar` takes on a terminal: 0 (combining marks, zero-width characters),
    /// 2 (East Asian wide and fullwidth characters, emoji), else 1.
    package static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if value == 0x200B || (0x1160...0x11FF).contains(value) { return 0 }
        if scalar.properties.isEmojiPresentation { return 2 }
        switch value {
        case 0x1100...0x115F, 0x2329, 0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
            0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF,
            0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar.value != 0x09) || (0x7F...0x9F).contains(scalar.value)
            || isBidiOverride(scalar)
    }

    /// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they
    /// reorder what follows on the line, so a child could make corral's own text read otherwise.
    private static func isBidiOverride(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x09: return "\t"
        case 0..<0x20: return "^" + String(Unicode.Scalar(UInt8(scalar.value + 0x40)))
        case 0x7F: return "^?"
        case 0x80...0x9F:
            let digits = String(scalar.value, radix: 16, uppercase: true)
            return "<\(digits)>"
        case _ where isBidiOverride(scalar):
            return "<U+\(String(scalar.value, radix: 16, uppercase: true))>"
        default: return String(scalar)
        }
    }

    /// Drops the rest of an escape sequence: CSI (`ESC [` or C1 CSI) up to its final byte; OSC,
    /// DCS, SOS, PM and APC strings up to BEL or ST; a two-character escape otherwise.
    private static func skipSequence(startingWith first: Unicode.Scalar, in scalars: inout Substring.UnicodeScalarView)
    {
        var kind = first.value
        if kind == 0x1B {
            guard let next = scalars.first else { return }
            switch next {
            case "[": kind = 0x9B
            case "]": kind = 0x9D
            case "P": kind = 0x90
            case "X": kind = 0x98
            case "^": kind = 0x9E
            case "_": kind = 0x9F
            default:
                // ESC, intermediates (0x20-0x2F), then one final character.
                while let intermediate = scalars.first, (0x20...0x2F).contains(intermediate.value) {
                    scalars.removeFirst()
                }
                if !scalars.isEmpty { scalars.removeFirst() }
                return
            }
            scalars.removeFirst()
        }
        if kind == 0x9B {
            while let scalar = scalars.popFirst() {
                if (0x40...0x7E).contains(scalar.value) { return }
                if !(0x20...0x3F).contains(scalar.value) { return }
            }
            return
        }
        // A string sequence: up to BEL, ST (ESC \) or C1 ST.
        while let scalar = scalars.popFirst() {
            if scalar.value == 0x07 || scalar.value == 0x9C { return }
            if scalar.value == 0x1B {
                if scalars.first == "\\" { scalars.removeFirst() }
                return
            }
        }
    }
}
