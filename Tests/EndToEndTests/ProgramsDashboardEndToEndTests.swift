import CorralTestSupport
import Foundation
import Testing

/// A project run on the real dashboard under tmux: two programs, named rows grouped by
/// program, the header's counts, a program scaled with +.
@Suite("corral runs a project under tmux", .processExclusive)
struct ProgramsDashboardEndToEndTests {
    typealias CorralInTmux = DashboardEndToEndTests.CorralInTmux
    typealias ProjectDirectory = CheckEndToEndTests.ProjectDirectory

    @Test("two programs: web.0, web.1 and clock.0, counted per program; + on web adds web.2 beside them; q stops")
    func twoPrograms() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            ready-after = 0

            [programs.web]
            command = "echo \\"$CORRAL_PROCESS_NAME serving\\"; exec sleep 1000"
            workers = 2

            [programs.clock]
            command = "while :; do echo tick; sleep 1; done"
            """
        ])
        let run = try CorralInTmux(
            width: 120, height: 40, arguments: "--no-control -f \(project.path)/corral.toml")
        let session = run.session
        #expect(
            eventually(within: .seconds(20)) { session.screen().contains("web 2/2 · clock 1/1") },
            "\(session.screen())")
        let rows = { session.screen().split(separator: "\n").map(String.init) }
        #expect(rows().contains { $0.contains("web.1") && $0.contains("running") })
        #expect(rows().contains { $0.contains("clock.0") && $0.contains("running") })
        #expect(rows().contains { $0.contains("web.0 | web.0 serving") }, "\(session.screen())")
        session.press("+")
        #expect(
            eventually(within: .seconds(10)) { session.screen().contains("web 3/3 · clock 1/1") },
            "\(session.screen())")
        // web.2 takes the next slot after clock's, and is shown with web.
        let table = rows()
        let web2 = table.firstIndex { $0.contains("web.2") && $0.contains("running") }
        let clock = table.firstIndex { $0.contains("clock.0") && $0.contains("running") }
        #expect(web2 != nil && clock != nil, "\(session.screen())")
        if let web2, let clock { #expect(web2 < clock, "\(session.screen())") }
        session.press("q")
        #expect(run.exitStatus() == "0", "\(session.screen())")
        #expect(run.terminalRestored())
    }
}
