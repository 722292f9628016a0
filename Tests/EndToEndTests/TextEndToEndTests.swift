import Foundation
import Testing

/// Children's text as the operator sees it on a terminal, with no UTF-8 locale set.
@Suite("children's text on the operator's terminal")
struct TextEndToEndTests {
    /// A worker printing non-Latin text, colours, a tab and escape sequences, then sleeping.
    static func script() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corral-text-\(UUID()).sh").path
        let text = """
            printf 'Привет мир → ┌─┐ 日本語 😀 end\\n'
            printf '\\033[31mred\\033[0m\\tafter-tab\\n'
            printf '\\033]0;pwned\\007title \\033[6n query\\n'
            exec sleep 100
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the dashboard shows wide characters by their width, colours and escapes stripped, tabs expanded")
    func dashboard() throws {
        let script = try Self.script()
        defer { unlink(script) }
        let session = try DashboardEndToEndTests.TmuxSession(
            width: 120, height: 40, command: "env -u LANG -u LC_ALL \(corralExecutable) -- sh \(script); sleep 60")
        let shown = eventually(within: .seconds(10)) { session.screen().contains("after-tab") }
        let screen = session.screen()
        #expect(shown, "\(screen)")
        #expect(screen.contains("worker.0 | Привет мир → ┌─┐ 日本語 😀 end"), "\(screen)")
        #expect(screen.contains("worker.0 | red     after-tab"), "\(screen)")
        #expect(screen.contains("worker.0 | title  query"), "\(screen)")
        session.press("q")
    }

    @Test("--no-tui on a terminal shows children's escape sequences as text (^[), never raw")
    func headless() throws {
        let script = try Self.script()
        defer { unlink(script) }
        let session = try DashboardEndToEndTests.TmuxSession(
            width: 120, height: 40, command: "\(corralExecutable) --no-tui -- sh \(script); sleep 60")
        let shown = eventually(within: .seconds(10)) { session.screen().contains("query") }
        let screen = session.screen()
        #expect(shown, "\(screen)")
        #expect(screen.contains("worker.0 | Привет мир → ┌─┐ 日本語 😀 end"), "\(screen)")
        #expect(screen.contains("worker.0 | ^[[31mred^[[0m"), "\(screen)")
        #expect(screen.contains("worker.0 | ^[]0;pwned^Gtitle ^[[6n query"), "\(screen)")
        session.press("q", "Enter")
    }
}
