import CorralTestSupport
import Foundation
import Testing

/// `corral logs` against a running corral: the kept lines, filtered, as text or JSON, and `-f`
/// following two programs until the server stops.
@Suite("corral logs", .processExclusive)
struct LogsEndToEndTests {
    typealias ProjectDirectory = CheckEndToEndTests.ProjectDirectory

    static let project = """
        [programs.web]
        command = "i=0; while :; do i=$((i + 1)); echo \\"web line $i\\"; echo \\"web error $i\\" >&2; sleep 0.1; done"
        workers = 2

        [programs.clock]
        command = "while :; do echo tick; sleep 0.1; done"
        """

    @Test("kept lines by name, program, text and count, as text or JSON; -f follows two programs until the stop")
    func logs() throws {
        let project = try ProjectDirectory(["corral.toml": Self.project])
        let socket = project.path + "/c.sock"
        let server = try RunningProgram(
            corralExecutable, ["--no-tui", "--control", socket, "-f", project.path + "/corral.toml"])
        defer {
            kill(server.pid, SIGKILL)
            server.wait()
        }
        #expect(eventually(within: .seconds(10)) { server.stdout.contains("web line 3") })
        func logs(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(corralExecutable, ["logs", "--socket", socket] + arguments)
        }
        let all = try logs()
        #expect(all.status == 0, "\(all.stderr)")
        let format = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (web\.[01]|clock\.0) (out|err) \| "#
        let lines = all.stdout.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.range(of: format, options: .regularExpression) != nil })
        let errors = try logs("web", "--grep", "error", "-n", "2")
        let errorLines = errors.stdout.split(separator: "\n")
        #expect(errorLines.count == 2, "\(errors.stdout)")
        #expect(errorLines.allSatisfy { $0.contains(" web.") && $0.contains(" err | web error ") })
        let regex = try logs("clock.0", "--grep", "re:^ti.k$", "--json", "-n", "1")
        let object = try JSONSerialization.jsonObject(with: Data(regex.stdout.utf8)) as? [String: Any]
        #expect(object?["name"] as? String == "clock.0" && object?["line"] as? String == "tick", "\(regex.stdout)")
        #expect(object?["stream"] as? String == "stdout" && object?["program"] as? String == "clock")
        let unknown = try logs("api")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no process or program named api"))

        let follower = try RunningProgram(
            corralExecutable, ["logs", "--socket", socket, "-f", "-n", "0", "web", "clock"])
        defer {
            kill(follower.pid, SIGKILL)
            follower.wait()
        }
        #expect(
            eventually(within: .seconds(10)) {
                follower.stdout.contains("clock.0 out | tick") && follower.stdout.contains("web.1 err | web error")
            }, "\(follower.stdout)")
        kill(server.pid, SIGTERM)
        #expect(server.wait() == 0)
        #expect(follower.wait(timeout: .seconds(10)) == 0, "it ends with the server: \(follower.stderr)")
    }
}
