import CorralTestSupport
import Foundation
import Testing

/// `corral check` on real files: the plan, and every error as FILE:LINE: message with exit 64.
@Suite("corral check", .processExclusive)
struct CheckEndToEndTests {
    /// A directory of its own with `files` written in it, removed when the test ends.
    final class ProjectDirectory {
        let path: String

        init(_ files: [String: String]) throws {
            path =
                FileManager.default.temporaryDirectory.appendingPathComponent("corral-check-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            for (name, text) in files {
                #expect(FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8)))
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("a good corral.toml: the programs in start order with command, readiness, dependencies, env keys, PORTs")
    func plan() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "python3 -m http.server $PORT"
            workers = 2
            ready = "tcp:127.0.0.1:$PORT"
            depends-on = [{ program = "migrate", condition = "completed-successfully" }]
            env = { MODE = "prod" }

            [programs.migrate]
            command = ["python3", "manage.py", "migrate"]
            oneshot = true
            """,
            ".env": "DATABASE_URL=postgres://db/app\n",
        ])
        let result = try runProgram(corralExecutable, ["check", "-f", project.path + "/corral.toml"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let headings = lines.filter { !$0.hasPrefix(" ") && $0.contains("process") }
        #expect(headings == ["migrate  1 process, one-shot", "web  2 processes"], "\(result.stdout)")
        #expect(result.stdout.contains("  command      python3 manage.py migrate"))
        #expect(result.stdout.contains("  readiness    tcp:127.0.0.1:$PORT"))
        #expect(result.stdout.contains("  depends on   migrate (completed-successfully)"))
        #expect(result.stdout.contains("  environment  DATABASE_URL, MODE"))
        #expect(result.stdout.contains("  PORT         5000-5001"), "web is first in the file: 5000 + its index")
        #expect(result.stdout.contains("  PORT         5100"), "migrate is second: 5100")
    }

    @Test("a Procfile with --formation and --port-base")
    func procfile() throws {
        let project = try ProjectDirectory(["Procfile": "web: gunicorn app:app\nworker: celery -A app worker\n"])
        let result = try runProgram(
            corralExecutable,
            ["check", "-f", project.path + "/Procfile", "--formation", "web=3", "--port-base", "8000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("web  3 processes"))
        #expect(result.stdout.contains("  PORT         8000-8002"))
        #expect(result.stdout.contains("  PORT         8100"))
    }

    @Test("a bad file: every error as FILE:LINE: message, values checked by the command line's rules, exit 64")
    func errors() throws {
        let project = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "serve"
            wait-timeout = "soon"
            restrat = "always"

            [programs.worker]
            command = "work"
            depends-on = ["wbe"]
            """,
            ".env": "GOOD=1\nBAD LINE\n",
        ])
        let file = project.path + "/corral.toml"
        let result = try runProgram(corralExecutable, ["check", "-f", file])
        #expect(result.status == 64)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(file):3: web: wait-timeout:") })
        #expect(lines.contains("\(file):4: unknown key \"restrat\" in [programs.web]; did you mean \"restart\"?"))
        #expect(lines.contains("\(file):8: worker depends on wbe, which is not a program; did you mean \"web\"?"))
        #expect(lines.contains("\(project.path)/.env:2: not KEY=VALUE, a comment or a blank line"))
        #expect(result.stdout.isEmpty, "no plan for a bad file")
    }

    @Test("no file: a clear error; an unreadable one: its reason")
    func missing() throws {
        let result = try runProgram(corralExecutable, ["check", "-f", "/nonexistent/corral.toml"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("/nonexistent/corral.toml: cannot read it: No such file or directory"))
    }

    @Test("each program's own settings are in the plan; a setting of the whole run that differs is an error")
    func settings() throws {
        let good = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "serve"
            restart = "always"
            stop-signals = "QUIT"

            [programs.worker]
            command = "work"
            wait-timeout = 30
            """
        ])
        let plan = try runProgram(corralExecutable, ["check", "-f", good.path + "/corral.toml"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("  settings     restart always · stop-signals QUIT"), "\(plan.stdout)")
        #expect(plan.stdout.contains("  settings     wait-timeout 30"), "\(plan.stdout)")
        let bad = try ProjectDirectory([
            "corral.toml": """
            [programs.web]
            command = "serve"
            reload-batch = 2

            [programs.worker]
            command = "work"
            """
        ])
        let file = bad.path + "/corral.toml"
        let refused = try runProgram(corralExecutable, ["check", "-f", file])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("\(file):3: reload-batch differs between programs"), "\(refused.stderr)")
    }
}
