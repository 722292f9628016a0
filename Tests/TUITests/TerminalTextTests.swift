import CorralModel
import Testing

@testable import CorralTUI

@Suite("Children's text on a terminal")
struct TerminalTextTests {
    @Test("the dashboard drops escape sequences, expands tabs and shows other controls as ^X")
    func forDisplay() {
        #expect(TerminalText.forDisplay("\u{1B}[31mred\u{1B}[0m") == "red")
        #expect(TerminalText.forDisplay("\u{1B}]0;title\u{07}after") == "after")
        #expect(TerminalText.forDisplay("\u{1B}]52;c;aGk=\u{1B}\\clip") == "clip")
        #expect(TerminalText.forDisplay("a\u{1B}[6nb\u{1B}[2J\u{1B}[1Ac") == "abc")
        #expect(TerminalText.forDisplay("\u{9B}31mx") == "x")
        #expect(TerminalText.forDisplay("a\tb") == "a       b")
        #expect(TerminalText.forDisplay("日本\tx") == "日本    x")
        #expect(TerminalText.forDisplay("bell\u{07} cr\r") == "bell^G cr^M")
        #expect(TerminalText.forDisplay("\u{1B}(Bplain") == "plain")
        #expect(TerminalText.forDisplay("cut \u{1B}[") == "cut ")
    }

    @Test("a headless log on a terminal shows every control visibly and changes nothing else")
    func visible() {
        #expect(TerminalText.visible("\u{1B}]0;pwned\u{07}x") == "^[]0;pwned^Gx")
        #expect(TerminalText.visible("\r\u{1B}[1Aover") == "^M^[[1Aover")
        #expect(TerminalText.visible("\u{9B}6n\u{7F}") == "<9B>6n^?")
        #expect(TerminalText.visible("Привет\t😀") == "Привет\t😀")
        #expect(TerminalText.visible("a\nb", keepingNewlines: true) == "a\nb")
        #expect(TerminalText.visible("a\nb") == "a^Jb")
        // Bidirectional overrides and isolates would reorder the rest of the line.
        #expect(TerminalText.visible("user\u{202E}gnp.exe") == "user<U+202E>gnp.exe")
        #expect(TerminalText.visible("\u{2066}x\u{2069}") == "<U+2066>x<U+2069>")
        #expect(TerminalText.forDisplay("a\u{202D}b") == "a<U+202D>b")
    }

    @Test("display widths: CJK and emoji 2, combining marks 0, Cyrillic and box drawing 1")
    func widths() {
        #expect("日本語😀".unicodeScalars.map(TerminalText.width(of:)) == [2, 2, 2, 2])
        #expect("Жж→┌é".unicodeScalars.map(TerminalText.width(of:)) == [1, 1, 1, 1, 1])
        #expect(TerminalText.width(of: "\u{301}") == 0)
        #expect(TerminalText.width(of: "\u{200B}") == 0)
    }

    @Test("the screen buffer places wide characters by width and clips at a character boundary")
    func wideCells() {
        var screen = ScreenBuffer(width: 10, height: 2)
        #expect(screen.put("日本語abc", row: 0, column: 0) == 9)
        #expect(screen.lines[0] == "日本語abc")
        #expect(screen[0, 1].isContinuation)
        // Five columns left: two wide characters fit, the third does not, and is not cut.
        #expect(screen.put("日本語", row: 1, column: 5) == 4)
        #expect(screen.lines[1] == "     日本")
        // Overwriting the right half of a wide character blanks its left half.
        screen.put("x", row: 0, column: 1)
        #expect(screen.lines[0] == " x本語abc")
        #expect(screen.put("e\u{301}", row: 1, column: 0) == 1)
    }

    @Test("a diff that changes only the right half of a wide character redraws it from its left half")
    func diffWide() {
        var old = ScreenBuffer(width: 6, height: 1)
        old.put("ab日", row: 0, column: 0)
        var new = old
        new[0, 3] = ScreenBuffer.Cell(character: "\u{0}", style: .init(bold: true))
        let diff = ScreenDiff(from: old, to: new)
        #expect(diff.runs.first?.column == 2)
        #expect(diff.runs.first?.cells.first?.character == "日")
    }
}
